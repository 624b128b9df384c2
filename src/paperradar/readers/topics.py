"""Topics added at run time (a chat's own, an admin's shared ones): rows merged into profiles."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlmodel import Session, col, select

from paperradar.errors import ConfigError
from paperradar.llm.translation import needs_english
from paperradar.profiles.profile import ARXIV_ID_PATTERN, Language, Profile, SeedPaper, Topic
from paperradar.readers import feedback
from paperradar.readers.topic_text import TopicError as TopicError
from paperradar.readers.topic_text import TopicSpec as TopicSpec
from paperradar.readers.topic_text import parse_topic_spec as parse_topic_spec
from paperradar.readers.topic_text import slug
from paperradar.store.records import CustomTopic, Subscription
from paperradar.store.states import DigestLanguage

OWN_PROFILE_PREFIX = "sub-"
OWN_PROFILE = re.compile(rf"^{OWN_PROFILE_PREFIX}(\d+)$")
MAX_OWN_TOPICS = 10
# The newest 👍 papers per topic that become its anchors.
MAX_LIKED_SEEDS = 30
ARXIV_ID = re.compile(ARXIV_ID_PATTERN)


def own_profile_name(subscription: Subscription) -> str:
    """The name of the profile that holds a subscriber's own topics."""
    return f"{OWN_PROFILE_PREFIX}{subscription.id}"


def subscription_id_of(profile_name: str) -> int | None:
    """The subscription whose own profile this is; None for a shared profile."""
    found = OWN_PROFILE.match(profile_name)
    return int(found.group(1)) if found else None


def _free_key(wanted: str, taken: set[str]) -> str:
    """The wanted key, else the first of `key_2`, `key_3`, ... that no topic in `taken` has."""
    base = wanted or "topic"
    if base not in taken:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def custom_topics(session: Session, profile: str) -> list[CustomTopic]:
    """Return a profile's run-time topics in the order they were added."""
    return list(
        session.exec(
            select(CustomTopic).where(CustomTopic.profile == profile).order_by(col(CustomTopic.id))
        ).all()
    )


def own_topic_keys(session: Session) -> set[str]:
    """Every key any subscriber's own topic has (a new shared topic keeps clear of them)."""
    rows = session.exec(
        select(CustomTopic.profile, CustomTopic.key).where(
            col(CustomTopic.profile).startswith(OWN_PROFILE_PREFIX)
        )
    )
    return {key for profile, key in rows if OWN_PROFILE.match(profile)}


def add_topic(
    session: Session,
    *,
    profile: str,
    spec: TopicSpec,
    english: Sequence[str] | None,
    reserved: Sequence[str] = (),
    created_by: str | None = None,
) -> CustomTopic:
    """Store a new topic under a profile; `english` holds the translated texts of `spec.texts`.

    Its key is the title's slug, numbered (`_2`, `_3`) when the profile has that key already
    or `reserved` names it: the keys of the topics it is listed beside (a chat's own topics
    beside the shared ones), so that no key means two topics.
    """
    existing = custom_topics(session, profile)
    if OWN_PROFILE.match(profile) and len(existing) >= MAX_OWN_TOPICS:
        raise TopicError("bot.refusal.too_many_topics", count=MAX_OWN_TOPICS)
    title_en = english[0] if english else None
    # A title in another script, not translated, has no ASCII words worth a key.
    named = title_en or ("" if needs_english(spec.title) else spec.title)
    key = _free_key(slug(named), {*reserved, *(row.key for row in existing)})
    row = CustomTopic(
        profile=profile,
        key=key,
        title=spec.title,
        description=spec.description,
        keywords=list(spec.keywords),
        title_en=title_en,
        description_en=english[1] if english else None,
        keywords_en=list(english[2:]) if english else [],
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


def remove_topic(session: Session, *, profile: str, key: str) -> bool:
    """Delete a run-time topic; False when the profile has no such topic."""
    row = session.exec(
        select(CustomTopic).where(CustomTopic.profile == profile, CustomTopic.key == key)
    ).first()
    if row is None:
        return False
    session.delete(row)
    return True


def as_topic(row: CustomTopic) -> Topic:
    """The Topic a row is scored as: its English text, its own-language title kept for display."""
    return Topic(
        title=row.title_en or row.title,
        title_zh=row.title if needs_english(row.title) else None,
        description=row.description_en or row.description,
        keywords=row.keywords_en or row.keywords,
        min_percent=row.min_percent,
        max_picks=row.max_picks,
    )


def languages_of(subscription: Subscription, default: Sequence[Language]) -> list[Language]:
    """The languages a subscriber reads: its own choice, else the profile's."""
    if subscription.language is None:
        return list(default)
    if subscription.language == DigestLanguage.BOTH:
        return ["zh", "en"]
    return ["zh"] if subscription.language == DigestLanguage.ZH else ["en"]


def own_profile(session: Session, subscription: Subscription) -> Profile | None:
    """A subscriber's own topics as a profile; None when it has none."""
    return _own_profile(subscription, custom_topics(session, own_profile_name(subscription)))


def _own_profile(subscription: Subscription, rows: Sequence[CustomTopic]) -> Profile | None:
    if not rows:
        return None
    return Profile(
        name=own_profile_name(subscription),
        languages=languages_of(subscription, ["zh", "en"]),
        topics={row.key: as_topic(row) for row in rows},
    )


def current_profiles(session: Session, shared: Sequence[Profile]) -> tuple[Profile, ...]:
    """The shared profiles with their run-time topics, then each active subscriber's own topics."""
    reserved = [profile.name for profile in shared if OWN_PROFILE.match(profile.name)]
    if reserved:
        raise ConfigError(
            f"profile name {reserved[0]!r} is reserved for subscribers' own topics: rename the "
            "profile file"
        )
    by_profile: dict[str, list[CustomTopic]] = {}
    for row in session.exec(select(CustomTopic).order_by(col(CustomTopic.id))):
        by_profile.setdefault(row.profile, []).append(row)
    merged = []
    for profile in shared:
        # A YAML topic wins over a row with its key; rows come after the file's topics.
        extra = {row.key: as_topic(row) for row in by_profile.get(profile.name, [])}
        topics = {**profile.topics, **{k: v for k, v in extra.items() if k not in profile.topics}}
        merged.append(with_liked_papers(session, profile.model_copy(update={"topics": topics})))
    subscribers = session.exec(
        select(Subscription)
        .where(col(Subscription.active).is_(True))
        .order_by(col(Subscription.id))
    )
    own = [_own_profile(sub, by_profile.get(own_profile_name(sub), [])) for sub in subscribers]
    return (*merged, *(with_liked_papers(session, p) for p in own if p is not None))


def with_liked_papers(session: Session, profile: Profile) -> Profile:
    """Add the papers readers 👍 for a topic as seeds routed to that topic (the ranking's anchors).

    Scoring treats a seed routed to a topic as evidence for it, so a liked paper pulls similar
    papers up from the next run on; like every seed, it is never picked again itself.
    """
    known = {seed.id for seed in profile.seed_papers}
    liked = [
        SeedPaper(id=paper_id, topics=[topic])
        for topic, votes in feedback.topic_votes(session, profile.name).items()
        if topic in profile.topics
        for paper_id in votes.liked[:MAX_LIKED_SEEDS]
        if paper_id not in known and ARXIV_ID.match(paper_id)
    ]
    if not liked:
        return profile
    return profile.model_copy(update={"seed_papers": [*profile.seed_papers, *liked]})
