import sqlite3
from dataclasses import replace
from pathlib import Path

from paperradar.app import App
from paperradar.service import fire
from paperradar.service import scheduler as service
from paperradar.settings import Settings
from paperradar.store.db import create_db_engine, migrate

# A SQLite database written by PaperRadar before its modules moved into stage packages, as
# SQL text: its scheduler jobs name the function they run by the textual reference of that time.
BEFORE_LAYOUT = Path(__file__).parents[1] / "fixtures" / "databases" / "before_layout.sql"


def test_jobs_stored_before_the_layout_change_still_load_and_name_the_same_function(
    context: App, settings: Settings, tmp_path: Path
) -> None:
    database = tmp_path / "old.sqlite3"
    restored = sqlite3.connect(database)
    restored.executescript(BEFORE_LAYOUT.read_text(encoding="utf-8"))
    restored.close()
    engine = create_db_engine(f"sqlite:///{database}")
    migrate(engine, settings.migrations_dir)
    scheduler = service.build_scheduler(service.Service(replace(context, engine=engine)))
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"pipeline", "catch-up", "deliver"}
        assert {job.func_ref for job in jobs.values()} == {"paperradar.service:fire"}
        assert all(job.func is fire for job in jobs.values())
    finally:
        scheduler.shutdown(wait=False)


def test_new_jobs_are_stored_under_the_public_name_that_outlives_moves(context: App) -> None:
    scheduler = service.build_scheduler(service.Service(context))
    try:
        assert {job.func_ref for job in scheduler.get_jobs()} == {service.JOB_FUNCTION}
    finally:
        scheduler.shutdown(wait=False)
