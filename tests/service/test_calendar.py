import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import Engine
from sqlmodel import select

from paperradar.app import App
from paperradar.deliver.delivery_time import first_delivery_at
from paperradar.errors import FeedError
from paperradar.service import runs
from paperradar.service import scheduler as service
from paperradar.service.calendar import due_days, fire_times, pipeline_trigger, retry_delay
from paperradar.settings import ArxivSettings, ScheduleSettings
from paperradar.store import locks
from paperradar.store.db import session_scope
from paperradar.store.records import PipelineLock, Run
from paperradar.store.states import RunStatus

NEW_YORK = ZoneInfo("America/New_York")
SETTINGS = ScheduleSettings()
TTL = timedelta(minutes=2)


def new_york(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def _record(engine: Engine, day: date, status: RunStatus, at: datetime) -> None:
    with session_scope(engine) as session:
        session.add(
            Run(day=day, status=status, trigger="test", holder="h", started_at=at, finished_at=at)
        )


def _due(engine: Engine, now: datetime, settings: ScheduleSettings = SETTINGS) -> list[date]:
    with session_scope(engine) as session:
        return [entry.day for entry in due_days(session, settings, now)]


def test_pipeline_fires_monday_to_friday_after_arxivs_sunday_to_thursday_announcements() -> None:
    week = fire_times(
        pipeline_trigger(SETTINGS), new_york(date(2025, 10, 12), 0), new_york(date(2025, 10, 19), 0)
    )
    local = [fire.astimezone(NEW_YORK) for fire in week]
    assert [fire.strftime("%a %H:%M") for fire in local] == [
        "Mon 01:30",
        "Tue 01:30",
        "Wed 01:30",
        "Thu 01:30",
        "Fri 01:30",
    ]


def test_a_digest_goes_out_at_the_first_delivery_time_after_its_announcement() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    monday, friday = date(2025, 10, 13), date(2025, 10, 17)
    tuesday_9am = datetime(2025, 10, 14, 9, 0, tzinfo=shanghai)
    assert first_delivery_at(monday, "09:00", SETTINGS) == tuesday_9am
    assert first_delivery_at(friday, "09:00", SETTINGS) == datetime(
        2025, 10, 20, 9, 0, tzinfo=shanghai
    )
    # Monday's feed is out at 12:00 in Shanghai: a 21:00 reader gets it the same evening.
    assert first_delivery_at(monday, "21:00", SETTINGS) == datetime(
        2025, 10, 13, 21, 0, tzinfo=shanghai
    )
    in_new_york = ScheduleSettings(delivery_timezone="America/New_York")
    assert first_delivery_at(monday, "09:00", in_new_york) == new_york(monday, 9)


def test_a_new_installation_starts_with_the_latest_day_not_a_backlog(engine: Engine) -> None:
    saturday_noon = new_york(date(2025, 10, 18), 12)
    assert _due(engine, saturday_noon) == [date(2025, 10, 17)]
    before_the_feed = new_york(date(2025, 10, 15), 1, 0)
    assert _due(engine, before_the_feed) == [date(2025, 10, 14)]


def test_days_missed_during_downtime_are_caught_up_oldest_first(engine: Engine) -> None:
    monday = date(2025, 10, 13)
    _record(engine, monday, RunStatus.OK, new_york(monday, 1, 31))
    friday_noon = new_york(date(2025, 10, 17), 12)
    week = ScheduleSettings(catch_up_days=7)
    assert _due(engine, friday_noon, week) == [date(2025, 10, 14) + timedelta(n) for n in range(4)]
    # Older days fall out of the window (three days by default).
    assert _due(engine, friday_noon) == [date(2025, 10, 15), date(2025, 10, 16), date(2025, 10, 17)]


def test_finished_days_are_not_run_again_and_dry_runs_do_not_count(engine: Engine) -> None:
    monday, tuesday = date(2025, 10, 13), date(2025, 10, 14)
    _record(engine, monday, RunStatus.OK, new_york(monday, 1, 31))
    with session_scope(engine) as session:
        session.add(Run(day=tuesday, status=RunStatus.OK, trigger="cli", holder="h", dry_run=True))
    assert _due(engine, new_york(tuesday, 9)) == [tuesday]
    _record(engine, tuesday, RunStatus.OK, new_york(tuesday, 1, 40))
    assert _due(engine, new_york(tuesday, 9)) == []


def test_a_failed_day_retries_after_a_doubling_delay(engine: Engine) -> None:
    monday, tuesday = date(2025, 10, 13), date(2025, 10, 14)
    _record(engine, monday, RunStatus.OK, new_york(monday, 1, 31))
    first_failure = new_york(tuesday, 1, 31)
    _record(engine, tuesday, RunStatus.FAILED, first_failure)
    assert _due(engine, first_failure + timedelta(minutes=29)) == []
    assert _due(engine, first_failure + timedelta(minutes=30)) == [tuesday]
    second_failure = first_failure + timedelta(minutes=31)
    _record(engine, tuesday, RunStatus.FAILED, second_failure)
    assert _due(engine, second_failure + timedelta(minutes=59)) == []
    assert _due(engine, second_failure + timedelta(minutes=60)) == [tuesday]
    assert retry_delay(SETTINGS, 20) == timedelta(minutes=SETTINGS.retry_max_minutes)


def test_lock_is_exclusive_until_released_or_expired(engine: Engine) -> None:
    now = datetime.now(UTC)
    assert locks.acquire(engine, "t", ttl=TTL, now=now)
    assert not locks.acquire(engine, "t", ttl=TTL, now=now)
    assert locks.renew(engine, "t", ttl=TTL, now=now)
    locks.release(engine, "t")
    assert locks.acquire(engine, "t", ttl=TTL, now=now)
    # Another host's holder that stopped renewing: free once expired, not before.
    with session_scope(engine) as session:
        lock = session.get_one(PipelineLock, "t")
        lock.holder = "elsewhere:1:abc"
        session.add(lock)
    assert not locks.acquire(engine, "t", ttl=TTL, now=now + TTL - timedelta(seconds=1))
    assert locks.acquire(engine, "t", ttl=TTL, now=now + TTL + timedelta(seconds=1))
    locks.release(engine, "t")


def test_lock_of_a_dead_process_on_this_host_is_freed_at_once(engine: Engine) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_holder = f"{locks.process_holder().split(':')[0]}:{finished.stdout.strip()}:dead"
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(
            PipelineLock(
                name="t", holder=dead_holder, acquired_at=now, expires_at=now + timedelta(hours=1)
            )
        )
    assert locks.acquire(engine, "t", ttl=TTL, now=now)
    locks.release(engine, "t")


def test_busy_pipeline_says_who_holds_it(engine: Engine) -> None:
    day = date(2025, 10, 15)
    with (
        locks.held(engine, locks.PIPELINE, ttl=TTL),
        pytest.raises(locks.LockBusyError) as busy,
        runs.recorded(engine, day, trigger="t", dry_run=False, lock_ttl=TTL),
    ):
        pass
    assert locks.process_holder() in str(busy.value)
    assert locks.describe(engine, locks.PIPELINE) is None


def test_run_records_the_failing_stage_and_marks_dead_runs_interrupted(engine: Engine) -> None:
    day = date(2025, 10, 15)
    with session_scope(engine) as session:
        session.add(
            Run(day=day, status=RunStatus.RUNNING, trigger="cli", holder="x", stage="embeddings")
        )
    with (
        pytest.raises(FeedError),
        runs.recorded(engine, day, trigger="schedule", dry_run=False, lock_ttl=TTL) as log,
    ):
        log.begin("fetch")
        raise FeedError("feed is malformed")
    with session_scope(engine) as session:
        dead, failed = session.exec(select(Run).order_by(Run.id)).all()  # type: ignore[arg-type]
    assert dead.status == RunStatus.INTERRUPTED
    assert "embeddings" in (dead.error or "")
    assert failed.status == RunStatus.FAILED
    assert failed.stage == "fetch"
    assert failed.error == "FeedError: feed is malformed"


def test_job_store_keeps_a_missed_run_and_fires_it_once_on_start(
    context: App, tmp_path: Path
) -> None:
    empty_feed = tmp_path / "empty.jsonl"
    empty_feed.write_text("", encoding="utf-8")
    settings = context.settings.model_copy(update={"arxiv": ArxivSettings(feed_file=empty_feed)})
    svc = service.Service(replace(context, settings=settings))
    before_downtime = service.build_scheduler(svc)
    missed = datetime.now(UTC) - timedelta(minutes=5)
    before_downtime.modify_job("pipeline", next_run_time=missed)

    # The process stops here (never resumed); a new one keeps the stored next run time.
    scheduler = service.build_scheduler(svc)
    assert scheduler.get_job("pipeline").next_run_time == missed
    fired = threading.Event()

    def executed(event: JobExecutionEvent) -> None:
        if event.job_id == "pipeline":
            fired.set()

    scheduler.add_listener(executed, EVENT_JOB_EXECUTED)
    service._SERVICES[svc.name] = svc
    try:
        scheduler.remove_job("catch-up")
        scheduler.resume()
        assert fired.wait(60)
        assert scheduler.get_job("pipeline").next_run_time > datetime.now(UTC)
    finally:
        scheduler.shutdown(wait=True)
        before_downtime.shutdown(wait=False)
        service._SERVICES.pop(svc.name, None)
