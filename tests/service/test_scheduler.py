"""A simulated week of `paperradar serve`: its jobs fire at their triggers' times on a fake clock.

The week of 2025-10-13 on real papers, with Thursday a holiday (arXiv announces nothing), a
crash on Wednesday (a real `paperradar run` SIGKILLed mid-pipeline, then a day of downtime)
and a failed run on Friday (the feed unreadable), which the admin chat hears about.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from support.bot_api import BotApiServer, Sent
from support.crashpoints import Child, CommitPoint, write_sitecustomize
from support.papers import json_lines
from support.processes import child_env

from paperradar.app import App
from paperradar.deliver.channels import build_channels
from paperradar.deliver.outbox import due_at
from paperradar.embed.embeddings import Embedder
from paperradar.i18n import words
from paperradar.profiles.profile import load_profiles
from paperradar.readers.subscriptions import subscribe
from paperradar.service import scheduler as service
from paperradar.service.calendar import fire_times
from paperradar.settings import ArxivSettings, ScheduleSettings, Settings, TelegramSettings
from paperradar.store.db import session_scope
from paperradar.store.records import Delivery, Digest, FeedDay, Run, ScheduledJob, Subscription
from paperradar.store.states import DayStatus, DeliveryStatus, RunStatus

# A simulated week of real runs, and `serve` as a real process.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_FEED = REPO_ROOT / "src" / "paperradar" / "demo" / "cs_cl_lg_ai_2025-10-15.jsonl.gz"
NEW_YORK = ZoneInfo("America/New_York")
WEEK = [date(2025, 10, 13) + timedelta(days=n) for n in range(5)]
MONDAY, TUESDAY, WEDNESDAY, HOLIDAY, FRIDAY = WEEK
START = datetime(2025, 10, 12, 12, 0, tzinfo=NEW_YORK)
# Friday's digest goes out on Monday morning in Shanghai at the latest.
END = datetime(2025, 10, 20, 0, 30, tzinfo=NEW_YORK)
CRASH = datetime(2025, 10, 15, 1, 30, tzinfo=NEW_YORK)
RESTART = datetime(2025, 10, 16, 10, 0, tzinfo=NEW_YORK)
FEED_LOST = datetime(2025, 10, 17, 1, 30, tzinfo=NEW_YORK)
CHATS = {"1001": None, "1002": "21:00", "1003": None}
ADMIN_CHAT = "999"
PAPERS_PER_DAY = 40
KEYWORDS = ("merg", "long-context", "long context", "self-evol", "self-improv", "fusion")


@dataclass
class FakeClock:
    """The service's clock: whatever time the simulation says it is."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


@dataclass
class Log:
    """Every part the Bot API accepted, with the simulated time it arrived."""

    clock: FakeClock
    parts: list[tuple[datetime, Sent]] = field(default_factory=list)

    def __call__(self, sent: Sent) -> None:
        self.parts.append((self.clock(), sent))

    def texts(self, chat: str) -> list[str]:
        return [sent.text for _, sent in self.parts if sent.chat_id == int(chat)]


def _week_feed(path: Path, corpus: Path) -> Path:
    """A few dozen real papers of each day, Thursday left out: arXiv's holiday."""
    rows: list[dict[str, object]] = []
    for day in (MONDAY, TUESDAY, WEDNESDAY, FRIDAY):
        papers = [row for row in json_lines(corpus) if row["date"] == day.isoformat()]
        on_topic = [p for p in papers if any(k in str(p["title"]).lower() for k in KEYWORDS)]
        rest = [p for p in papers if p not in on_topic]
        rows.extend((on_topic + rest)[:PAPERS_PER_DAY])
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def week_context(
    settings: Settings,
    engine: Engine,
    embedder: Embedder,
    bot_api: BotApiServer,
    arxiv_fixtures: Path,
    tmp_path: Path,
) -> Iterator[tuple[App, FakeClock]]:
    feed = _week_feed(
        tmp_path / "week.jsonl",
        arxiv_fixtures / "corpus" / "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl",
    )
    settings = settings.model_copy(
        update={
            "arxiv": ArxivSettings(feed_file=feed),
            "telegram": TelegramSettings(
                bot_token=bot_api.token, base_url=bot_api.base_url, max_retries=0
            ),
            "schedule": ScheduleSettings(delivery_check_minutes=60, admin_chat_ids=[ADMIN_CHAT]),
        }
    )
    clock = FakeClock()
    profiles = load_profiles(settings.profiles_dir)
    ctx = App(
        settings=settings,
        engine=engine,
        profiles=profiles,
        embedder=embedder,
        llm=None,
        channels=build_channels(settings),
        clock=clock,
    )
    default = next(profile for profile in profiles if profile.name == "default")
    with session_scope(engine) as session:
        # The service ran last week: Friday the 10th was its last day.
        last_friday = datetime(2025, 10, 10, 1, 31, tzinfo=NEW_YORK)
        session.add(
            Run(
                day=date(2025, 10, 10),
                status=RunStatus.OK,
                trigger="schedule",
                holder="before",
                started_at=last_friday,
                finished_at=last_friday,
            )
        )
        for chat, at in CHATS.items():
            topics = ["model_merging"] if chat == "1003" else None
            subscription = subscribe(
                session, channel="telegram", recipient=chat, profile=default, topics=topics
            )
            subscription.delivery_time = at
    yield ctx, clock


def _crash_a_real_run(ctx: App, folder: Path) -> None:
    """Run Wednesday's pipeline in a real process and SIGKILL it while it composes."""
    settings = ctx.settings
    hooks = write_sitecustomize(
        folder / "hooks", CommitPoint("digests", "before", 1), folder / "commits.log"
    )
    env = child_env(settings, PYTHONPATH=str(hooks))
    feed = str(settings.arxiv.feed_file)
    result = Child().run(["run", "--feed", feed, "--day", WEDNESDAY.isoformat()], env, cwd=folder)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]


def _simulate(ctx: App, clock: FakeClock, folder: Path) -> None:
    """Fire each job at its triggers' times, oldest first, with the crash and the downtime."""
    svc = service.Service(ctx)
    triggers = service.job_triggers(ctx.settings.schedule, START)
    ticks = sorted(
        (fire, job) for job, trigger in triggers.items() for fire in fire_times(trigger, START, END)
    )
    feed = ctx.settings.arxiv.feed_file
    assert feed is not None
    restarted = False
    for fire, job in ticks:
        clock.now = fire
        if CRASH <= fire < RESTART:
            if fire == CRASH and job == "pipeline":
                _crash_a_real_run(ctx, folder)
            continue  # the service is down
        if not restarted and fire >= RESTART:
            clock.now, restarted = RESTART, True
            svc = service.Service(ctx)  # a new process: catch up first, as on start
            service.JOBS["catch-up"](svc)
            clock.now = fire
        if fire == FEED_LOST:
            feed.rename(feed.with_suffix(".moved"))
        service.JOBS[job](svc)
        if fire == FEED_LOST:
            feed.with_suffix(".moved").rename(feed)


def test_a_simulated_week_with_a_holiday_and_a_crash_sends_each_digest_once(
    week_context: tuple[App, FakeClock], bot_api: BotApiServer, tmp_path: Path
) -> None:
    ctx, clock = week_context
    log = Log(clock)
    bot_api.on_send = log
    _simulate(ctx, clock, tmp_path)

    with session_scope(ctx.engine) as session:
        runs = session.exec(select(Run).order_by(Run.id)).all()  # type: ignore[arg-type]
        ok_days = {run.day for run in runs if run.status == RunStatus.OK}
        assert ok_days >= set(WEEK)
        statuses = Counter((run.day, run.status) for run in runs)
        assert statuses[(WEDNESDAY, RunStatus.INTERRUPTED)] == 1
        assert statuses[(FRIDAY, RunStatus.FAILED)] == 1
        assert session.get_one(FeedDay, HOLIDAY).status == DayStatus.NO_ANNOUNCEMENT
        digests = {digest.id: digest for digest in session.exec(select(Digest))}
        assert {d.day for d in digests.values() if d.profile == "default"} == set(WEEK)
        deliveries = session.exec(select(Delivery)).all()
        subscriptions = {s.recipient: s for s in session.exec(select(Subscription))}

    # Every subscriber has every day's digest (the holiday's says so), each sent once.
    for chat in CHATS:
        mine = [
            d
            for d in deliveries
            if d.recipient == chat and digests[d.digest_id].profile == "default"
        ]
        assert sorted(digests[d.digest_id].day for d in mine) == WEEK
        assert {d.status for d in mine} == {DeliveryStatus.SENT}
        texts = log.texts(chat)
        assert len(texts) == sum(d.parts_total for d in mine), "a part was sent twice or lost"
        assert len(set(texts)) == len(texts)
        for day in WEEK:
            said = {words(language).day(day) for language in ("zh", "en")}
            assert sum(any(f"{d} · " in text for d in said) for text in texts) == 1, (chat, day)
        quiet = ("arXiv 今天没有发布新论文", "No arXiv announcement today")
        assert sum(any(q in text for q in quiet) for text in texts) == 1

    # Nothing went out before the subscriber's time.
    for delivery in deliveries:
        digest = digests[delivery.digest_id]
        headers = {f"{words(language).day(digest.day)} · " for language in ("zh", "en")}
        sent = [
            at
            for at, part in log.parts
            if str(part.chat_id) == delivery.recipient
            and any(header in part.text for header in headers)
        ]
        subscription = subscriptions[delivery.recipient]
        assert sent and sent[0] >= due_at(digest.day, subscription, ctx.settings.schedule)

    # The admin chat heard about Friday's failed run once, and nothing else.
    admin = log.texts(ADMIN_CHAT)
    assert len(admin) == 1
    assert "the run for 2025-10-17 failed at fetch" in admin[0]
    assert "will retry after" in admin[0]


def test_serve_runs_the_scheduler_until_sigterm(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    # A feed of one paper of another day: today, nothing is announced.
    old_day = tmp_path / "old-day.jsonl"
    old_day.write_text(json.dumps(json_lines(DEMO_FEED)[0]) + "\n", encoding="utf-8")
    env = child_env(settings, PAPERRADAR_ARXIV__FEED_FILE=str(old_day))
    process = subprocess.Popen(
        [sys.executable, "-m", "paperradar", "serve", "--role", "scheduler"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # On start it catches up: the latest announcement day runs (here: nothing announced).
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            with session_scope(engine) as session:
                jobs = session.exec(select(ScheduledJob.id)).all()
                done = session.exec(select(Run).where(Run.status == RunStatus.OK)).all()
            if done and len(jobs) == 3:
                break
            time.sleep(0.5)
        assert sorted(jobs) == ["catch-up", "deliver", "pipeline"]
        assert done and done[0].trigger == "catch-up"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output[-3000:]
    assert "SIGTERM received; stopping" in output
