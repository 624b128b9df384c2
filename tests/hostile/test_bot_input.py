"""Hostile and malformed input to the bot: the real PTB Application on a loopback Bot API.

Each case sends one message or presses one button and checks the same three things: nothing
logged a traceback, every reply fits Telegram's limit and parses with the user's markup
escaped, and the database changed only where the case says it should. One bot (on SQLite)
answers every case; the cases use their own chats, so their order does not matter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import SQLModel, col, select
from support.bot_api import (
    MAX_TEXT,
    BotApiServer,
    Chat,
    Sent,
    bot_api_server,
    check_html,
    running_bot,
)
from support.outbox import seed_digest, telegram_context, telegram_settings
from support.views import HOSTILE_ID, TOPICS

from bot import actions, views
from paperradar.app import App
from paperradar.embed.embeddings import Embedder
from paperradar.i18n import words
from paperradar.profiles.profile import Profile
from paperradar.readers import topics
from paperradar.settings import Settings
from paperradar.store.db import create_db_engine, migrate, session_scope
from paperradar.store.records import CustomTopic, Feedback, Match, Subscription

REPO_ROOT = Path(__file__).resolve().parents[2]
PROFILE = Profile(name="default", topics=dict(TOPICS))
STARTED, TOPIC_CHAT, STOPPED, OTHER, UNKNOWN, ADMIN, GROUP = (
    3001,
    3002,
    3003,
    3004,
    3005,
    9000,
    -3006,
)
TABLES: tuple[type[SQLModel], ...] = (Subscription, CustomTopic, Feedback)
# Characters no reply may carry: NUL and other controls, bidi overrides, terminal escapes.
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
FORMAT = "&lt;name&gt;: &lt;description&gt;"
NOT_ACTIVE = "send /start"
STALE_BUTTON = words("en")("bot.stale_button")


@dataclass(frozen=True)
class Harness:
    """The running bot, its app, a digest part with vote buttons, and another chat's pick."""

    server: BotApiServer
    app: App
    part: Sent
    up: str
    foreign_match: int


@dataclass(frozen=True)
class Say:
    """A message to the bot and what must come of it."""

    chat: int
    text: str
    says: str | None = None  # in the one reply; None: no reply at all
    raw: tuple[str, ...] = ()  # user markup that must not come back unescaped
    adds: tuple[str, str] | None = None  # (title, description) of the one own topic it adds
    user: int | None = None


@dataclass(frozen=True)
class Press:
    """A button press (callback data; `{up}` and `{foreign}` are filled in) and its answer."""

    chat: int
    data: str
    says: str


MESSAGES: dict[str, Say] = {
    "huge search": Say(STARTED, "/search " + "<b>x</b> " * 700, "at most 300", ("<b>x",)),
    "html search": Say(
        STARTED, "/search <script>alert(1)</script> model merging", "&lt;script&gt;", ("<script",)
    ),
    "markdown search": Say(STARTED, "/search **merging** [x](javascript:alert(1))", "Closest"),
    "rtl override search": Say(STARTED, "/search \u202emodel merging\u202c", "Closest"),
    "control character search": Say(STARTED, "/search model\x00 merging\x07\x1b[31m", "Closest"),
    "empty search": Say(STARTED, "/search", "usage: /search"),
    "blank search": Say(STARTED, "/search   \n\t ", "usage: /search"),
    "search from an unknown chat": Say(UNKNOWN, "/search merging", NOT_ACTIVE),
    "today from an unknown chat": Say(UNKNOWN, "/today", NOT_ACTIVE),
    "today@bot from an unknown chat": Say(UNKNOWN, "/today@paperradar_test_bot", NOT_ACTIVE),
    "stop from an unknown chat": Say(UNKNOWN, "/stop", NOT_ACTIVE),
    "settings from an unknown chat": Say(UNKNOWN, "/settings", NOT_ACTIVE),
    "today from a stopped chat": Say(STOPPED, "/today", NOT_ACTIVE),
    "settings from a stopped chat": Say(STOPPED, "/settings language en", NOT_ACTIVE),
    "topic add from a stopped chat": Say(STOPPED, "/topic add Agents: tools", NOT_ACTIVE),
    "subscribe from a stopped chat": Say(STOPPED, "/subscribe long_context", NOT_ACTIVE),
    "unknown command": Say(STARTED, "/frobnicate <b>now</b>", "don't know", ("<b>now",)),
    "unknown command that is markup": Say(STARTED, "/<script>", "don't know", ("<script",)),
    "help@bot": Say(STARTED, "/help@paperradar_test_bot", "/topic add"),
    "help@another bot in a group": Say(GROUP, "/help@another_bot"),
    "start@another bot in a group": Say(GROUP, "/start@another_bot"),
    "unknown command@another bot": Say(STARTED, "/frobnicate@another_bot"),
    "plain text in a group": Say(GROUP, "hello <b>everyone</b>"),
    "plain text from an unknown chat": Say(UNKNOWN, "<script>hi</script>", "/help"),
    "huge plain text": Say(STARTED, "x" * 5000, "/help"),
    "topic with only a name": Say(
        TOPIC_CHAT,
        "/topic add Diffusion",
        "<code>diffusion</code>",
        adds=("Diffusion", "Diffusion"),
    ),
    "topic with only a colon": Say(TOPIC_CHAT, "/topic add :", FORMAT),
    "topic with only a pipe": Say(TOPIC_CHAT, "/topic add |", FORMAT),
    # No name colon outside the link: one sentence, kept as text (Telegram HTML makes no link).
    "topic that is a javascript link": Say(
        TOPIC_CHAT,
        "/topic add [x](javascript:alert(1))",
        "[x](javascript:alert(1))",
        ("<a",),
        adds=("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
    ),
    "topic with only keywords": Say(TOPIC_CHAT, "/topic add name: ; keywords: a", "empty"),
    "topic with a huge name": Say(TOPIC_CHAT, "/topic add " + "N" * 5000 + ": d", "keep the name"),
    "topic with markup": Say(
        TOPIC_CHAT,
        "/topic add <b>Bold</b> agents: <i>LLM</i> agents & tools",
        "&lt;b&gt;Bold&lt;/b&gt;",
        ("<b>Bold", "<i>LLM"),
        adds=("<b>Bold</b> agents", "<i>LLM</i> agents & tools"),
    ),
    "topic with a pipe": Say(
        TOPIC_CHAT,
        "/topic add Tool use | LLM agents: tools and APIs",
        "<code>tool_use</code>",
        adds=("Tool use", "LLM agents: tools and APIs"),
    ),
    "topic with a url": Say(
        TOPIC_CHAT,
        "/topic add World models: see https://example.org/a:b",
        "<code>world_models</code>",
        adds=("World models", "see https://example.org/a:b"),
    ),
    "topic with rtl and control characters": Say(
        TOPIC_CHAT,
        "/topic add \u202eSafety\x00 evals: red\x07 teaming",
        "<code>safety_evals</code>",
        adds=("Safety evals", "red teaming"),
    ),
    "topic show with a huge key": Say(STARTED, "/topic show " + "k" * 5000, "no topic"),
    "topic show with markup": Say(STARTED, "/topic show <b>x</b>", "no topic", ("<b>x",)),
    "topic remove unknown": Say(STARTED, "/topic remove <i>x</i>", "No such topic"),
    "topic with a bad verb": Say(STARTED, "/topic <script>", "usage: /topic", ("<script",)),
    "subscribe with markup": Say(
        STARTED, "/subscribe <script>alert(1)</script>", "no topic", ("<script",)
    ),
    "subscribe with a huge key": Say(STARTED, "/subscribe " + "a" * 5000, "no topic"),
    "unsubscribe unknown": Say(STARTED, "/unsubscribe nope", "not subscribed"),
    "settings min over 100": Say(STARTED, "/settings min 150", "0-100"),
    "settings min negative": Say(STARTED, "/settings min -5", "0-100"),
    "settings time with markup": Say(STARTED, "/settings time <b>25:00</b>", "HH:MM", ("<b>25",)),
    "settings zone as a path": Say(STARTED, "/settings zone ../../etc/passwd", "unknown time zone"),
    "settings huge language": Say(STARTED, "/settings language " + "zh" * 3000, "zh, en or both"),
    "settings language with rtl": Say(STARTED, "/settings language \u202een", "zh, en or both"),
    "settings unknown field": Say(STARTED, "/settings colour blue", "usage: /settings"),
    "settings too many values": Say(STARTED, "/settings min 10 20", "usage: /settings"),
    "shared add by a reader": Say(STARTED, "/shared add <b>x</b>: y", "Only admins", ("<b>x",)),
    "broadcast by a reader": Say(STARTED, "/broadcast <script>", "Only admins"),
    "shared add with only a colon": Say(STARTED, "/shared add Agents:", FORMAT, user=ADMIN),
}

PRESSES: dict[str, Press] = {
    "garbage data": Press(STARTED, "hello", STALE_BUTTON),
    "empty data": Press(STARTED, "", STALE_BUTTON),
    "markup as data": Press(STARTED, "<script>alert(1)</script>", STALE_BUTTON),
    "data over 64 bytes": Press(STARTED, "fb:+:" + "1" * 100, STALE_BUTTON),
    "a vote that is neither up nor down": Press(STARTED, "fb:x:1", STALE_BUTTON),
    "a pick of another chat's own topic": Press(STARTED, "fb:+:{foreign}", "not sent to this"),
    "a pick that does not exist": Press(STARTED, "fb:-:999999999999999999", "not sent to this"),
    "a vote from an unknown chat": Press(UNKNOWN, "{up}", NOT_ACTIVE),
    "a vote from a stopped chat": Press(STOPPED, "{up}", NOT_ACTIVE),
}


def snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every subscription, own topic and vote, as plain values."""
    with session_scope(engine) as session:
        return {
            model.__name__: [row.model_dump(mode="json") for row in session.exec(select(model))]
            for model in TABLES
        }


@pytest.fixture(scope="module")
def harness(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: Embedder,
    bilingual_day: list[dict[str, Any]],
) -> Iterator[Harness]:
    folder = tmp_path_factory.mktemp("hostile_bot")
    settings = Settings(
        data_dir=folder / "var",
        database_url=f"sqlite:///{folder / 'paperradar.sqlite3'}",
        prompts_dir=REPO_ROOT / "prompts",
        profiles_dir=REPO_ROOT / "profiles",
        migrations_dir=REPO_ROOT / "db",
    )
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine, settings.migrations_dir)
    seed_digest(engine, PROFILE, bilingual_day[:6], hostile=True, embedder=embedder)
    with bot_api_server() as server:
        app = telegram_context(
            telegram_settings(settings, server, admin_user_ids=[ADMIN]), engine, embedder, [PROFILE]
        )
        with running_bot(app):
            for chat in (STARTED, TOPIC_CHAT, STOPPED, OTHER):
                Chat(server, chat).ask("/start")
            Chat(server, STOPPED).ask("/stop")
            parts = Chat(server, STARTED).say(
                "/today", replies=len(actions.today(app, str(STARTED)))
            )
            part = next(part for part in parts if part.reply_markup)
            assert part.reply_markup is not None
            up = part.reply_markup["inline_keyboard"][0][0]["callback_data"]
            yield Harness(server, app, part, up, _foreign_match(engine))
    engine.dispose()


def _foreign_match(engine: Engine) -> int:
    """Store a pick under OTHER's own topic: a match id no other chat may vote on."""
    with session_scope(engine) as session:
        other = session.exec(select(Subscription).where(Subscription.recipient == str(OTHER))).one()
        some = session.exec(select(Match).order_by(col(Match.id))).first()
        assert some is not None
        match = Match(
            paper_id=HOSTILE_ID,
            profile=topics.own_profile_name(other),
            topic="secret",
            day=some.day,
            score=0.5,
            percent=50,
            reason="keywords: secret",
        )
        session.add(match)
        session.flush()
        assert match.id is not None
        return match.id


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


def _check_reply(text: str, raw: tuple[str, ...]) -> None:
    assert len(text.encode("utf-16-le")) // 2 <= MAX_TEXT
    assert check_html(text) is None, text[:300]
    assert text != words("en")("bot.error.broken") and "Traceback" not in text
    assert not UNSAFE.search(text), text[:300]
    for markup in raw:
        assert markup not in text


@pytest.mark.parametrize("case", MESSAGES.values(), ids=MESSAGES.keys())
def test_hostile_messages_get_a_short_escaped_reply_and_change_only_what_they_should(
    harness: Harness, case: Say, caplog: pytest.LogCaptureFixture
) -> None:
    engine = harness.app.engine
    before = snapshot(engine)
    chat = Chat(harness.server, case.chat, user_id=case.user)
    replies = chat.replies_to(case.text, replies=0 if case.says is None else 1)
    for reply in replies:
        _check_reply(reply.text, case.raw)
        assert case.says is not None and case.says in reply.text, reply.text[:300]
    _no_traceback(caplog)
    after = snapshot(engine)
    added = [row for row in after["CustomTopic"] if row not in before["CustomTopic"]]
    assert [(row["title"], row["description"]) for row in added] == (
        [case.adds] if case.adds else []
    )
    after["CustomTopic"] = before["CustomTopic"]
    assert after == before


@pytest.mark.parametrize("case", PRESSES.values(), ids=PRESSES.keys())
def test_hostile_button_presses_are_answered_briefly_and_record_nothing(
    harness: Harness, case: Press, caplog: pytest.LogCaptureFixture
) -> None:
    server, engine = harness.server, harness.app.engine
    before = snapshot(engine)
    answered, edited = len(server.state.answers), len(server.state.edits)
    data = case.data.format(up=harness.up, foreign=harness.foreign_match)
    server.push_button(replace(harness.part, chat_id=case.chat), data)
    server.wait_for(lambda state: len(state.answers) > answered, f"the answer to {data!r}")
    answer = server.state.answers[answered].get("text", "")
    assert case.says in answer and len(answer) <= views.MAX_ANSWER
    assert len(server.state.edits) == edited
    assert snapshot(engine) == before
    _no_traceback(caplog)
