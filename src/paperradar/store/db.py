"""The database: engine, sessions, migrations and the upserts every stage shares."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, create_engine

from paperradar.errors import ConfigError, DatabaseError

# Rows per INSERT statement: SQLite allows 32,766 bound values per statement.
INSERT_BATCH = 500


def create_db_engine(url: str) -> Engine:
    """Create an engine; SQLite gets its folder, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    # A URI filename (`file:…?mode=ro`) names an existing database: nothing to create.
    if (
        parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseError(
                f"cannot create the database's folder {folder}: {error.strerror} "
                "(set PAPERRADAR_DATA_DIR or PAPERRADAR_DATABASE_URL to a writable place)"
            ) from None
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _enable_foreign_keys(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def migrate(engine: Engine, migrations_dir: Path) -> None:
    """Bring the schema to the latest Alembic revision (a no-op when it is current)."""
    if not (migrations_dir / "env.py").is_file():
        raise ConfigError(
            f"migrations dir not found: {migrations_dir} (set PAPERRADAR_MIGRATIONS_DIR)"
        )
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    migrating = _transactional_ddl(engine)
    try:
        with migrating.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as error:
        raise unusable_database(engine, error) from None
    finally:
        if migrating is not engine:
            migrating.dispose()


def _transactional_ddl(engine: Engine) -> Engine:
    """Return an engine whose transactions hold DDL too: a migration killed midway leaves
    nothing behind, and the next start runs it again from the beginning.

    PostgreSQL's DDL is transactional already. Python's sqlite3 commits before every CREATE
    TABLE on its own; with its transaction handling off, an explicit BEGIN covers them all.
    """
    if engine.dialect.name != "sqlite":
        return engine
    migrating = create_db_engine(engine.url.render_as_string(hide_password=False))

    @event.listens_for(migrating, "connect")
    def _no_implicit_transactions(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None

    @event.listens_for(migrating, "begin")
    def _begin(connection):  # type: ignore[no-untyped-def]
        # IMMEDIATE: two processes starting at once migrate one after the other.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return migrating


def unusable_database(engine: Engine, error: DBAPIError) -> DatabaseError:
    """Say in one line why the database cannot be used, without its password."""
    reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    where = engine.url.render_as_string(hide_password=True)
    return DatabaseError(
        f"cannot use the database {where}: {reason} (check PAPERRADAR_DATABASE_URL: is the "
        "server running, does the database exist, may PaperRadar write to it?)"
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def row_id(row: SQLModel) -> int:
    """Return a row's primary key, flushing first; a row without one is a bug."""
    session = Session.object_session(row)
    if session is not None:
        session.flush()
    value = getattr(row, "id", None)
    if not isinstance(value, int):
        raise RuntimeError(f"{type(row).__name__} has no id after flush")
    return value


def insert_missing(session: Session, rows: Sequence[SQLModel]) -> int:
    """Insert new rows of one table, skipping those whose unique key is already taken.

    Another process may be inserting the same rows at the same moment (two delivery workers
    planning one day): `ON CONFLICT DO NOTHING` lets both succeed. Returns how many were new.
    """
    if not rows:
        return 0
    table = type(rows[0])
    key = inspect(table).primary_key
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = [row.model_dump(exclude={"id"}) for row in rows]
    inserted = 0
    for start in range(0, len(values), INSERT_BATCH):
        statement = dialect.insert(table).values(values[start : start + INSERT_BATCH])
        # RETURNING counts the new rows on both backends (psycopg's rowcount says 0 here).
        new = session.execute(statement.on_conflict_do_nothing().returning(*key))
        inserted += len(new.all())
    return inserted
