"""What the bot's commands do: plain synchronous calls into `paperradar`, one transaction each."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from paperradar.app import App, with_current_profiles
from paperradar.compose.digests import view_digest
from paperradar.deliver.channels import Message
from paperradar.deliver.channels.telegram import render_digest
from paperradar.deliver.outbox import view_for
from paperradar.errors import ConfigError, LLMOutputError, SourceUnavailableError
from paperradar.i18n import Language
from paperradar.llm.translation import LanguageError, english_for
from paperradar.profiles.profile import Profile
from paperradar.rank.learned import VoteEffect, vote_effect
from paperradar.rank.search import SearchHit, search_papers
from paperradar.readers import feedback, subscriptions, topics
from paperradar.readers.refusal import Refusal
from paperradar.store.db import session_scope
from paperradar.store.records import Digest, Subscription

CHANNEL = "telegram"
RECENT_PICK_DAYS = 14
# A search is a few words or a sentence; a pasted page is refused, not embedded.
MAX_QUERY = 300
logger = logging.getLogger(__name__)


class UsageError(Refusal):
    """A command's arguments are missing or malformed; the message is the usage line."""


class Unavailable(Refusal):
    """A service the command needs (the LLM) did not answer; the detail is in the log."""


class NotStarted(Refusal):
    """The chat never sent /start, or sent /stop since: only /start (re)activates a chat."""


@dataclass(frozen=True)
class ChatState:
    """A chat's subscription with the shared profile and its own topics, as of now."""

    subscription: Subscription
    shared: Profile
    own: Profile | None


def shared_profile(app: App) -> Profile:
    """The shared profile chats subscribe to, with the topics admins added."""
    current = with_current_profiles(app).profiles
    wanted = app.settings.telegram.profile
    for profile in current:
        if wanted is None and topics.subscription_id_of(profile.name) is None:
            return profile
        if profile.name == wanted:
            return profile
    raise ConfigError(f"the shared profile {wanted!r} does not exist (telegram.profile)")


def chat_language(app: App, chat: str | None, code: str | None) -> Language:
    """The language to answer a chat in (see `subscriptions.chat_language`)."""
    chosen = None
    if chat is not None:
        with session_scope(app.engine) as session:
            found = subscriptions.find_subscription(session, channel=CHANNEL, recipient=chat)
            chosen = found.language if found else None
    wanted = app.settings.telegram.profile
    named = [
        profile
        for profile in app.profiles
        if profile.name == wanted
        or (wanted is None and topics.subscription_id_of(profile.name) is None)
    ]
    return subscriptions.chat_language(chosen, code, named[0].languages if named else ())


def register(app: App, chat: str, code: str | None = None) -> tuple[ChatState, bool]:
    """Subscribe a chat to all shared topics unless it is active (/start); say if it is new.

    A chat that has not chosen a language gets its user's Telegram language (`code`), so its
    replies and digests follow it from now on.
    """
    profile = shared_profile(app)
    with session_scope(app.engine) as session:
        found = subscriptions.find_subscription(session, channel=CHANNEL, recipient=chat)
        is_new = found is None or not found.active
        if found is None or not found.active:
            # A stopped chat comes back with the shared topics it had chosen.
            kept = found is not None and found.profile == profile.name
            found = subscriptions.subscribe(
                session,
                channel=CHANNEL,
                recipient=chat,
                profile=profile,
                topics=[] if kept else None,
            )
        if found.language is None:
            found.language = subscriptions.language_from_code(code)
            session.add(found)
        return ChatState(found, profile, topics.own_profile(session, found)), is_new


def active_subscription(session: Session, chat: str) -> Subscription:
    """The chat's subscription if it is active; NotStarted (and nothing written) otherwise."""
    found = subscriptions.find_subscription(session, channel=CHANNEL, recipient=chat)
    if found is None:
        raise NotStarted("bot.refusal.not_started")
    if not found.active:
        raise NotStarted("bot.refusal.stopped")
    return found


def chat_state(app: App, chat: str) -> ChatState:
    """Return an active chat's state; NotStarted for a chat that never started or stopped."""
    profile = shared_profile(app)
    with session_scope(app.engine) as session:
        found = active_subscription(session, chat)
        return ChatState(found, profile, topics.own_profile(session, found))


def change_topics(app: App, chat: str, keys: list[str], *, add: bool) -> ChatState:
    """Subscribe an active chat to shared topics, or unsubscribe it from them."""
    profile = shared_profile(app)
    with session_scope(app.engine) as session:
        found = active_subscription(session, chat)
        if add:
            subscriptions.subscribe(
                session, channel=CHANNEL, recipient=chat, profile=profile, topics=keys
            )
        else:
            subscriptions.unsubscribe(session, channel=CHANNEL, recipient=chat, topics=keys)
        return ChatState(found, profile, topics.own_profile(session, found))


def update_settings(app: App, chat: str, field: str, value: str) -> Subscription:
    """Change one of the chat's delivery settings: language (lang), min, max, time or zone."""
    parsers = {
        "lang": ("language", subscriptions.parse_language),
        "language": ("language", subscriptions.parse_language),
        "min": ("min_percent", subscriptions.parse_percent),
        "max": ("max_items", subscriptions.parse_max_items),
        "time": ("delivery_time", subscriptions.parse_delivery_time),
        "zone": ("timezone", subscriptions.parse_timezone),
    }
    if field not in parsers:
        raise UsageError("bot.refusal.usage_settings")
    name, parse = parsers[field]
    with session_scope(app.engine) as session:
        found = active_subscription(session, chat)
        setattr(found, name, parse(value))
        session.add(found)
        return found


def today(app: App, chat: str) -> list[Message]:
    """Render the chat's latest digests (shared and own) as Telegram parts."""
    state = chat_state(app, chat)
    messages: list[Message] = []
    with session_scope(app.engine) as session:
        for profile in (state.shared, state.own):
            if profile is None:
                continue
            latest = session.exec(
                select(col(Digest.day))
                .where(Digest.profile == profile.name)
                .order_by(col(Digest.day).desc())
            ).first()
            view = view_digest(session, profile=profile, day=latest) if latest else None
            if view is not None:
                narrowed = view_for(view, state.subscription)
                messages += render_digest(narrowed)
    return messages


def english(app: App, texts: Sequence[str]) -> list[str] | None:
    """English for texts the embedding model cannot match as written (None: use them as-is).

    LanguageError when they need English and no LLM is configured. An LLM that fails is the
    operator's to see (logged); the reader is told translation is unavailable right now.
    """
    settings = app.settings
    try:
        return english_for(
            texts, embedding=settings.embedding, llm=app.llm, prompts_dir=settings.prompts_dir
        )
    except (SourceUnavailableError, LLMOutputError, ConfigError) as error:
        logger.warning("translation failed: %s", error)
        raise Unavailable("bot.refusal.translation_unavailable") from error


def search(app: App, chat: str, query: str) -> list[SearchHit]:
    """Search the stored papers (a query in another script is translated, or refused)."""
    if len(query) > MAX_QUERY:
        raise UsageError("bot.refusal.search_too_long", limit=MAX_QUERY, length=len(query))
    state = chat_state(app, chat)
    try:
        translated = english(app, [query])
    except LanguageError:
        raise UsageError("bot.refusal.search_needs_english") from None
    owned = [state.shared.name] + ([state.own.name] if state.own else [])
    with session_scope(app.engine) as session:
        return search_papers(
            session, app.embedder, translated[0] if translated else query, profiles=owned
        )


def vote(app: App, chat: str, user: str, data: str) -> tuple[int, VoteEffect | None]:
    """Record a feedback button press from an active chat; return its value and its effect."""
    shared = shared_profile(app).name
    with session_scope(app.engine) as session:
        found = active_subscription(session, chat)
        decoded = feedback.decode(data)
        allowed = [shared, topics.own_profile_name(found)]
        row = feedback.record_vote(
            session, decoded, channel=CHANNEL, user_id=user, chat=chat, allowed_profiles=allowed
        )
        profile = next((p for p in app.profiles if p.name == row.profile), None)
        effect = (
            vote_effect(session, profile, topic=row.topic, paper_id=row.paper_id, value=row.value)
            if profile
            else None
        )
        return row.value, effect


def broadcast_targets(app: App) -> list[str]:
    """Return every active Telegram subscriber's chat id."""
    with session_scope(app.engine) as session:
        return [
            row.recipient
            for row in subscriptions.list_subscriptions(session, channel=CHANNEL, active_only=True)
        ]


def stop(app: App, chat: str) -> None:
    """Stop all deliveries to an active chat (its topics are kept for a later /start)."""
    with session_scope(app.engine) as session:
        active_subscription(session, chat)
        subscriptions.deactivate(session, channel=CHANNEL, recipient=chat)
