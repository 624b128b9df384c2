"""/follow, /unfollow, /following through the real bot on the loopback Bot API, in en and zh."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from support.bot_api import BotApiServer, Chat, check_html, running_bot
from support.outbox import telegram_context, telegram_settings
from support.views import TOPICS

from paperradar.app import App
from paperradar.compose.people import people_items, subscription_follows
from paperradar.embed.embeddings import Embedder
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_announcements
from paperradar.profiles.profile import Profile
from paperradar.settings import Settings
from paperradar.store.db import session_scope
from paperradar.store.records import FollowedAuthor, Subscription

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_FEED = REPO_ROOT / "src" / "paperradar" / "demo" / "cs_cl_lg_ai_2025-10-16.jsonl.gz"
DAY = date(2025, 10, 16)
PROFILE = Profile(name="default", topics=dict(TOPICS))
ALICE, BOB = 2001, 2002


@pytest.fixture
def running(
    settings: Settings, engine: Engine, embedder: Embedder, bot_api: BotApiServer
) -> Iterator[App]:
    with session_scope(engine) as session:
        store_announcements(session, parse_feed(DEMO_FEED.read_bytes()).announcements, day=DAY)
    app = telegram_context(telegram_settings(settings, bot_api), engine, embedder, [PROFILE])
    with running_bot(app):
        yield app


def _follows(engine: Engine) -> list[tuple[str, str, str | None]]:
    with session_scope(engine) as session:
        rows = session.exec(select(FollowedAuthor).order_by(FollowedAuthor.id)).all()
        return [(row.profile, row.name, row.pinned_paper) for row in rows]


def _people_of(engine: Engine, chat: int) -> list[str]:
    with session_scope(engine) as session:
        subscription = session.exec(
            select(Subscription).where(Subscription.recipient == str(chat))
        ).one()
        follows = subscription_follows(session, subscription)
        items = people_items(session, profile=PROFILE, day=DAY, follows=follows)
        return [item.paper.arxiv_id for item in items]


def test_following_a_shared_name_lists_its_people_and_a_pin_keeps_to_one(
    running: App, bot_api: BotApiServer
) -> None:
    chat = Chat(bot_api, ALICE)
    chat.ask("/start")
    assert "You follow nobody yet" in chat.ask("/following")
    several = chat.ask("/follow Min Zhang")
    assert "4 people here are named <b>Min Zhang</b>" in several
    assert "<code>/follow Min Zhang 2510.12899</code>" in several
    assert "Kun Kuang" in several
    assert _people_of(running.engine, ALICE) == [
        "2510.12899",
        "2510.13276",
        "2510.13344",
        "2510.13363",
    ]
    pinned = chat.ask("/follow Min Zhang 2510.12899")
    assert pinned == "Following <b>Min Zhang</b>, the author of 2510.12899."
    assert _people_of(running.engine, ALICE) == ["2510.12899"]
    assert "Following <b>Barbara Plank</b>" in chat.ask("/follow Barbara Plank")
    listed = chat.ask("/following")
    assert "• Min Zhang · 2510.12899" in listed and "• Barbara Plank" in listed
    assert [name for _, name, _ in _follows(running.engine)] == ["Min Zhang", "Barbara Plank"]
    assert "Unfollowed <b>min zhang</b>" in chat.ask("/unfollow min zhang")
    assert "You do not follow <b>Nobody Here</b>" in chat.ask("/unfollow Nobody Here")
    assert _people_of(running.engine, ALICE) == ["2510.12817"]


def test_the_commands_answer_in_chinese_to_a_chinese_reader(
    running: App, bot_api: BotApiServer
) -> None:
    chat = Chat(bot_api, BOB)
    chat.ask("/start", language="zh-hans")
    assert "您还没有关注任何作者" in chat.ask("/following", language="zh-hans")
    several = chat.ask("/follow Zhang Min", language="zh-hans")
    assert "这里有 4 位作者名叫 <b>Zhang Min</b>" in several
    assert "已关注 <b>B. Plank</b>" in chat.ask("/follow B. Plank", language="zh-hans")
    assert "<b>您关注的作者</b>" in chat.ask("/following", language="zh-hans")
    assert "已取消关注" in chat.ask("/unfollow Zhang Min", language="zh-hans")
    assert "用法：/follow" in chat.ask("/follow", language="zh-hans")
    assert "请按 arXiv 上的写法" in chat.ask("/follow Zhang", language="zh-hans")
    mismatch = chat.ask("/follow Barbara Plank 2510.12899", language="zh-hans")
    assert mismatch == "2510.12899 的作者中没有 Barbara Plank。"


def test_refusals_and_hostile_names_are_one_escaped_line(
    running: App, bot_api: BotApiServer
) -> None:
    chat = Chat(bot_api, ALICE)
    assert "send /start" in chat.ask("/follow Min Zhang")
    chat.ask("/start")
    replies = [
        chat.ask("/follow"),
        chat.ask("/follow Zhang"),
        chat.ask("/follow Barbara Plank 2510.12899"),
        chat.ask("/follow <b>Eve</b> O'Hara"),
        chat.ask("/unfollow"),
    ]
    assert replies[0] == (
        "usage: /follow &lt;name as arXiv lists it&gt; [arXiv id of one of their papers]"
    )
    assert replies[1].startswith("Give a first name or initial and a surname")
    assert replies[2] == "2510.12899 does not list Barbara Plank among its authors."
    assert "&lt;b&gt;Eve&lt;/b&gt; O'Hara" in replies[3]
    for reply in replies:
        assert check_html(reply) is None
    assert _follows(running.engine)[0][1] == "<b>Eve</b> O'Hara"
