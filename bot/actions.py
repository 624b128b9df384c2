"""What the bot's commands do: plain synchronous calls into `paperradar`, one transaction each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from paperradar.app import Context, with_current_profiles
from paperradar.compose.digests import view_digest
from paperradar.deliver.channels import Message
from paperradar.deliver.channels.telegram import render_digest
from paperradar.deliver.outbox import view_for
from paperradar.errors import PaperRadarError
from paperradar.profiles import custom as topics
from paperradar.profiles.profile import Profile, Topic
from paperradar.rank.search import SearchHit, search_papers
from paperradar.readers import feedback, subscriptions
from paperradar.store.db import session_scope
from paperradar.store.records import CustomTopic, Digest, DigestItem, Paper, Subscription
from paperradar.summarise.translation import english_for

CHANNEL = "telegram"
RECENT_PICK_DAYS = 14


class UsageError(PaperRadarError):
    """A command's arguments are missing or malformed; the message is the usage line."""


@dataclass(frozen=True)
class ChatState:
    """A chat's subscription with the shared profile and its own topics, as of now."""

    subscription: Subscription
    shared: Profile
    own: Profile | None


@dataclass(frozen=True)
class TopicDetails:
    """A topic as /topic show tells it: what it is and its recent picks."""

    key: str
    topic: Topic
    owner: str
    row: CustomTopic | None
    picks: tuple[tuple[str, int, Paper], ...]  # (day, percent, paper)


def shared_profile(ctx: Context) -> Profile:
    """The shared profile chats subscribe to, with the topics admins added."""
    current = with_current_profiles(ctx).profiles
    wanted = ctx.settings.telegram.profile
    for profile in current:
        if wanted is None and topics.subscription_id_of(profile.name) is None:
            return profile
        if profile.name == wanted:
            return profile
    raise UsageError(f"the shared profile {wanted!r} does not exist (telegram.profile)")


def register(ctx: Context, chat: str) -> tuple[ChatState, bool]:
    """Subscribe a chat to all shared topics unless it is subscribed; say whether it is new."""
    profile = shared_profile(ctx)
    with session_scope(ctx.engine) as session:
        found = subscriptions.find_subscription(session, channel=CHANNEL, recipient=chat)
        is_new = found is None or not found.active
        if found is None or not found.active:
            found = subscriptions.subscribe(
                session, channel=CHANNEL, recipient=chat, profile=profile, topics=None
            )
        return ChatState(found, profile, topics.own_profile(session, found)), is_new


def chat_state(ctx: Context, chat: str) -> ChatState:
    """Return a chat's state, registering it first when needed."""
    return register(ctx, chat)[0]


def change_topics(ctx: Context, chat: str, keys: list[str], *, add: bool) -> ChatState:
    """Subscribe a chat to shared topics, or unsubscribe it from them."""
    state = chat_state(ctx, chat)
    with session_scope(ctx.engine) as session:
        if add:
            subscriptions.subscribe(
                session, channel=CHANNEL, recipient=chat, profile=state.shared, topics=keys
            )
        else:
            subscriptions.unsubscribe(session, channel=CHANNEL, recipient=chat, topics=keys)
    return chat_state(ctx, chat)


def add_own_topic(ctx: Context, chat: str, text: str, user: str) -> CustomTopic:
    """Add a topic of the chat's own; text in another script is translated once, or refused."""
    spec = topics.parse_topic_spec(text)
    english = english_for(
        spec.texts,
        embedding=ctx.settings.embedding,
        llm=ctx.llm,
        prompts_dir=ctx.settings.prompts_dir,
    )
    state = chat_state(ctx, chat)
    with session_scope(ctx.engine) as session:
        return topics.add_topic(
            session,
            profile=topics.own_profile_name(state.subscription),
            spec=spec,
            english=english,
            created_by=user,
        )


def add_shared_topic(ctx: Context, text: str, user: str) -> CustomTopic:
    """Add a topic to the shared profile (admins only; the profile file is never rewritten)."""
    spec = topics.parse_topic_spec(text)
    english = english_for(
        spec.texts,
        embedding=ctx.settings.embedding,
        llm=ctx.llm,
        prompts_dir=ctx.settings.prompts_dir,
    )
    profile = shared_profile(ctx)
    with session_scope(ctx.engine) as session:
        return topics.add_topic(
            session,
            profile=profile.name,
            spec=spec,
            english=english,
            reserved=list(profile.topics),
            created_by=user,
        )


def remove_topic(ctx: Context, chat: str | None, key: str) -> bool:
    """Remove a chat's own topic (chat given) or an admin-added shared topic (chat None)."""
    if chat is None:
        owner = shared_profile(ctx).name
    else:
        owner = topics.own_profile_name(chat_state(ctx, chat).subscription)
    with session_scope(ctx.engine) as session:
        return topics.remove_topic(session, profile=owner, key=key)


def topic_details(ctx: Context, chat: str, key: str) -> TopicDetails:
    """Describe one of the chat's own or subscribed topics with its recent picks."""
    state = chat_state(ctx, chat)
    for profile in (state.own, state.shared):
        if profile is not None and key in profile.topics:
            break
    else:
        raise UsageError(f"no topic {key!r} here: /topic list shows the keys")
    with session_scope(ctx.engine) as session:
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
        key, profile.topics[key], profile.name, row, tuple((str(d), r, p) for d, r, p in picks)
    )


SETTINGS_USAGE = (
    "/settings [language zh|en|both | min 0-100 | max 1-50 | time HH:MM|off"
    " | zone Europe/Berlin|off]"
)


def update_settings(ctx: Context, chat: str, field: str, value: str) -> Subscription:
    """Change one of the chat's delivery settings: language, min, max, time or zone."""
    parsers = {
        "language": ("language", subscriptions.parse_language),
        "min": ("min_percent", subscriptions.parse_percent),
        "max": ("max_items", subscriptions.parse_max_items),
        "time": ("delivery_time", subscriptions.parse_delivery_time),
        "zone": ("timezone", subscriptions.parse_timezone),
    }
    if field not in parsers:
        raise UsageError(f"usage: {SETTINGS_USAGE}")
    name, parse = parsers[field]
    parsed = parse(value)
    chat_state(ctx, chat)
    with session_scope(ctx.engine) as session:
        found = subscriptions.find_subscription(session, channel=CHANNEL, recipient=chat)
        if found is None:
            raise UsageError("send /start first")
        setattr(found, name, parsed)
        session.add(found)
        return found


def today(ctx: Context, chat: str) -> list[Message]:
    """Render the chat's latest digests (shared and own) as Telegram parts."""
    state = chat_state(ctx, chat)
    messages: list[Message] = []
    with session_scope(ctx.engine) as session:
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
                messages += render_digest(narrowed, llm_configured=ctx.llm is not None)
    return messages


def search(ctx: Context, chat: str, query: str) -> list[SearchHit]:
    """Search the stored papers (a query in another script is translated, or refused)."""
    english = english_for(
        [query], embedding=ctx.settings.embedding, llm=ctx.llm, prompts_dir=ctx.settings.prompts_dir
    )
    state = chat_state(ctx, chat)
    owned = [state.shared.name] + ([state.own.name] if state.own else [])
    with session_scope(ctx.engine) as session:
        return search_papers(
            session, ctx.embedder, english[0] if english else query, profiles=owned
        )


def vote(ctx: Context, chat: str, user: str, data: str) -> int:
    """Record a feedback button press from a chat; return the vote's value."""
    decoded = feedback.decode(data)
    state = chat_state(ctx, chat)
    allowed = [state.shared.name, topics.own_profile_name(state.subscription)]
    with session_scope(ctx.engine) as session:
        row = feedback.record_vote(
            session, decoded, channel=CHANNEL, user_id=user, chat=chat, allowed_profiles=allowed
        )
        return row.value


def broadcast_targets(ctx: Context) -> list[str]:
    """Return every active Telegram subscriber's chat id."""
    with session_scope(ctx.engine) as session:
        return [
            row.recipient
            for row in subscriptions.list_subscriptions(session, channel=CHANNEL, active_only=True)
        ]


def stop(ctx: Context, chat: str) -> bool:
    """Stop all deliveries to this chat (its topics are kept for a later /start)."""
    with session_scope(ctx.engine) as session:
        return subscriptions.deactivate(session, channel=CHANNEL, recipient=chat)
