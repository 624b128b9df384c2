"""The outbox: one Delivery per (digest, channel, recipient), sent part by part, committed per part.

A crash between a part's send and its commit repeats that one part on the next run (Telegram has
no idempotency key); nothing is lost, because a part counts as sent only once it is committed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select
from tqdm import tqdm

from paperradar import locks
from paperradar.channels import Channel, Message, message_from_json, message_to_json
from paperradar.digests import DigestView, view_digest
from paperradar.errors import ChannelError
from paperradar.profiles import Profile
from paperradar.records import Delivery, DeliveryStatus, Digest, Subscription, utc_now
from paperradar.reports import StageReport
from paperradar.settings import ScheduleSettings
from paperradar.store import row_id, session_scope
from paperradar.topics import languages_of, subscription_id_of

if TYPE_CHECKING:
    from paperradar.context import Context

logger = logging.getLogger(__name__)

LOCK = "delivery"
# A part that keeps failing with a retryable error gives up after this many runs.
MAX_ATTEMPTS = 5
# Pending deliveries of digests older than this are no longer sent: the news is stale.
RETRY_DAYS = 3
ERROR_LENGTH = 2000


@dataclass
class Tally:
    """What one delivery run did."""

    planned: int = 0
    parts: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    waiting: int = 0

    def report(self, note: str | None = None) -> StageReport:
        """Turn the tally into the stage's report."""
        details: dict[str, int | float] = {
            "planned": self.planned,
            "delivered": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "waiting": self.waiting,
        }
        return StageReport("deliver", written=self.parts, details=details, note=note)


def receives(subscription: Subscription, profile: Profile) -> bool:
    """Whether a subscription gets a profile's digest: as its owner, or for one of its topics."""
    owner = subscription_id_of(profile.name)
    if owner is not None:
        return subscription.id == owner
    return subscription.profile == profile.name and bool(
        set(subscription.topics) & set(profile.topics)
    )


def audience(
    profile: Profile, subscriptions: Sequence[Subscription], channels: Collection[str]
) -> list[Subscription]:
    """The active subscriptions on configured channels that receive a profile's digest."""
    return [
        subscription
        for subscription in subscriptions
        if subscription.active
        and subscription.channel in channels
        and receives(subscription, profile)
    ]


def view_for(view: DigestView, subscription: Subscription) -> DigestView:
    """Narrow a digest to a subscriber: its topics, its minimum percent, its cap, its languages."""
    own = subscription_id_of(view.profile.name) == subscription.id
    sections = []
    for section in view.sections:
        if not own and section.key not in subscription.topics:
            continue
        items = [
            item
            for item in section.items
            if subscription.min_percent is None or item.match.percent >= subscription.min_percent
        ]
        sections.append(replace(section, items=tuple(items[: subscription.max_items or None])))
    languages = languages_of(subscription, view.profile.languages)
    profile = view.profile.model_copy(update={"languages": languages})
    return replace(view, profile=profile, sections=tuple(sections))


def due_at(day: date, subscription: Subscription, schedule: ScheduleSettings) -> datetime:
    """When a digest of `day` may go out: the subscriber's (else the default) time on that date."""
    hour, minute = (
        int(part) for part in (subscription.delivery_time or schedule.delivery_time).split(":")
    )
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(schedule.delivery_timezone))


def plan_deliveries(session: Session, ctx: Context, day: date) -> int:
    """Create the missing Delivery rows of the day's digests; return how many were created."""
    subscriptions = list(session.exec(select(Subscription)).all())
    digests = session.exec(select(Digest).where(Digest.day == day)).all()
    profiles = {profile.name: profile for profile in ctx.profiles}
    notify_empty = ctx.settings.schedule.notify_no_announcement
    created = 0
    for digest in digests:
        profile = profiles.get(digest.profile)
        if profile is None or not (digest.announced or notify_empty):
            continue
        existing = set(
            session.exec(
                select(Delivery.channel, Delivery.recipient).where(Delivery.digest_id == digest.id)
            ).all()
        )
        for subscription in audience(profile, subscriptions, ctx.channels):
            if (subscription.channel, subscription.recipient) in existing:
                continue
            session.add(
                Delivery(
                    digest_id=row_id(digest),
                    channel=subscription.channel,
                    recipient=subscription.recipient,
                )
            )
            created += 1
    return created


def _render(
    session: Session, ctx: Context, digest: Digest, subscription: Subscription, channel: Channel
) -> list[Message] | str:
    """Render a delivery's parts afresh; a string says why it cannot be rendered."""
    profile = next((p for p in ctx.profiles if p.name == digest.profile), None)
    if profile is None:
        return f"profile {digest.profile!r} no longer exists"
    view = view_digest(session, profile=profile, day=digest.day)
    if view is None:
        return f"digest {digest.id} has no view"
    return channel.render(view_for(view, subscription), subscription.recipient)


def _fail(delivery: Delivery, error: str, *, final: bool) -> None:
    delivery.last_error = error[:ERROR_LENGTH]
    delivery.updated_at = utc_now()
    if final:
        delivery.status = DeliveryStatus.FAILED


def send_parts(session: Session, delivery: Delivery, channel: Channel) -> bool:
    """Send a delivery's parts from `parts_sent` on, committing after each; False on an error."""
    for index in range(delivery.parts_sent, delivery.parts_total):
        message = message_from_json(delivery.parts[index])
        try:
            message_id = channel.send(message, delivery.recipient)
        except ChannelError as error:
            final = not error.retryable or delivery.attempts >= MAX_ATTEMPTS
            _fail(delivery, f"part {index + 1}/{delivery.parts_total}: {error}", final=final)
            session.commit()
            logger.warning("delivery %s: part %d failed: %s", delivery.id, index + 1, error)
            return False
        delivery.parts_sent = index + 1
        delivery.message_ids = [*delivery.message_ids, message_id]
        delivery.updated_at = utc_now()
        # The one window where a crash repeats a part: sent above, not yet committed here.
        session.commit()
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = delivery.updated_at = utc_now()
    delivery.last_error = None
    session.commit()
    return True


def _deliver_one(
    session: Session,
    ctx: Context,
    delivery: Delivery,
    digest: Digest,
    subscription: Subscription | None,
) -> int:
    """Take one pending delivery as far as it goes; return how many parts were sent."""
    channel = ctx.channels[delivery.channel]
    if subscription is None or not subscription.active:
        _fail(delivery, "the recipient unsubscribed", final=True)
        session.commit()
        return 0
    delivery.attempts += 1
    if delivery.parts_sent == 0:
        # Nothing is out yet, so the newest summaries may still go in; once a part is out, the
        # stored parts are what a re-run resumes, whatever has changed since.
        parts = _render(session, ctx, digest, subscription, channel)
        if isinstance(parts, str):
            _fail(delivery, parts, final=True)
            session.commit()
            return 0
        delivery.parts = [message_to_json(message) for message in parts]
        delivery.parts_total = len(parts)
    session.commit()
    before = delivery.parts_sent
    send_parts(session, delivery, channel)
    return delivery.parts_sent - before


def _pending(session: Session, ctx: Context, oldest: date) -> list[tuple[Delivery, Digest]]:
    rows = session.exec(
        select(Delivery, Digest)
        .join(Digest, col(Digest.id) == col(Delivery.digest_id))
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            col(Delivery.channel).in_(list(ctx.channels)),
            col(Digest.day) >= oldest,
        )
        .order_by(col(Digest.day), col(Delivery.id))
    ).all()
    return [(delivery, digest) for delivery, digest in rows]


def _send_due(ctx: Context, now: datetime, oldest: date, tally: Tally) -> None:
    with Session(ctx.engine, expire_on_commit=False) as session:
        subscriptions = {
            (row.channel, row.recipient): row for row in session.exec(select(Subscription))
        }
        pending = _pending(session, ctx, oldest)
        for delivery, digest in tqdm(pending, desc="deliver", disable=not sys.stderr.isatty()):
            subscription = subscriptions.get((delivery.channel, delivery.recipient))
            if subscription is not None and now < due_at(
                digest.day, subscription, ctx.settings.schedule
            ):
                tally.waiting += 1
                continue
            tally.parts += _deliver_one(session, ctx, delivery, digest, subscription)
            if delivery.status == DeliveryStatus.SENT:
                tally.sent += 1
            elif delivery.status == DeliveryStatus.FAILED:
                tally.failed += 1
            else:
                tally.retrying += 1


def deliver_due(
    ctx: Context, *, now: datetime | None = None, day: date | None = None, planned: int = 0
) -> StageReport:
    """Send every pending delivery whose time has come (one delivery run at a time).

    Digests more than RETRY_DAYS older than `day` (default: today) are stale and left unsent.
    """
    tally = Tally(planned=planned)
    now = now or ctx.clock()
    oldest = (day or now.date()) - timedelta(days=RETRY_DAYS)
    ttl = timedelta(seconds=ctx.settings.schedule.lock_seconds)
    try:
        with locks.held(ctx.engine, LOCK, ttl=ttl):
            _send_due(ctx, now, oldest, tally)
    except locks.LockBusyError:
        return tally.report(note="another delivery run is sending; it takes these too")
    finally:
        for channel in ctx.channels.values():
            channel.close()
    logger.info("deliver: %s", tally.report().line())
    note = (
        f"{tally.failed} delivery(ies) failed: see `paperradar deliveries`"
        if tally.failed
        else None
    )
    return tally.report(note=note)


def run(ctx: Context, day: date) -> StageReport:
    """Queue the day's digests for every subscriber, then send what is due now."""
    with session_scope(ctx.engine) as session:
        planned = plan_deliveries(session, ctx, day)
    return deliver_due(ctx, day=day, planned=planned)
