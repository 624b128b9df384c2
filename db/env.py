"""Alembic environment: the schema is SQLModel.metadata, the database comes from Settings."""

from alembic import context
from sqlmodel import SQLModel

from paperradar.settings import load_settings
from paperradar.store import records  # noqa: F401  (registers the tables on SQLModel.metadata)
from paperradar.store.db import create_db_engine

target_metadata = SQLModel.metadata


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    """Run the migrations on one connection; SQLite needs batch mode to alter tables."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = create_db_engine(load_settings().resolved_database_url)
    with engine.begin() as own_connection:
        run_migrations(own_connection)
