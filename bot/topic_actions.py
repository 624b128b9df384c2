"""The bot's topic commands: add (translated once, or kept in its own words), show, remove."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select

from bot.actions import (
    Unavailable,
    UsageError,
    active_subscription,
    chat_state,
    english,
    shared_profile,
)
from paperradar.app import App
from paperradar.llm.translation import LanguageError, needs_english
from paperradar.profiles.profile import Topic
from paperradar.readers import topics
from paperradar.store.db import session_scope
from paperradar.store.records import CustomTopic, Digest, DigestItem, Paper
from paperradar.text import clean_text, cut

logger = logging.getLogger(__name__)
# How much of a mistyped key a refusal quotes back.
SHOWN_KEY = 40


@dataclass(frozen=True)
class AddedTopic:
    """A topic just stored, and whether it waits for a translation to match well."""

    row: CustomTopic
    untranslated: bool


@dataclass(frozen=True)
class TopicDetails:
    """A topic as /topic show tells it: what it is and its recent picks."""

    key: str
    topic: Topic
    owner: str
    row: CustomTopic | None
    picks: tuple[tuple[date, int, Paper], ...]  # (day, rank, paper)


def _english_or_none(app: App, texts: list[str]) -> tuple[list[str] | None, bool]:
    """The topic's English, and whether it needed English that no LLM could give.

    Without an LLM the topic is kept in its own words (matched by its own keywords), and
    translated once an LLM is configured (`translate_waiting`).
    """
    try:
        return english(app, texts), False
    except LanguageError:
        return None, True


def add_own_topic(app: App, chat: str, text: str, user: str) -> AddedTopic:
    """Add a topic of the chat's own; text in another script is translated once if it can be.

    Its key keeps clear of the shared topics' keys, so /topic list never shows one key twice.
    """
    state = chat_state(app, chat)
    spec = topics.parse_topic_spec(text)
    translated, untranslated = _english_or_none(app, spec.texts)
    with session_scope(app.engine) as session:
        found = active_subscription(session, chat)
        row = topics.add_topic(
            session,
            profile=topics.own_profile_name(found),
            spec=spec,
            english=translated,
            reserved=list(state.shared.topics),
            created_by=user,
        )
        return AddedTopic(row, untranslated)


def add_shared_topic(app: App, text: str, user: str) -> AddedTopic:
    """Add a topic to the shared profile (admins only; the profile file is never rewritten).

    Its key keeps clear of every chat's own topic keys as well as the shared ones.
    """
    spec = topics.parse_topic_spec(text)
    translated, untranslated = _english_or_none(app, spec.texts)
    profile = shared_profile(app)
    with session_scope(app.engine) as session:
        row = topics.add_topic(
            session,
            profile=profile.name,
            spec=spec,
            english=translated,
            reserved=[*profile.topics, *topics.own_topic_keys(session)],
            created_by=user,
        )
        return AddedTopic(row, untranslated)


def translate_waiting(app: App) -> int:
    """Translate the topics kept in their own words for want of an LLM; return how many.

    Run when the bot starts: an operator who configures an LLM later gets every waiting topic
    matched in English from the next run. A failure is logged and tried again next start.
    """
    if app.llm is None:
        return 0
    with session_scope(app.engine) as session:
        rows = session.exec(select(CustomTopic).where(col(CustomTopic.title_en).is_(None))).all()
        waiting = [row for row in rows if any(map(needs_english, _texts(row)))]
        done = 0
        for row in waiting:
            try:
                translated = english(app, _texts(row))
            except Unavailable:
                break
            if translated:
                row.title_en, row.description_en = translated[0], translated[1]
                row.keywords_en = list(translated[2:])
                session.add(row)
                done += 1
    if done:
        logger.info("translated %d topic(s) kept in their own words", done)
    return done


def _texts(row: CustomTopic) -> list[str]:
    return topics.TopicSpec(row.title, row.description, tuple(row.keywords)).texts


def remove_topic(app: App, chat: str | None, key: str) -> bool:
    """Remove a chat's own topic (chat given) or an admin-added shared topic (chat None)."""
    if chat is None:
        owner = shared_profile(app).name
    else:
        owner = topics.own_profile_name(chat_state(app, chat).subscription)
    with session_scope(app.engine) as session:
        return topics.remove_topic(session, profile=owner, key=key)


def topic_details(app: App, chat: str, key: str) -> TopicDetails:
    """Describe one of the chat's own or subscribed topics with its recent picks."""
    state = chat_state(app, chat)
    for profile in (state.own, state.shared):
        if profile is not None and key in profile.topics:
            break
    else:
        raise UsageError("bot.refusal.no_topic_here", key=cut(clean_text(key), SHOWN_KEY))
    with session_scope(app.engine) as session:
        row = session.exec(
            select(CustomTopic).where(CustomTopic.profile == profile.name, CustomTopic.key == key)
        ).first()
        picks = session.exec(
            select(col(Digest.day), col(DigestItem.rank), Paper)
            .join(Digest, col(Digest.id) == col(DigestItem.digest_id))
            .join(Paper, col(Paper.arxiv_id) == col(DigestItem.paper_id))
            .where(Digest.profile == profile.name, DigestItem.topic == key)
            .order_by(col(Digest.day).desc(), col(DigestItem.rank))
            .limit(5)
        ).all()
    return TopicDetails(
        key, profile.topics[key], profile.name, row, tuple((d, r, p) for d, r, p in picks)
    )
