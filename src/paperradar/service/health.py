"""The container health check: the database answers and no scheduled job is overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from paperradar.store.records import ScheduledJob

# A job this late means the scheduler's loop has stopped (jobs still running do not delay it).
OVERDUE = timedelta(minutes=10)


def health_problems(engine: Engine, now: datetime | None = None) -> list[str]:
    """Return what is wrong, if anything: an unreachable database or a stalled scheduler."""
    now = now or datetime.now(UTC)
    try:
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            late = session.exec(
                select(ScheduledJob.id).where(
                    col(ScheduledJob.next_run_time) < (now - OVERDUE).timestamp()
                )
            ).all()
    except SQLAlchemyError as error:
        return [f"database unreachable: {type(error).__name__}: {error}".splitlines()[0]]
    return [f"scheduled job {job_id!r} is overdue: is the scheduler running?" for job_id in late]
