"""/follow, /unfollow, /following: the authors a chat follows (docs/people.md), in zh and en."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot import actions, views
from bot.handlers import _chat, _reply, call, core, words_for
from paperradar.app import App
from paperradar.i18n import Words
from paperradar.readers import follows
from paperradar.readers.authors import Identity, identities
from paperradar.readers.topics import own_profile_name
from paperradar.store.db import session_scope

# People of one name a /follow reply lists at most.
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


def followed_text(result: Followed, t: Words) -> str:
    """The reply to /follow: what is followed and, for a shared name, whom to pin."""
    name = views.echo(result.name)
    if result.pin is not None:
        return t("people.follow.pinned", name=name, paper=views.escape(result.pin))
    if len(result.people) < 2:
        return t("people.follow.done", name=name)
    lines = [t("people.follow.several", count=len(result.people), name=name)]
    for person in result.people[:SHOWN_PEOPLE]:
        paper = views.escape(person.papers[-1])
        coauthors = t.join(views.echo(n) for n in person.shown) or t("people.follow.alone")
        count = len(person.papers)
        line = t(
            "people.follow.person", count=count, paper=paper, coauthors=coauthors, papers=count
        )
        lines.append(f"• {line}\n  <code>/follow {name} {paper}</code>")
    return "\n".join(lines)


def error_reply(error: follows.FollowError, t: Words, text: str) -> str:
    """A refused /follow in the user's language."""
    if isinstance(error, follows.TooManyFollows):
        return t("people.follow.too_many", limit=follows.MAX_FOLLOWS)
    if isinstance(error, follows.PinMismatch):
        found = follows.parse_follow(text)
        pin = views.escape(found.pin or "")
        return t("people.follow.pin_mismatch", paper=pin, name=views.echo(found.written))
    return t("people.follow.not_a_name")


async def follow_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle /follow <name> [arXiv id]."""
    t = await words_for(update, context)
    text = " ".join(context.args or [])
    if not text:
        await _reply(update, t, views.escape(t("people.follow.usage")))
        return
    try:
        result = await call(follow, core(context), _chat(update), text)
    except follows.FollowError as error:
        await _reply(update, t, error_reply(error, t, text))
        return
    await _reply(update, t, followed_text(result, t))


async def unfollow_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle /unfollow <name>."""
    t = await words_for(update, context)
    text = " ".join(context.args or [])
    if not text:
        await _reply(update, t, views.escape(t("people.unfollow.usage")))
        return
    removed = await call(unfollow, core(context), _chat(update), text)
    name = views.echo(text)
    if removed:
        await _reply(update, t, t("people.unfollow.done", name=name))
    else:
        await _reply(update, t, t("people.unfollow.unknown", name=name))


async def following_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle /following."""
    t = await words_for(update, context)
    rows = await call(following, core(context), _chat(update))
    if not rows:
        await _reply(update, t, views.escape(t("people.following.none")))
        return
    lines = [t("people.following.list")]
    for row in rows:
        pin = f" · {views.escape(row.pin)}" if row.pin else ""
        lines.append(f"• {views.echo(row.written)}{pin}")
    await _reply(update, t, "\n".join(lines))


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
COMMANDS: dict[str, Handler] = {
    "follow": follow_command,
    "unfollow": unfollow_command,
    "following": following_command,
}
