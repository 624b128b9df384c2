"""arXiv's calendar as triggers: which announcement days are due, and when a failed day retries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, func, select

from paperradar.errors import ConfigError
from paperradar.service.runs import failures_since_success, finished_days
from paperradar.settings import ScheduleSettings
from paperradar.store.records import Run

ONE_MICROSECOND = timedelta(microseconds=1)


def pipeline_trigger(settings: ScheduleSettings) -> CronTrigger:
    """Return the cron trigger of the pipeline, in arXiv's time zone."""
    try:
        return CronTrigger.from_crontab(
            settings.pipeline_cron, timezone=ZoneInfo(settings.timezone)
        )
    except ValueError as error:
        raise ConfigError(
            f"schedule.pipeline_cron {settings.pipeline_cron!r} is not a crontab line "
            f"({error}); e.g. '30 1 * * mon-fri' (set PAPERRADAR_SCHEDULE__PIPELINE_CRON)"
        ) from error


def fire_times(trigger: BaseTrigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """Yield the trigger's fire times in (start, end], oldest first."""
    fire: datetime | None = trigger.get_next_fire_time(None, start + ONE_MICROSECOND)
    while fire is not None and fire <= end:
        yield fire
        fire = trigger.get_next_fire_time(fire, fire + ONE_MICROSECOND)


def last_fire_time(trigger: BaseTrigger, now: datetime, *, within: timedelta) -> datetime | None:
    """Return the trigger's latest fire time at or before `now`, looking back at most `within`."""
    latest = None
    for fire in fire_times(trigger, now - within, now):
        latest = fire
    return latest


def announcement_day(fire: datetime, timezone: str) -> date:
    """Return the announcement day a pipeline fire time processes: its date in arXiv's zone."""
    return fire.astimezone(ZoneInfo(timezone)).date()


def retry_delay(settings: ScheduleSettings, failures: int) -> timedelta:
    """Return how long a day waits after its n-th failure: doubling, capped."""
    minutes = settings.retry_minutes * 2 ** max(failures - 1, 0)
    return timedelta(minutes=min(minutes, settings.retry_max_minutes))


@dataclass(frozen=True)
class DueDay:
    """An announcement day the pipeline should run now, and how often it has failed so far."""

    day: date
    failures: int


def _window_start(session: Session, settings: ScheduleSettings, now: datetime) -> datetime | None:
    """Where catching up starts: `catch_up_days` back, but never before the first run ever."""
    first = session.exec(select(func.min(Run.started_at))).one()
    if first is None:
        return None
    return max(now - timedelta(days=settings.catch_up_days), first)


def _announcement_days(session: Session, settings: ScheduleSettings, now: datetime) -> list[date]:
    trigger = pipeline_trigger(settings)
    lookback = timedelta(days=max(settings.catch_up_days, 7) + 1)
    start = _window_start(session, settings, now)
    if start is None:  # a new installation starts with the latest day, not a backlog
        latest = last_fire_time(trigger, now, within=lookback)
        return [] if latest is None else [announcement_day(latest, settings.timezone)]
    days = [announcement_day(fire, settings.timezone) for fire in fire_times(trigger, start, now)]
    return sorted(set(days))


def due_days(session: Session, settings: ScheduleSettings, now: datetime) -> list[DueDay]:
    """Return the announcement days to run now: on the calendar, unfinished, not backing off.

    A day is on the calendar when the pipeline trigger fired for it within the catch-up window,
    so downtime is caught up from the database alone, whatever the job store remembers.
    """
    days = _announcement_days(session, settings, now)
    finished = finished_days(session, days)
    due = []
    for day in days:
        if day in finished:
            continue
        failed = failures_since_success(session, day)
        if failed:
            last = failed[-1].finished_at or failed[-1].started_at
            if now < last + retry_delay(settings, len(failed)):
                continue
        due.append(DueDay(day, len(failed)))
    return due
