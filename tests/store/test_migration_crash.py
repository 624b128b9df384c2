"""A process killed during the first migration leaves a database the next command can use."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from support.processes import child_env

from paperradar.settings import Settings
from paperradar.store.db import create_db_engine

# Kills the process at the n-th CREATE TABLE it sends, wherever in the migration that falls.
SITECUSTOMIZE = """
import os, signal
from sqlalchemy import event
from sqlalchemy.engine import Engine

TARGET = {target}
seen = [0]


@event.listens_for(Engine, "before_cursor_execute")
def _count(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        seen[0] += 1
        if seen[0] == TARGET:
            os.kill(os.getpid(), signal.SIGKILL)
"""


def _paperradar(
    settings: Settings, args: list[str], hooks: Path | None
) -> subprocess.CompletedProcess[str]:
    env = child_env(settings)
    if hooks is not None:
        env["PYTHONPATH"] = str(hooks)
    return subprocess.run(
        [sys.executable, "-m", "paperradar", *args], env=env, capture_output=True, text=True
    )


@pytest.mark.slow
@pytest.mark.parametrize("nth_table", [2, 8])
def test_a_first_migration_killed_midway_is_finished_by_the_next_command(
    settings: Settings, tmp_path: Path, nth_table: int
) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE.format(target=nth_table))

    killed = _paperradar(settings, ["db", "upgrade"], hooks)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    status = _paperradar(settings, ["status"], None)

    assert status.returncode == 0, status.stderr[-2000:]
    assert "Traceback" not in status.stderr
    tables = set(inspect(create_db_engine(settings.resolved_database_url)).get_table_names())
    assert {"alembic_version", "paper", "apscheduler_jobs", "textembedding"} <= tables
