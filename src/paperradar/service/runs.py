"""Run records: one row per pipeline run with each stage's counts, what failed, and why."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from paperradar.reports import StageReport
from paperradar.settings.redaction import redact
from paperradar.store import locks
from paperradar.store.db import session_scope
from paperradar.store.records import Run, utc_now
from paperradar.store.states import RunStatus

logger = logging.getLogger(__name__)


class RunLog:
    """The open Run row of the current pipeline run; each call commits, so a crash keeps it."""

    def __init__(self, engine: Engine, run_id: int, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.run_id = run_id
        self.clock = clock
        self._stage_started = time.perf_counter()

    def _update(self, **values: object) -> None:
        with session_scope(self.engine) as session:
            run = session.get_one(Run, self.run_id)
            for name, value in values.items():
                setattr(run, name, value)
            session.add(run)

    def begin(self, stage: str) -> None:
        """Note the stage that starts now."""
        self._update(stage=stage)
        self._stage_started = time.perf_counter()

    def add(self, report: StageReport) -> None:
        """Append a finished stage's report, with the seconds it took."""
        seconds = round(time.perf_counter() - self._stage_started, 2)
        with session_scope(self.engine) as session:
            run = session.get_one(Run, self.run_id)
            stored = {**asdict(report), "note": redact(report.note) if report.note else None}
            run.reports = [*run.reports, {**stored, "seconds": seconds}]
            session.add(run)

    def finish(self, status: RunStatus, error: str | None = None) -> None:
        """Close the run with its outcome."""
        values: dict[str, object] = {"status": status, "finished_at": self.clock(), "error": error}
        if status == RunStatus.OK:
            values["stage"] = None
        self._update(**values)


def _mark_interrupted(session: Session) -> int:
    """Mark runs left 'running' as interrupted: the caller holds the lock, so none still runs."""
    stale = session.exec(select(Run).where(Run.status == RunStatus.RUNNING)).all()
    for run in stale:
        run.status = RunStatus.INTERRUPTED
        run.error = run.error or f"the process stopped during {run.stage or 'start-up'}"
        session.add(run)
    return len(stale)


def describe_error(error: BaseException) -> str:
    """Say what failed in one line: the error's type and message, every secret masked."""
    return redact(f"{type(error).__name__}: {error}")


@contextmanager
def recorded(
    engine: Engine,
    day: date,
    *,
    trigger: str,
    dry_run: bool,
    lock_ttl: timedelta,
    clock: Callable[[], datetime] = utc_now,
) -> Iterator[RunLog]:
    """Hold the pipeline lock and record a Run for the block: ok, or failed with the error."""
    with locks.held(engine, locks.PIPELINE, ttl=lock_ttl):
        with session_scope(engine) as session:
            interrupted = _mark_interrupted(session)
            run = Run(
                day=day,
                status=RunStatus.RUNNING,
                trigger=trigger,
                dry_run=dry_run,
                holder=locks.process_holder(),
                started_at=clock(),
            )
            session.add(run)
            session.flush()
            run_id = run.id
        if interrupted:
            logger.warning("run: %d earlier run(s) had stopped midway; resuming", interrupted)
        if run_id is None:
            raise RuntimeError("Run has no id after flush")
        log = RunLog(engine, run_id, clock)
        try:
            yield log
        except BaseException as error:
            log.finish(RunStatus.FAILED, describe_error(error))
            raise
        log.finish(RunStatus.OK)


def recent_runs(session: Session, *, limit: int) -> list[Run]:
    """Return the latest runs, newest first."""
    query = select(Run).order_by(col(Run.started_at).desc(), col(Run.id).desc()).limit(limit)
    return list(session.exec(query).all())


def finished_days(session: Session, days: list[date]) -> set[date]:
    """Return which of these days have a complete (not dry) successful run."""
    query = select(col(Run.day)).where(
        col(Run.day).in_(days), Run.status == RunStatus.OK, col(Run.dry_run).is_(False)
    )
    return set(session.exec(query).all())


def failures_since_success(session: Session, day: date) -> list[Run]:
    """Return the failed runs of a day since its last successful run, oldest first."""
    runs = session.exec(select(Run).where(Run.day == day).order_by(col(Run.id))).all()
    failed: list[Run] = []
    for run in runs:
        if run.status == RunStatus.OK and not run.dry_run:
            failed = []
        elif run.status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
            failed.append(run)
    return failed
