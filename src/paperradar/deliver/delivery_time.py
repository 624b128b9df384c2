"""When a digest goes out: a recipient's delivery time, on delivery days, in their time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from paperradar.errors import ConfigError
from paperradar.settings import ScheduleSettings


def delivery_trigger(hhmm: str, days: str, timezone: str) -> CronTrigger:
    """Return the trigger of one delivery time: 'HH:MM' on these days, in that time zone."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    try:
        return CronTrigger(day_of_week=days, hour=hour, minute=minute, timezone=ZoneInfo(timezone))
    except ValueError as error:
        raise ConfigError(f"delivery days {days!r} are not like 'mon-fri': {error}") from error


def first_delivery_at(
    day: date, hhmm: str, settings: ScheduleSettings, timezone: str | None = None
) -> datetime:
    """Return when a digest of `day` goes out to a recipient whose time is 'HH:MM' in `timezone`
    (default: `settings.delivery_timezone`).

    That is the recipient's first delivery time, on a delivery day, after the announcement
    reaches the feed (midnight of `day` in arXiv's zone): with the defaults, Monday's digest
    goes out on Tuesday at 09:00 in Shanghai and Friday's on Monday.
    """
    available = datetime.combine(day, time(0), tzinfo=ZoneInfo(settings.timezone))
    zone = timezone or settings.delivery_timezone
    trigger = delivery_trigger(hhmm, settings.delivery_days, zone)
    fire: datetime = trigger.get_next_fire_time(None, available)
    return fire
