"""The outbox: per-recipient topics, per-part progress, retries, SIGKILLed runs losing nothing."""

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine
from sqlmodel import select
from support.bot_api import BotApiServer, Failure, Sent, check_html
from support.crashpoints import Child, CommitPoint, write_sitecustomize
from support.outbox import seed_digest, telegram_context, telegram_settings
from support.papers import json_lines
from support.views import DAY, TOPICS

from paperradar.app import App, with_current_profiles
from paperradar.deliver import outbox as delivery
from paperradar.embed.embeddings import Embedder
from paperradar.profiles.profile import Profile, load_profiles
from paperradar.readers import follows, topics
from paperradar.readers.subscriptions import deactivate, subscribe
from paperradar.service import pipeline
from paperradar.service.pipeline import run_stage
from paperradar.settings import ArxivSettings, ScheduleSettings, Settings
from paperradar.store.db import session_scope
from paperradar.store.records import Delivery, FeedDay, Match, Subscription
from paperradar.store.states import DayStatus, DeliveryStatus, DigestLanguage

REPO_ROOT = Path(__file__).resolve().parents[2]
PROFILE = Profile(name="default", topics=dict(TOPICS))
ALICE, BOB, CAROL = 101, 102, 103


def _subscribe_three(engine: Engine) -> None:
    """Alice reads both topics, Bob model merging, Carol long context in English only."""
    with session_scope(engine) as session:
        subscribe(session, channel="telegram", recipient=str(ALICE), profile=PROFILE)
        subscribe(
            session,
            channel="telegram",
            recipient=str(BOB),
            profile=PROFILE,
            topics=["model_merging"],
        )
        carol = subscribe(
            session,
            channel="telegram",
            recipient=str(CAROL),
            profile=PROFILE,
            topics=["long_context"],
        )
        carol.language = DigestLanguage.EN


def _deliveries(engine: Engine) -> dict[str, Delivery]:
    with session_scope(engine) as session:
        rows = session.exec(select(Delivery)).all()
        for row in rows:
            session.expunge(row)
        return {row.recipient: row for row in rows}


def _texts(sent: list[Sent]) -> list[str]:
    return [message.text for message in sent]


@pytest.fixture
def outbox(
    settings: Settings,
    engine: Engine,
    embedder: Embedder,
    bot_api: BotApiServer,
    bilingual_day: list[dict[str, Any]],
) -> App:
    seed_digest(engine, PROFILE, bilingual_day[:24], hostile=True)
    _subscribe_three(engine)
    return telegram_context(telegram_settings(settings, bot_api), engine, embedder, [PROFILE])


def test_a_run_delivers_each_chat_only_its_topics_escaped(
    outbox: App, bot_api: BotApiServer
) -> None:
    report = run_stage(outbox, "delivery", DAY)
    assert report.details["planned"] == report.details["delivered"] == 3
    rows = _deliveries(outbox.engine)
    alice, bob, carol = (_texts(bot_api.sent_to(chat)) for chat in (ALICE, BOB, CAROL))
    assert "模型融合" in "".join(alice) and "长上下文" in "".join(alice)
    assert "Long context" not in "".join(bob) and "长上下文" not in "".join(bob)
    assert "Model merging" not in "".join(carol) and "模型融合" not in "".join(carol)
    assert "&lt;script&gt;" in "".join(alice + bob) and "<script" not in "".join(alice + bob)
    for chat, texts in ((ALICE, alice), (BOB, bob), (CAROL, carol)):
        row = rows[str(chat)]
        assert row.status == DeliveryStatus.SENT and row.sent_at is not None
        assert row.parts_sent == row.parts_total == len(texts)
        assert all(check_html(text) is None for text in texts)
    assert len(alice) > 1


def test_a_second_run_sends_nothing_again(outbox: App, bot_api: BotApiServer) -> None:
    run_stage(outbox, "delivery", DAY)
    count = len(bot_api.state.sent)
    report = run_stage(outbox, "delivery", DAY)
    assert report.written == 0 and report.details["planned"] == 0
    assert len(bot_api.state.sent) == count


def test_a_retryable_error_keeps_the_part_for_the_next_run_with_its_error(
    outbox: App, bot_api: BotApiServer
) -> None:
    bot_api.fail_next(ALICE, Failure(502, "Bad Gateway"))
    first = run_stage(outbox, "delivery", DAY)
    row = _deliveries(outbox.engine)[str(ALICE)]
    assert first.details["retrying"] == 1 and first.details["delivered"] == 2
    assert (row.status, row.parts_sent, row.attempts) == (DeliveryStatus.PENDING, 0, 1)
    assert "part 1/" in (row.last_error or "") and "Bad Gateway" in (row.last_error or "")
    second = run_stage(outbox, "delivery", DAY)
    row = _deliveries(outbox.engine)[str(ALICE)]
    assert second.details["delivered"] == 1
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 2, None)
    assert _texts(bot_api.sent_to(ALICE)) == [part["text"] for part in row.parts]


def test_a_part_failing_midway_resumes_at_that_part_on_the_next_run(
    outbox: App, bot_api: BotApiServer
) -> None:
    bot_api.fail_next(ALICE, None, Failure(500, "Internal Server Error"))
    run_stage(outbox, "delivery", DAY)
    row = _deliveries(outbox.engine)[str(ALICE)]
    assert (row.status, row.parts_sent) == (DeliveryStatus.PENDING, 1)
    assert row.parts_total > 2
    run_stage(outbox, "delivery", DAY)
    row = _deliveries(outbox.engine)[str(ALICE)]
    assert row.status == DeliveryStatus.SENT
    assert _texts(bot_api.sent_to(ALICE)) == [part["text"] for part in row.parts]
    assert row.message_ids == [str(sent.message_id) for sent in bot_api.sent_to(ALICE)]


def test_a_blocked_chat_fails_for_good_and_an_unsubscribed_one_is_skipped(
    outbox: App, bot_api: BotApiServer
) -> None:
    bot_api.block(BOB)
    with session_scope(outbox.engine) as session:
        delivery.plan_deliveries(session, outbox.outbox(), DAY)
        deactivate(session, channel="telegram", recipient=str(CAROL))
    report = run_stage(outbox, "delivery", DAY)
    rows = _deliveries(outbox.engine)
    assert report.details["failed"] == 2 and report.note is not None
    assert rows[str(BOB)].status == DeliveryStatus.FAILED
    assert "blocked by the user" in (rows[str(BOB)].last_error or "")
    assert rows[str(CAROL)].status == DeliveryStatus.FAILED
    assert rows[str(CAROL)].last_error == "the recipient unsubscribed"
    assert not bot_api.sent_to(CAROL)
    run_stage(outbox, "delivery", DAY)
    assert len(bot_api.sent_to(BOB)) == 0


@pytest.mark.slow
def test_each_chat_gets_the_digest_at_its_first_delivery_time_after_the_announcement(
    outbox: App, bot_api: BotApiServer
) -> None:
    with session_scope(outbox.engine) as session:
        row = session.exec(select(Subscription).where(Subscription.recipient == str(BOB))).one()
        row.delivery_time = "20:30"
        row = session.exec(select(Subscription).where(Subscription.recipient == str(CAROL))).one()
        row.timezone = "Europe/Berlin"
        delivery.plan_deliveries(session, outbox.outbox(), DAY)
    # Wednesday's announcement is in the feed from 00:00 in New York: 06:00 in Berlin, 12:00 in
    # Shanghai. At 20:00 in Shanghai, Carol's 09:00 in Berlin has passed, Bob's 20:30 has not
    # come, and Alice's 09:00 is Thursday's.
    evening = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)
    report = delivery.deliver_due(outbox.outbox(), now=evening)
    assert (report.details["delivered"], report.details["waiting"]) == (1, 2)
    assert bot_api.sent_to(CAROL) and not bot_api.sent_to(BOB)
    report = delivery.deliver_due(outbox.outbox(), now=evening + timedelta(minutes=31))
    assert (report.details["delivered"], report.details["waiting"]) == (1, 1)
    assert bot_api.sent_to(BOB) and not bot_api.sent_to(ALICE)
    thursday_morning = datetime(2025, 10, 16, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    report = delivery.deliver_due(outbox.outbox(), now=thursday_morning - timedelta(minutes=1))
    assert report.details["waiting"] == 1 and not bot_api.sent_to(ALICE)
    report = delivery.deliver_due(outbox.outbox(), now=thursday_morning)
    assert report.details["delivered"] == 1 and bot_api.sent_to(ALICE)


def test_parts_go_round_robin_across_chats_and_each_chat_waits_its_interval(
    settings: Settings, engine: Engine, embedder: Embedder, bot_api: BotApiServer, outbox: App
) -> None:
    paced = telegram_settings(settings, bot_api, chat_interval_seconds=0.5)
    ctx = telegram_context(paced, engine, embedder, [PROFILE])
    arrivals: list[tuple[float, int]] = []
    bot_api.on_send = lambda sent: arrivals.append((time.monotonic(), sent.chat_id))
    run_stage(ctx, "delivery", DAY)
    chats = [chat for _, chat in arrivals]
    assert set(chats) == {ALICE, BOB, CAROL} and chats.count(ALICE) > 2
    # Every chat's first part goes out before any chat's second one.
    assert len(set(chats[:3])) == 3
    for chat in (ALICE, BOB, CAROL):
        times = [at for at, to in arrivals if to == chat]
        assert all(later - earlier >= 0.45 for earlier, later in pairwise(times)), chat
    assert all(row.status == DeliveryStatus.SENT for row in _deliveries(engine).values())


@pytest.mark.slow
def test_two_days_digests_reach_a_chat_one_after_the_other(
    outbox: App, bot_api: BotApiServer, bilingual_day: list[dict[str, Any]]
) -> None:
    later = DAY + timedelta(days=1)
    seed_digest(outbox.engine, PROFILE, bilingual_day[24:40], day=later)
    with session_scope(outbox.engine) as session:
        delivery.plan_deliveries(session, outbox.outbox(), DAY)
        delivery.plan_deliveries(session, outbox.outbox(), later)
    delivery.deliver_due(outbox.outbox(), day=later)
    with session_scope(outbox.engine) as session:
        rows = session.exec(
            select(Delivery).where(Delivery.recipient == str(ALICE)).order_by(Delivery.digest_id)
        ).all()
        expected = [part["text"] for row in rows for part in row.parts]
    assert len(rows) == 2 and all(row.status == DeliveryStatus.SENT for row in rows)
    assert _texts(bot_api.sent_to(ALICE)) == expected


@pytest.mark.slow
def test_two_delivery_processes_share_the_outbox_and_send_each_part_once(
    settings: Settings, engine: Engine, bot_api: BotApiServer, profiles_dir: Path, tmp_path: Path
) -> None:
    env = _env(settings, bot_api, profiles_dir, tmp_path)
    # One delivery per claim and a paced chat, so the two workers overlap and interleave.
    env.update(
        PAPERRADAR_SCHEDULE__DELIVERY_BATCH="1", PAPERRADAR_TELEGRAM__CHAT_INTERVAL_SECONDS="0.3"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "paperradar", "deliver", "--day", DAY.isoformat()],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    for chat, row in _deliveries(engine).items():
        assert row.status == DeliveryStatus.SENT and row.claimed_by is None
        assert _texts(bot_api.sent_to(int(chat))) == [part["text"] for part in row.parts]


def test_a_day_without_announcement_sends_a_short_note_only_when_asked(
    outbox: App, bot_api: BotApiServer, embedder: Embedder
) -> None:
    holiday = DAY + timedelta(days=1)
    with session_scope(outbox.engine) as session:
        session.add(FeedDay(day=holiday, status=DayStatus.NO_ANNOUNCEMENT, source="test"))
    seed_digest(outbox.engine, PROFILE, [], day=holiday)
    quiet = telegram_context(
        outbox.settings,
        outbox.engine,
        embedder,
        [PROFILE],
        schedule=ScheduleSettings(notify_no_announcement=False),
    )
    assert run_stage(quiet, "delivery", holiday).details["planned"] == 0
    report = run_stage(outbox, "delivery", holiday)
    assert report.details["planned"] == 3
    assert "No arXiv announcement" in bot_api.sent_to(CAROL)[-1].text


def test_a_chats_own_topics_reach_that_chat_alone(
    outbox: App, bot_api: BotApiServer, bilingual_day: list[dict[str, Any]]
) -> None:
    with session_scope(outbox.engine) as session:
        bob = session.exec(select(Subscription).where(Subscription.recipient == str(BOB))).one()
        spec = topics.parse_topic_spec("World models: LLM world models for agents")
        topics.add_topic(session, profile=topics.own_profile_name(bob), spec=spec, english=None)
    ctx = with_current_profiles(outbox)
    own = ctx.profiles[-1]
    assert own.name.startswith("sub-") and list(own.topics) == ["world_models"]
    seed_digest(ctx.engine, own, bilingual_day[:2])
    run_stage(ctx, "delivery", DAY)
    # A digest's header names its topics: the chat's own topic heads its own digest.
    assert sum("· World models</b>" in text for text in _texts(bot_api.sent_to(BOB))) == 1
    assert not any("World models" in text for text in _texts(bot_api.sent_to(ALICE)))


# --- crash tests: a real `paperradar deliver` process, SIGKILLed, then run again ---------


@pytest.fixture
def profiles_dir(engine: Engine, bilingual_day: list[dict[str, Any]], tmp_path: Path) -> Path:
    """The day's digest and three subscribers stored, and a profiles folder holding PROFILE,
    for `paperradar` child processes."""
    seed_digest(engine, PROFILE, bilingual_day[:24], hostile=True)
    _subscribe_three(engine)
    profiles_dir = tmp_path / "profiles"
    profiles_dir.mkdir()
    (profiles_dir / "default.yaml").write_text(
        yaml.safe_dump(PROFILE.model_dump(mode="json"), allow_unicode=True), encoding="utf-8"
    )
    return profiles_dir


def _env(
    settings: Settings, server: BotApiServer, profiles_dir: Path, extra_path: Path
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PAPERRADAR_")}
    env.update(
        PAPERRADAR_DATABASE_URL=settings.resolved_database_url,
        PAPERRADAR_DATA_DIR=str(settings.data_dir),
        PAPERRADAR_PROFILES_DIR=str(profiles_dir),
        PAPERRADAR_PROMPTS_DIR=str(REPO_ROOT / "prompts"),
        PAPERRADAR_MIGRATIONS_DIR=str(REPO_ROOT / "db"),
        PAPERRADAR_TELEGRAM__BOT_TOKEN=server.token,
        PAPERRADAR_TELEGRAM__BASE_URL=server.base_url,
        PAPERRADAR_TELEGRAM__MAX_RETRIES="0",
        PYTHONPATH=os.pathsep.join([str(extra_path), os.environ.get("PYTHONPATH", "")]),
    )
    return env


# Each run dies at one point: after the n-th part the server receives in that run (the part is
# in the chat, its commit not yet made), or at a commit of the delivery stage; the last one ends.
CRASHES = [
    ("commit", CommitPoint("delivery", "after", 1)),  # the queue is planned, nothing is sent
    ("send", 1),  # the first part of the first chat is in the chat, its commit not yet made
    ("commit", CommitPoint("delivery", "before", 4)),  # a part is out, its commit about to be
    ("send", 3),  # a later part, after parts of this run were committed
]


@pytest.mark.slow
def test_killed_delivery_runs_lose_no_digest_and_repeat_at_most_one_part_per_crash(
    settings: Settings, engine: Engine, bot_api: BotApiServer, profiles_dir: Path, tmp_path: Path
) -> None:
    args = ["deliver", "--day", DAY.isoformat()]
    crashes = 0
    for number, (kind, point) in enumerate([*CRASHES, ("none", None)]):
        child = Child()
        sends = iter(range(1, 10_000))
        target = point if kind == "send" else None
        bot_api.on_send = lambda _sent, child=child, sends=sends, target=target: (
            child.kill() if next(sends) == target else None
        )
        site = write_sitecustomize(
            tmp_path / f"site{number}",
            point if isinstance(point, CommitPoint) else None,
            tmp_path / f"commits{number}.log",
        )
        result = child.run(args, _env(settings, bot_api, profiles_dir, site), cwd=tmp_path)
        if kind == "none":
            assert result.returncode == 0, result.stderr[-3000:]
        else:
            assert result.returncode == -9, result.stderr[-3000:]
            crashes += 1

    rows = _deliveries(engine)
    repeats = 0
    for chat in (ALICE, BOB, CAROL):
        row = rows[str(chat)]
        assert row.status == DeliveryStatus.SENT and row.parts_sent == row.parts_total
        expected = [part["text"] for part in row.parts]
        received = _texts(bot_api.sent_to(chat))
        collapsed = [text for i, text in enumerate(received) if i == 0 or received[i - 1] != text]
        assert collapsed == expected, f"chat {chat} lost or reordered a part"
        repeats += len(received) - len(expected)
    # A kill while a part is in flight repeats exactly that part; a kill at a commit, at most one.
    in_flight = sum(kind == "send" for kind, _ in CRASHES)
    assert in_flight <= repeats <= crashes


@pytest.mark.slow
def test_a_pipeline_run_scores_a_chats_own_topic_and_delivers_both_digests(
    settings: Settings, engine: Engine, embedder: Embedder, bot_api: BotApiServer, tmp_path: Path
) -> None:
    demo = json_lines(REPO_ROOT / "src" / "paperradar" / "demo" / "cs_cl_lg_ai_2025-10-15.jsonl.gz")
    wanted = ("world model", "merg", "long-context", "self-evol", "agent")
    rows = [row for row in demo if any(word in row["title"].lower() for word in wanted)][:16]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    settings = telegram_settings(settings, bot_api).model_copy(
        update={"arxiv": ArxivSettings(feed_file=feed)}
    )
    shared = load_profiles(settings.profiles_dir)
    with session_scope(engine) as session:
        alice = subscribe(session, channel="telegram", recipient=str(ALICE), profile=shared[0])
        spec = topics.parse_topic_spec(
            "World models: LLM world models that simulate environments for agents; "
            "keywords: world model"
        )
        topics.add_topic(session, profile=topics.own_profile_name(alice), spec=spec, english=None)
        own_name = topics.own_profile_name(alice)
    ctx = telegram_context(settings, engine, embedder, shared)

    reports = {report.stage: report for report in pipeline.run_day(ctx, DAY)}

    assert reports["deliver"].details["delivered"] == 2
    with session_scope(engine) as session:
        own_picks = session.exec(
            select(Match).where(Match.profile == own_name, Match.topic == "world_models")
        ).all()
    assert own_picks, "the chat's own topic was not scored"
    texts = _texts(bot_api.sent_to(ALICE))
    headers = [text.split("\n")[0] for text in texts if "📡" in text]
    assert len(headers) == 2
    assert sum(header.endswith("· World models</b>") for header in headers) == 1


def test_a_chat_that_follows_an_author_gets_their_paper_first_in_its_shared_digest(
    outbox: App, bot_api: BotApiServer, bilingual_day: list[dict[str, Any]]
) -> None:
    author = bilingual_day[3]["authors"][-1]
    with session_scope(outbox.engine) as session:
        alice = session.exec(select(Subscription).where(Subscription.recipient == str(ALICE))).one()
        follows.add_follow(
            session, profile=topics.own_profile_name(alice), followed=follows.parse_follow(author)
        )
    run_stage(outbox, "delivery", DAY)
    alice_text = "".join(_texts(bot_api.sent_to(ALICE)))
    bob_text = "".join(_texts(bot_api.sent_to(BOB)))
    section = "你关注的人" if "你关注的人" in alice_text else "People you follow"
    assert section in alice_text and author in alice_text
    assert alice_text.index(section) < alice_text.index("━━", alice_text.index(section) + 20)
    assert "你关注的人" not in bob_text and "People you follow" not in bob_text
