"""Subscribers as rows: who receives which shared topics, how, and through which channel."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from paperradar.errors import PaperRadarError
from paperradar.i18n import Language, interface_language
from paperradar.profiles.profile import Profile
from paperradar.readers.refusal import Refusal
from paperradar.store.records import Subscription, utc_now
from paperradar.store.states import DigestLanguage
from paperradar.text import clean_text, cut

DELIVERY_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# How much of a wrong value an error message quotes back.
SHOWN_VALUE = 40


class SubscriptionError(PaperRadarError):
    """A subscription change names something that does not exist or is out of range."""


class ChoiceError(Refusal, SubscriptionError):
    """A reader's choice (a topic, a setting's value) that does not exist or is out of range."""


def _shown(value: str) -> str:
    """A value as an error message quotes it: cleaned, cut short, in quotes."""
    return repr(_cut(value))


def _cut(value: str) -> str:
    """A value as a refusal quotes it: cleaned and cut short."""
    return cut(clean_text(value), SHOWN_VALUE)


def find_subscription(session: Session, *, channel: str, recipient: str) -> Subscription | None:
    """Return a recipient's subscription on a channel, active or not."""
    return session.exec(
        select(Subscription).where(
            Subscription.channel == channel, Subscription.recipient == recipient
        )
    ).first()


def list_subscriptions(
    session: Session, *, channel: str | None = None, active_only: bool = False
) -> list[Subscription]:
    """Return subscriptions, optionally of one channel and only the active ones."""
    query = select(Subscription).order_by(col(Subscription.channel), col(Subscription.recipient))
    if channel is not None:
        query = query.where(Subscription.channel == channel)
    if active_only:
        query = query.where(col(Subscription.active).is_(True))
    return list(session.exec(query).all())


def _check_topics(profile: Profile, topics: Iterable[str]) -> list[str]:
    keys = list(dict.fromkeys(topics))
    unknown = [key for key in keys if key not in profile.topics]
    if unknown:
        raise ChoiceError(
            "bot.refusal.no_shared_topic", key=_cut(unknown[0]), keys=", ".join(profile.topics)
        )
    return keys


# What each channel can deliver to; anything else (a CRLF that would add a mail header, a name
# with spaces) is refused before it is stored.
RECIPIENTS = {
    "telegram": re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$"),
    "email": re.compile(r"^[^@\s<>,;:\"()\[\]\\]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"),
    "wecom": re.compile(r"^[A-Za-z0-9_-]{1,64}$"),
}
RECIPIENT_HINTS = {
    "telegram": "a chat id such as 123456789 or -1001234567890, or a @channel",
    "email": "an address such as reader@example.org",
    "wecom": "a group name of wecom.webhooks (letters, digits, _ and -)",
}


def check_recipient(channel: str, recipient: str) -> str:
    """Return the recipient when its channel can deliver to it; else say what it should be."""
    if channel not in RECIPIENTS:
        raise SubscriptionError(
            f"unknown channel {_shown(channel)}: one of {', '.join(sorted(RECIPIENTS))}"
        )
    if len(recipient) > 254 or not RECIPIENTS[channel].match(recipient):
        hint = RECIPIENT_HINTS[channel]
        raise SubscriptionError(
            f"{_shown(recipient)} is not a valid {channel} recipient: give {hint}"
        )
    return recipient


def subscribe(
    session: Session,
    *,
    channel: str,
    recipient: str,
    profile: Profile,
    topics: Sequence[str] | None = None,
) -> Subscription:
    """Add shared topics (None: all) to a recipient's subscription, creating or reviving it."""
    check_recipient(channel, recipient)
    wanted = _check_topics(profile, profile.topics if topics is None else topics)
    subscription = find_subscription(session, channel=channel, recipient=recipient)
    if subscription is None:
        subscription = Subscription(
            channel=channel, recipient=recipient, profile=profile.name, topics=wanted
        )
    elif subscription.profile != profile.name:
        subscription.profile = profile.name
        subscription.topics = wanted
    else:
        subscription.topics = list(dict.fromkeys([*subscription.topics, *wanted]))
    subscription.active = True
    subscription.updated_at = utc_now()
    session.add(subscription)
    session.flush()
    return subscription


def unsubscribe(
    session: Session, *, channel: str, recipient: str, topics: Sequence[str]
) -> Subscription | None:
    """Drop shared topics from a recipient's subscription; None when it has none."""
    subscription = find_subscription(session, channel=channel, recipient=recipient)
    if subscription is None:
        return None
    unknown = [key for key in topics if key not in subscription.topics]
    if unknown:
        raise ChoiceError("bot.refusal.not_subscribed", key=_cut(unknown[0]))
    subscription.topics = [key for key in subscription.topics if key not in topics]
    subscription.updated_at = utc_now()
    session.add(subscription)
    return subscription


def deactivate(session: Session, *, channel: str, recipient: str) -> bool:
    """Stop all deliveries to a recipient (an unsubscribe link); False when it was unknown."""
    subscription = find_subscription(session, channel=channel, recipient=recipient)
    if subscription is None:
        return False
    subscription.active = False
    subscription.updated_at = utc_now()
    session.add(subscription)
    return True


def remove_subscription(session: Session, *, channel: str, recipient: str) -> bool:
    """Delete a recipient's subscription row; False when it was unknown."""
    subscription = find_subscription(session, channel=channel, recipient=recipient)
    if subscription is None:
        return False
    session.delete(subscription)
    return True


def parse_language(value: str) -> DigestLanguage:
    """Read `zh`, `en` or `both`."""
    try:
        return DigestLanguage(value.strip().lower())
    except ValueError as error:
        raise ChoiceError("bot.refusal.language", value=_cut(value)) from error


def parse_percent(value: str) -> int:
    """Read a whole percent 0-100."""
    number = value.strip().rstrip("%")
    if not number.isdigit() or int(number) > 100:
        raise ChoiceError("bot.refusal.percent", value=_cut(value))
    return int(number)


def parse_max_items(value: str) -> int:
    """Read a per-topic cap 1-50."""
    if not value.strip().isdigit() or not 1 <= int(value) <= 50:
        raise ChoiceError("bot.refusal.max_items", value=_cut(value))
    return int(value)


def parse_delivery_time(value: str) -> str | None:
    """Read `HH:MM` (24 h), or `off` for the default time."""
    text = value.strip().lower()
    if text in {"off", "none", "any"}:
        return None
    if not DELIVERY_TIME.match(text):
        raise ChoiceError("bot.refusal.delivery_time", value=_cut(value))
    return text


def parse_timezone(value: str) -> str | None:
    """Read an IANA time zone name such as `Europe/Berlin`, or `off` for the default zone."""
    text = value.strip()
    if text.lower() in {"off", "none", "default"}:
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ChoiceError("bot.refusal.time_zone", value=_cut(value)) from None
    return text


def language_from_code(code: str | None) -> DigestLanguage | None:
    """A Telegram user's `language_code` as a reading language: zh* is Chinese, the rest English."""
    if not code:
        return None
    return DigestLanguage.ZH if code.lower().startswith("zh") else DigestLanguage.EN


def chat_language(
    chosen: DigestLanguage | None, code: str | None, default: Sequence[str]
) -> Language:
    """The language a chat is answered in: its own choice, else its user's, else the profile's.

    A chat that reads both languages is answered in Chinese (as its digests' chrome is).
    """
    language = chosen or language_from_code(code)
    if language is None:
        return interface_language(default)
    return "en" if language == DigestLanguage.EN else "zh"
