"""/follow, /unfollow, /following: the authors a chat follows (docs/people.md), in zh and en."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot import actions, views
from bot.handlers import _chat, _reply, call, core
from paperradar.app import App
from paperradar.readers import follows
from paperradar.readers.authors import Identity, identities
from paperradar.readers.topics import own_profile_name
from paperradar.store.db import session_scope

# Every reader-facing text of these commands, by language (to the i18n catalog once it lands).
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "usage_follow": "usage: /follow <name as arXiv lists it> [arXiv id of one of their papers]",
        "usage_unfollow": "usage: /unfollow <name> (/following lists them)",
        "following": "Following <b>{name}</b>: their new papers come first in your digest.",
        "pinned": "Following <b>{name}</b>, the author of {paper}.",
        "several": "{count} people here are named <b>{name}</b>; you follow them all. "
        "To keep to one, pin one of their papers:",
        "person": "{paper} with {coauthors} ({papers} paper(s))",
        "pin_hint": "/follow {name} {paper}",
        "none": "You follow nobody yet: /follow <name>",
        "list": "<b>People you follow</b>:",
        "unfollowed": "Unfollowed <b>{name}</b>.",
        "not_followed": "You do not follow <b>{name}</b>: /following lists whom you do.",
        "not_a_name": "Give a first name or initial and a surname, as arXiv lists it "
        "(Jun-Yan Zhu, A. Del Maestro), optionally the arXiv id of one of their papers.",
        "too_many": "You follow {limit} authors, the most a chat may: /unfollow one first.",
        "pin_mismatch": "{paper} does not list {name} among its authors.",
        "alone": "no co-author",
    },
    "zh": {
        "usage_follow": "用法：/follow <arXiv 上的姓名> [其某篇论文的 arXiv 编号]",
        "usage_unfollow": "用法：/unfollow <姓名>（/following 列出已关注的作者）",
        "following": "已关注 <b>{name}</b>：其新论文会排在摘要最前面。",
        "pinned": "已关注 <b>{name}</b>，即 {paper} 的作者。",
        "several": "这里有 {count} 位作者名叫 <b>{name}</b>，您现在关注全部。"
        "只关注其中一位，请用其论文编号固定：",
        "person": "{paper}，合作者 {coauthors}（{papers} 篇）",
        "pin_hint": "/follow {name} {paper}",
        "none": "您还没有关注任何作者：/follow <姓名>",
        "list": "<b>您关注的作者</b>：",
        "unfollowed": "已取消关注 <b>{name}</b>。",
        "not_followed": "您没有关注 <b>{name}</b>：/following 列出已关注的作者。",
        "not_a_name": "请按 arXiv 上的写法给出名和姓（Jun-Yan Zhu、A. Del Maestro），"
        "可在后面加上其某篇论文的 arXiv 编号。",
        "too_many": "每个聊天最多关注 {limit} 位作者：请先 /unfollow 一位。",
        "pin_mismatch": "{paper} 的作者中没有 {name}。",
        "alone": "无合作者",
    },
}
# People of one name listed in a reply, and co-authors shown for each.
SHOWN_PEOPLE = 5


@dataclass(frozen=True)
class Followed:
    """What /follow stored, and the people of that name the archive knows."""

    name: str
    pin: str | None
    people: tuple[Identity, ...]


def follow(app: App, chat: str, text: str) -> Followed:
    """Follow an author for the chat; the people of the name come back for a collision."""
    followed = follows.parse_follow(text)
    with session_scope(app.engine) as session:
        subscription = actions.active_subscription(session, chat)
        follows.add_follow(session, profile=own_profile_name(subscription), followed=followed)
        people = (
            ()
            if followed.pin
            else tuple(identities(followed.name, follows.papers_by_name(session, followed.name)))
        )
    return Followed(followed.written, followed.pin, people)


def unfollow(app: App, chat: str, text: str) -> bool:
    """Stop following an author; False when the chat did not follow that name."""
    with session_scope(app.engine) as session:
        subscription = actions.active_subscription(session, chat)
        removed = follows.remove_follow(session, profile=own_profile_name(subscription), text=text)
        return removed is not None


def following(app: App, chat: str) -> list[follows.Followed]:
    """The authors the chat follows, oldest first."""
    with session_scope(app.engine) as session:
        subscription = actions.active_subscription(session, chat)
        return follows.chat_follows(session, own_profile_name(subscription))


def language(update: Update) -> str:
    """The language of the user who asked: zh for any Chinese locale, else en."""
    code = (update.effective_user.language_code if update.effective_user else None) or "en"
    return "zh" if code.lower().startswith("zh") else "en"


def followed_text(result: Followed, texts: dict[str, str]) -> str:
    """The reply to /follow: what is followed and, for a shared name, whom to pin."""
    name = views.echo(result.name)
    if result.pin is not None:
        return texts["pinned"].format(name=name, paper=views.escape(result.pin))
    if len(result.people) < 2:
        return texts["following"].format(name=name)
    lines = [texts["several"].format(count=len(result.people), name=name)]
    for person in result.people[:SHOWN_PEOPLE]:
        paper = person.papers[-1]
        coauthors = ", ".join(views.echo(n) for n in person.shown) or texts["alone"]
        line = texts["person"].format(
            paper=views.escape(paper), coauthors=coauthors, papers=len(person.papers)
        )
        hint = texts["pin_hint"].format(name=name, paper=views.escape(paper))
        lines.append(f"• {line}\n  <code>{hint}</code>")
    return "\n".join(lines)


def error_reply(error: follows.FollowError, texts: dict[str, str], text: str) -> str:
    """A refused /follow in the user's language."""
    if isinstance(error, follows.TooManyFollows):
        return texts["too_many"].format(limit=follows.MAX_FOLLOWS)
    if isinstance(error, follows.PinMismatch):
        found = follows.parse_follow(text)
        pin = views.escape(found.pin or "")
        return texts["pin_mismatch"].format(paper=pin, name=views.echo(found.written))
    return texts["not_a_name"]


async def follow_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle /follow <name> [arXiv id]."""
    texts = TEXTS[language(update)]
    text = " ".join(context.args or [])
    if not text:
        await _reply(update, views.escape(texts["usage_follow"]))
        return
    try:
        result = await call(follow, core(context), _chat(update), text)
    except follows.FollowError as error:
        await _reply(update, error_reply(error, texts, text))
        return
    await _reply(update, followed_text(result, texts))


async def unfollow_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle /unfollow <name>."""
    texts = TEXTS[language(update)]
    text = " ".join(context.args or [])
    if not text:
        await _reply(update, views.escape(texts["usage_unfollow"]))
        return
    removed = await call(unfollow, core(context), _chat(update), text)
    key = "unfollowed" if removed else "not_followed"
    await _reply(update, texts[key].format(name=views.echo(text)))


async def following_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle /following."""
    texts = TEXTS[language(update)]
    rows = await call(following, core(context), _chat(update))
    if not rows:
        await _reply(update, views.escape(texts["none"]))
        return
    lines = [texts["list"]]
    for row in rows:
        pin = f" · {views.escape(row.pin)}" if row.pin else ""
        lines.append(f"• {views.echo(row.written)}{pin}")
    await _reply(update, "\n".join(lines))


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
COMMANDS: dict[str, Handler] = {
    "follow": follow_command,
    "unfollow": unfollow_command,
    "following": following_command,
}
