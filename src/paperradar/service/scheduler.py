"""The long-running service: APScheduler jobs over a job store in the database, and what they do."""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from paperradar.app import App
from paperradar.deliver import outbox as delivery
from paperradar.deliver.channels import Message
from paperradar.errors import PaperRadarError
from paperradar.ingest import arxiv_api
from paperradar.reports import StageReport
from paperradar.service import pipeline
from paperradar.service.calendar import DueDay, due_days, pipeline_trigger, retry_delay
from paperradar.service.runs import describe_error, failures_since_success
from paperradar.settings import ScheduleSettings, Settings
from paperradar.store.db import session_scope
from paperradar.store.locks import LockBusyError
from paperradar.store.records import FeedDay

logger = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
NOTICE_LENGTH = 3500


class Outcome(StrEnum):
    """What became of one due day on one tick."""

    DONE = "done"
    FAILED = "failed"
    BUSY = "busy"


@dataclass
class Service:
    """The scheduler role's work: run due announcement days, then deliver what is due.

    `app.clock` is the service's notion of now; everything it decides is computed from it and
    the database, so a simulated week drives it with a fake clock.
    """

    app: App
    name: str = "default"
    # Channels are not thread-safe, and the pipeline's last stage delivers too: the scheduler's
    # threads take turns with them (a delivery check waits while a pipeline runs).
    _channels_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def deliver_due(self) -> StageReport:
        """Send every pending delivery whose recipient's local time has come."""
        with self._channels_lock:
            return delivery.deliver_due(self.app.outbox())

    def run_due(self, trigger: str = "schedule") -> dict[str, Outcome]:
        """Run every due announcement day, oldest first; a failure waits for its retry."""
        now = self.app.clock()
        with session_scope(self.app.engine) as session:
            due = due_days(session, self.app.settings.schedule, now)
        outcomes: dict[str, Outcome] = {}
        for index, entry in enumerate(due):
            kind = trigger if entry.failures == 0 else "retry"
            latest = index == len(due) - 1
            outcomes[entry.day.isoformat()] = self._run_one(entry, kind, latest=latest)
        return outcomes

    def _fill_past_day(self, entry: DueDay, *, latest: bool) -> None:
        """Fetch a missed day the RSS feed no longer carries from the arXiv API."""
        settings = self.app.settings
        if latest or settings.arxiv.feed_file is not None:
            return
        with session_scope(self.app.engine) as session:
            if session.get(FeedDay, entry.day) is not None:
                return
        logger.info("catch-up: %s is past the RSS feed; reading it from the arXiv API", entry.day)
        arxiv_api.backfill(self.app.engine, settings.arxiv, entry.day, entry.day)

    def _run_one(self, entry: DueDay, trigger: str, *, latest: bool) -> Outcome:
        finished, problem = False, "the process stopped"
        try:
            self._fill_past_day(entry, latest=latest)
            with self._channels_lock:
                pipeline.run_day(self.app, entry.day, trigger=trigger)
            finished = True
        except LockBusyError as error:
            logger.info("%s: %s", entry.day, error)
            finished = True  # another process is running it: nothing failed
            return Outcome.BUSY
        except PaperRadarError as error:
            logger.error("%s: the run failed: %s", entry.day, error)
            problem = describe_error(error)
            return Outcome.FAILED
        finally:
            # Any failure, a bug included, is told to the admins before it propagates.
            if not finished:
                self._tell_failure(entry, problem)
        return Outcome.DONE

    def _tell_failure(self, entry: DueDay, problem: str) -> None:
        with session_scope(self.app.engine) as session:
            failed = failures_since_success(session, entry.day)
        # A failure before the run began (the arXiv API backfill) has no Run row.
        stage, attempt = (failed[-1].stage or "start", len(failed)) if failed else ("fetch", 1)
        error = failed[-1].error if failed else problem
        retry_at = self.app.clock() + retry_delay(self.app.settings.schedule, attempt)
        self.tell_admins(
            f"PaperRadar: the run for {entry.day} failed at {stage} (attempt {attempt}): "
            f"{error}\nIt will retry after {retry_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC; "
            "`paperradar status` shows the details."
        )

    def tell_admins(self, text: str) -> None:
        """Send a notice to the admin chats on Telegram (and always to the log)."""
        logger.error("%s", text)
        channel = self.app.channels.get("telegram")
        chats = admin_chats(self.app.settings)
        if channel is None or not chats:
            return
        message = Message(text=html.escape(text[:NOTICE_LENGTH]), format="html")
        with self._channels_lock:
            try:
                for chat in chats:
                    try:
                        channel.send(message, chat)
                    except PaperRadarError as error:  # a channel error, or a rejected token
                        logger.error("notice to admin chat %s not sent: %s", chat, error)
            finally:
                channel.close()


def admin_chats(settings: Settings) -> list[str]:
    """Return the chats told about failed runs: configured, else the admins' private chats."""
    return settings.schedule.admin_chat_ids or [str(i) for i in settings.telegram.admin_user_ids]


# APScheduler's persistent job store keeps a textual reference to a module-level function and
# its picklable arguments, never a live object; so jobs name their service, which registers
# itself here when it starts. The reference is the package's public name, not this module's
# path, so databases written before a move of this module still load their jobs.
JOB_FUNCTION = "paperradar.service:fire"
_SERVICES: dict[str, Service] = {}
JOBS: dict[str, Callable[[Service], object]] = {
    "pipeline": lambda service: service.run_due("schedule"),
    "catch-up": lambda service: service.run_due("catch-up"),
    "deliver": lambda service: service.deliver_due(),
}


def fire(service_name: str, job: str) -> None:
    """Run one scheduled job on this process's live service of that name."""
    service = _SERVICES.get(service_name)
    if service is None:
        logger.warning("job %s fired but service %r is not running here", job, service_name)
        return
    JOBS[job](service)


def job_triggers(settings: ScheduleSettings, start: datetime) -> dict[str, BaseTrigger]:
    """Return each job's trigger: the pipeline on arXiv's calendar, catch-up, delivery checks."""
    every = settings.delivery_check_minutes
    return {
        "pipeline": pipeline_trigger(settings),
        "catch-up": IntervalTrigger(minutes=settings.retry_minutes, start_date=start),
        "deliver": CronTrigger(minute=f"*/{every}" if every < 60 else "0", timezone=UTC),
    }


def build_scheduler(service: Service) -> BackgroundScheduler:
    """Start the service's scheduler (paused), keeping stored jobs so missed runs still fire.

    A job already in the store with the same trigger keeps its next run time: after downtime
    APScheduler runs it once (coalesced) when it is within the misfire grace.
    """
    settings = service.app.settings.schedule
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=service.app.engine, tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.misfire_grace_seconds,
        },
        timezone=ZoneInfo(settings.timezone),
    )
    scheduler.start(paused=True)
    for job_id, trigger in job_triggers(settings, datetime.now(UTC)).items():
        stored = scheduler.get_job(job_id)
        if stored is not None and str(stored.trigger) == str(trigger):
            continue
        scheduler.add_job(
            JOB_FUNCTION,
            trigger,
            args=[service.name, job_id],
            id=job_id,
            name=job_id,
            replace_existing=True,
        )
    # Catch up at once on start; the interval then carries on from now.
    scheduler.modify_job("catch-up", next_run_time=datetime.now(ZoneInfo(settings.timezone)))
    return scheduler


def start(service: Service) -> BackgroundScheduler:
    """Register the service and run its scheduler in background threads."""
    _SERVICES[service.name] = service
    scheduler = build_scheduler(service)
    scheduler.resume()
    logger.info(
        "scheduler: pipeline on %r (%s); catch-up every %d min",
        service.app.settings.schedule.pipeline_cron,
        service.app.settings.schedule.timezone,
        service.app.settings.schedule.retry_minutes,
    )
    return scheduler


def stop(service: Service, scheduler: BackgroundScheduler) -> None:
    """Stop the scheduler without waiting for a running pipeline (a re-run resumes it)."""
    scheduler.shutdown(wait=False)
    _SERVICES.pop(service.name, None)


def next_runs(scheduler: BackgroundScheduler) -> dict[str, datetime | None]:
    """Return each job's next run time."""
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}
