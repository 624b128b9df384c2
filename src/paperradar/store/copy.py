"""Copy every row from one database to another (SQLite to PostgreSQL, say), checked by counts."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, Integer, Table, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from paperradar.errors import ConfigError
from paperradar.store import locks, records
from paperradar.store.db import migrate

logger = logging.getLogger(__name__)

BATCH_ROWS = 1000
# Process state, not data: a lock belongs to a process of the old database.
SKIPPED_TABLES = frozenset({records.PipelineLock.__tablename__})


def copied_tables() -> list[Table]:
    """Return the tables to copy, parents before children."""
    return [table for table in SQLModel.metadata.sorted_tables if table.name not in SKIPPED_TABLES]


def row_counts(connection: Connection, tables: list[Table]) -> dict[str, int]:
    """Count each table's rows."""
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in tables
    }


def _copy_table(source: Connection, target: Connection, table: Table) -> None:
    result = source.execution_options(yield_per=BATCH_ROWS).execute(select(table))
    for batch in result.partitions():
        target.execute(insert(table), [row._asdict() for row in batch])


def _reset_sequences(target: Connection, tables: list[Table]) -> None:
    """Move PostgreSQL's id sequences past the copied ids, so new rows get fresh ones."""
    if target.dialect.name != "postgresql":
        return
    for table in tables:
        if "id" not in table.c or not isinstance(table.c.id.type, Integer):
            continue
        target.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{table.name}"'
            )
        )


def _refuse_busy_or_filled(source: Engine, target: Connection, tables: list[Table]) -> None:
    holder = locks.describe(source, locks.PIPELINE)
    if holder is not None:
        raise ConfigError(
            f"a pipeline run holds the source database ({holder.holder}); "
            "stop `paperradar serve` and running jobs before moving the data"
        )
    filled = {name: count for name, count in row_counts(target, tables).items() if count}
    if filled:
        name, count = next(iter(filled.items()))
        raise ConfigError(
            f"the target database is not empty ({count} row(s) in {name}); "
            "copy into a new, empty database (e.g. CREATE DATABASE paperradar)"
        )


def copy_database(source: Engine, target: Engine, migrations_dir: Path) -> dict[str, int]:
    """Bring both schemas up to date and copy every table; return the rows copied per table."""
    migrate(source, migrations_dir)
    migrate(target, migrations_dir)
    tables = copied_tables()
    with source.connect() as reader, target.begin() as writer:
        _refuse_busy_or_filled(source, writer, tables)
        expected = row_counts(reader, tables)
        for table in tables:
            _copy_table(reader, writer, table)
            logger.info("migrate-to: %s: %d row(s)", table.name, expected[table.name])
        _reset_sequences(writer, tables)
    with target.connect() as checker:
        copied = row_counts(checker, tables)
    if copied != expected:
        differing = {
            name: (count, copied[name]) for name, count in expected.items() if count != copied[name]
        }
        raise ConfigError(f"the copy does not match the source (source, target): {differing}")
    return copied
