"""What `paperradar status` shows: the lock, the next jobs, recent runs, and pending deliveries."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from paperradar.service.runs import recent_runs
from paperradar.store import locks
from paperradar.store.db import session_scope
from paperradar.store.records import Delivery, Digest, Run, ScheduledJob, utc_now
from paperradar.store.states import DeliveryStatus

MAX_LISTED_DELIVERIES = 10


def _clock(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _counts(report: dict[str, object]) -> str:
    seconds = report.get("seconds")
    took = f" ({seconds:.1f} s)" if isinstance(seconds, int | float) else ""
    return f"{report.get('stage')} {report.get('written', 0)}{took}"


def format_run(run: Run) -> list[str]:
    """Describe one run: day, outcome, trigger, duration, each stage's count, notes and error."""
    took = ""
    if run.finished_at is not None:
        took = f" ({(run.finished_at - run.started_at).total_seconds():.0f} s)"
    dry = " dry-run" if run.dry_run else ""
    lines = [
        f"#{run.id} {run.day} {run.status.value:<11} {run.trigger}{dry} · "
        f"started {_clock(run.started_at)}{took}"
    ]
    if run.reports:
        lines.append("    " + " · ".join(_counts(report) for report in run.reports))
    lines.extend(
        f"    {report.get('stage')}: {report['note']}"
        for report in run.reports
        if report.get("note")
    )
    if run.error:
        lines.append(f"    failed at {run.stage or 'start'}: {run.error}")
    return lines


def _lock_line(engine: Engine) -> str:
    row = locks.describe(engine, locks.PIPELINE)
    if row is None:
        return "pipeline lock: free"
    return (
        f"pipeline lock: held by {row.holder} since {_clock(row.acquired_at)}, "
        f"expires {_clock(row.expires_at)}"
    )


def _job_lines(session: Session) -> list[str]:
    jobs = session.exec(select(ScheduledJob).order_by(col(ScheduledJob.id))).all()
    if not jobs:
        return ["scheduled jobs: none (start `paperradar serve`)"]
    lines = ["scheduled jobs:"]
    for job in jobs:
        when = (
            "paused"
            if job.next_run_time is None
            else _clock(datetime.fromtimestamp(job.next_run_time, UTC))
        )
        lines.append(f"  {job.id}: next at {when}")
    return lines


def _delivery_lines(session: Session) -> list[str]:
    waiting = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    counts = dict(
        session.exec(
            select(Delivery.status, func.count())
            .where(col(Delivery.status).in_(waiting))
            .group_by(col(Delivery.status))
        ).all()
    )
    if not counts:
        return ["deliveries: none pending"]
    lines = [
        "deliveries: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    ]
    rows = session.exec(
        select(Delivery, Digest)
        .join(Digest, col(Digest.id) == Delivery.digest_id)
        .where(col(Delivery.status).in_(waiting))
        .order_by(col(Delivery.id))
        .limit(MAX_LISTED_DELIVERIES)
    ).all()
    now = utc_now()
    for delivery, digest in rows:
        error = f"; last error: {delivery.last_error}" if delivery.last_error else ""
        if delivery.claimed_by and delivery.claimed_until and delivery.claimed_until > now:
            error += f"; being sent by {delivery.claimed_by}"
        lines.append(
            f"  {delivery.channel} → {delivery.recipient}: {digest.profile} {digest.day}, "
            f"{delivery.status.value}, {delivery.parts_sent}/{delivery.parts_total} part(s) sent, "
            f"{delivery.attempts} attempt(s){error}"
        )
    return lines


def status_lines(engine: Engine, *, runs: int) -> list[str]:
    """Return the status report, line by line."""
    lines = [_lock_line(engine)]
    with session_scope(engine) as session:
        lines.extend(_job_lines(session))
        recent = recent_runs(session, limit=runs)
        lines.append(f"last {len(recent)} run(s):" if recent else "runs: none yet")
        for run in recent:
            lines.extend("  " + line for line in format_run(run))
        lines.extend(_delivery_lines(session))
    return lines
