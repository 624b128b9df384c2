"""What the bot's commands do: plain synchronous calls into `paperradar`, one transaction each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from paperradar.app import App, with_current_profiles
from paperradar.compose.digests import view_digest
from paperradar.deliver.channels import Message
from paperradar.deliver.channels.telegram import render_digest
from paperradar.deliver.outbox import view_for
from paperradar.errors import PaperRadarError
from paperradar.llm.translation import english_for
from paperradar.profiles.profile import Profile, Topic
from paperradar.rank.search import SearchHit, search_papers
from paperradar.readers import feedback, subscriptions, topics
from paperradar.store.db import session_scope
from paperradar.store.records import CustomTopic, Digest, DigestItem, Paper, Subscription

CHANNEL = "telegram"
RECENT_PICK_DAYS = 14
# A search is a few words or a sentence; a pasted page is refused, not embedded.
MAX_QUERY = 300
NOT_STARTED = "This chat is not registered: send /start to begin."
STOPPED = "This chat is stopped: send /start to turn it back on."


class UsageError(PaperRadarError):
    """A command's arguments are missing or malformed; the message is the usage line."""


class NotStarted(PaperRadarError):
    """The chat never sent /start, or sent /stop since: only /start (re)activates a chat."""


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


def shared_profile(app: App) -> Profile:
    """The shared profile chats subscribe to, with the topics admins added."""
    current = with_current_profiles(app).profiles
    wanted = app.settings.telegram.profile
    for profile in current:
        if wanted is None and topics.subscription_id_of(profile.name) is None:
            return profile
        if profile.name == wanted:
            return profile
    raise UsageError(f"the shared profile {wanted!r} does not exist (telegram.profile)")


def register(app: App, chat: str) -> tuple[ChatState, bool]:
    """Subscribe a chat to all shared topics unless it is active (/start); say if it is new."""
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
        return ChatState(found, profile, topics.own_profile(session, found)), is_new


def active_subscription(session: Session, chat: str) -> Subscription:
    """The chat's subscription if it is active; NotStarted (and nothing written) otherwise."""
    found = subscriptions.find_subscription(session, channel=CHANNEL, recipient=chat)
    if found is None:
        raise NotStarted(NOT_STARTED)
    if not found.active:
        raise NotStarted(STOPPED)
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


def add_own_topic(app: App, chat: str, text: str, user: str) -> CustomTopic:
    """Add a topic of the chat's own; text in another script is translated once, or refused.

    Its key keeps clear of the shared topics' keys, so /topic list never shows one key twice.
    """
    state = chat_state(app, chat)
    spec = topics.parse_topic_spec(text)
    english = english_for(
        spec.texts,
        embedding=app.settings.embedding,
        llm=app.llm,
        prompts_dir=app.settings.prompts_dir,
    )
    with session_scope(app.engine) as session:
        found = active_subscription(session, chat)
        return topics.add_topic(
            session,
            profile=topics.own_profile_name(found),
            spec=spec,
            english=english,
            reserved=list(state.shared.topics),
            created_by=user,
        )


def add_shared_topic(app: App, text: str, user: str) -> CustomTopic:
    """Add a topic to the shared profile (admins only; the profile file is never rewritten).

    Its key keeps clear of every chat's own topic keys as well as the shared ones.
    """
    spec = topics.parse_topic_spec(text)
    english = english_for(
        spec.texts,
        embedding=app.settings.embedding,
        llm=app.llm,
        prompts_dir=app.settings.prompts_dir,
    )
    profile = shared_profile(app)
    with session_scope(app.engine) as session:
        return topics.add_topic(
            session,
            profile=profile.name,
            spec=spec,
            english=english,
            reserved=[*profile.topics, *topics.own_topic_keys(session)],
            created_by=user,
        )


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
        raise UsageError(f"no topic {key!r} here: /topic list shows the keys")
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
        key, profile.topics[key], profile.name, row, tuple((str(d), r, p) for d, r, p in picks)
    )


SETTINGS_USAGE = (
    "/settings [language zh|en|both | min 0-100 | max 1-50 | time HH:MM|off"
    " | zone Europe/Berlin|off]"
)


def update_settings(app: App, chat: str, field: str, value: str) -> Subscription:
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


def search(app: App, chat: str, query: str) -> list[SearchHit]:
    """Search the stored papers (a query in another script is translated, or refused)."""
    if len(query) > MAX_QUERY:
        raise UsageError(
            f"a search is at most {MAX_QUERY} characters (this one has {len(query)}): "
            "try a few key words or a sentence"
        )
    state = chat_state(app, chat)
    english = english_for(
        [query], embedding=app.settings.embedding, llm=app.llm, prompts_dir=app.settings.prompts_dir
    )
    owned = [state.shared.name] + ([state.own.name] if state.own else [])
    with session_scope(app.engine) as session:
        return search_papers(
            session, app.embedder, english[0] if english else query, profiles=owned
        )


def vote(app: App, chat: str, user: str, data: str) -> int:
    """Record a feedback button press from an active chat; return the vote's value."""
    shared = shared_profile(app).name
    with session_scope(app.engine) as session:
        found = active_subscription(session, chat)
        decoded = feedback.decode(data)
        allowed = [shared, topics.own_profile_name(found)]
        row = feedback.record_vote(
            session, decoded, channel=CHANNEL, user_id=user, chat=chat, allowed_profiles=allowed
        )
        return row.value


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
