"""The outbox: one Delivery per (digest, channel, recipient), sent part by part, committed per part.

A crash between a part's send and its commit repeats that one part on the next run (Telegram has
no idempotency key); nothing is lost, because a part counts as sent only once it is committed.
Delivery workers in several processes share the outbox: each claims batches of due rows with a
lease (claims.py) and sends them round-robin (sending.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from tqdm import tqdm

from paperradar.compose.chat_follows import with_chat_follows
from paperradar.compose.digests import DigestView, view_digest
from paperradar.compose.updates import for_topics
from paperradar.deliver import claims
from paperradar.deliver.channels import Message
from paperradar.deliver.channels.protocol import Channel
from paperradar.deliver.delivery_time import first_delivery_at
from paperradar.deliver.sending import Recipient, Tally, Worker
from paperradar.profiles.profile import Profile
from paperradar.readers.topics import languages_of, subscription_id_of
from paperradar.reports import StageReport
from paperradar.settings import ScheduleSettings
from paperradar.store import locks
from paperradar.store.db import insert_missing, row_id, session_scope
from paperradar.store.records import Delivery, Digest, Subscription, utc_now
from paperradar.store.states import DeliveryStatus

logger = logging.getLogger(__name__)

# Pending deliveries of digests this much older than the run's day are no longer sent: the news
# is stale. Friday's digest goes out on Monday, and may still be retried until Wednesday.
RETRY_DAYS = 5


def receives(subscription: Subscription, profile: Profile) -> bool:
    """Whether a subscription gets a profile's digest: as its owner, or for one of its topics."""
    owner = subscription_id_of(profile.name)
    if owner is not None:
        return subscription.id == owner
    return subscription.profile == profile.name and bool(
        set(subscription.topics) & set(profile.topics)
    )


@dataclass(frozen=True)
class Readers:
    """The active subscriptions on configured channels, indexed by the profiles they read."""

    owners: dict[int, Subscription]
    by_profile: dict[str, list[Subscription]]

    @classmethod
    def load(cls, session: Session, channels: Collection[str]) -> Readers:
        """Read every subscription once."""
        owners: dict[int, Subscription] = {}
        by_profile: dict[str, list[Subscription]] = {}
        for subscription in session.exec(select(Subscription).order_by(col(Subscription.id))):
            if subscription.active and subscription.channel in channels:
                owners[row_id(subscription)] = subscription
                by_profile.setdefault(subscription.profile, []).append(subscription)
        return cls(owners=owners, by_profile=by_profile)

    def of(self, profile: Profile) -> list[Subscription]:
        """The subscriptions that receive a profile's digest."""
        owner = subscription_id_of(profile.name)
        if owner is not None:
            found = self.owners.get(owner)
            return [found] if found is not None else []
        return [s for s in self.by_profile.get(profile.name, []) if receives(s, profile)]


def view_for(view: DigestView, subscription: Subscription) -> DigestView:
    """Narrow a digest to a subscriber: its topics, its minimum percent, its cap, its languages."""
    own = subscription_id_of(view.profile.name) == subscription.id
    sections = []
    for section in view.sections:
        if not own and section.key not in subscription.topics:
            continue
        items = [
            # The other topics a pick hits are named only when the subscriber reads them.
            replace(item, also=tuple(m for m in item.also if own or m.topic in subscription.topics))
            for item in section.items
            if subscription.min_percent is None or item.match.percent >= subscription.min_percent
        ]
        sections.append(replace(section, items=tuple(items[: subscription.max_items or None])))
    languages = languages_of(subscription, view.profile.languages)
    profile = view.profile.model_copy(update={"languages": languages})
    updates = view.updates if own else for_topics(view.updates, subscription.topics)
    narrowed = replace(view, profile=profile, sections=tuple(sections), updates=updates)
    return narrowed.renumbered()


def due_at(day: date, subscription: Subscription, schedule: ScheduleSettings) -> datetime:
    """When a digest of `day` goes out: the subscriber's (else the default) first delivery time,
    on a delivery day, after the day's announcement is out."""
    hhmm = subscription.delivery_time or schedule.delivery_time
    return first_delivery_at(day, hhmm, schedule, subscription.timezone)


@dataclass(frozen=True)
class Outbox:
    """What the deliver stage works with: the database, the channels, the profiles, the time."""

    engine: Engine
    channels: Mapping[str, Channel]
    profiles: Sequence[Profile]
    schedule: ScheduleSettings
    clock: Callable[[], datetime]


def plan_deliveries(session: Session, outbox: Outbox, day: date) -> int:
    """Create the missing Delivery rows of the day's digests; return how many were created."""
    readers = Readers.load(session, outbox.channels)
    digests = session.exec(select(Digest).where(Digest.day == day)).all()
    profiles = {profile.name: profile for profile in outbox.profiles}
    notify_empty = outbox.schedule.notify_no_announcement
    existing = set(
        session.exec(
            select(Delivery.digest_id, Delivery.channel, Delivery.recipient)
            .join(Digest, col(Digest.id) == col(Delivery.digest_id))
            .where(Digest.day == day)
        ).all()
    )
    planned: list[Delivery] = []
    for digest in digests:
        profile = profiles.get(digest.profile)
        if profile is None or not (digest.announced or notify_empty):
            continue
        for subscription in readers.of(profile):
            key = (row_id(digest), subscription.channel, subscription.recipient)
            if key not in existing:
                existing.add(key)
                planned.append(Delivery(digest_id=key[0], channel=key[1], recipient=key[2]))
    return insert_missing(session, planned)


@dataclass
class Renderer:
    """Renders deliveries, each digest's view loaded once per run."""

    session: Session
    outbox: Outbox
    views: dict[int, DigestView | str]

    def __call__(
        self, delivery: Delivery, digest: Digest, subscription: Subscription
    ) -> list[Message] | str:
        """A subscriber's parts, or why they cannot be rendered."""
        view = self.views.get(row_id(digest))
        if view is None:
            view = self.views[row_id(digest)] = self._view(digest)
        if isinstance(view, str):
            return view
        channel = self.outbox.channels[delivery.channel]
        narrowed = with_chat_follows(self.session, view_for(view, subscription), subscription)
        return channel.render(narrowed, subscription.recipient)

    def _view(self, digest: Digest) -> DigestView | str:
        profile = next((p for p in self.outbox.profiles if p.name == digest.profile), None)
        if profile is None:
            return f"profile {digest.profile!r} no longer exists"
        view = view_digest(self.session, profile=profile, day=digest.day)
        return view if view is not None else f"digest {digest.id} has no view"


def _due(
    session: Session,
    outbox: Outbox,
    subscriptions: dict[Recipient, Subscription],
    *,
    now: datetime,
    oldest: date,
    tally: Tally,
) -> list[tuple[Recipient, int]]:
    """The pending deliveries whose time has come, as (recipient, id), oldest digest first."""
    rows = session.exec(
        select(col(Delivery.id), col(Delivery.channel), col(Delivery.recipient), col(Digest.day))
        .join(Digest, col(Digest.id) == col(Delivery.digest_id))
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            col(Delivery.channel).in_(list(outbox.channels)),
            col(Digest.day) >= oldest,
        )
        .order_by(col(Digest.day), col(Delivery.id))
    ).all()
    schedule = outbox.schedule
    # Subscribers share a few delivery times: each (day, time, zone) is computed once.
    times: dict[tuple[date, str | None, str | None], datetime] = {}
    due = []
    for delivery_id, channel, recipient, day in rows:
        subscription = subscriptions.get((channel, recipient))
        if subscription is not None:  # one that is gone is due: it fails at once
            key = (day, subscription.delivery_time, subscription.timezone)
            if key not in times:
                times[key] = due_at(day, subscription, schedule)
            if now < times[key]:
                tally.waiting += 1
                continue
        due.append(((channel, recipient), cast(int, delivery_id)))  # a stored row's id
    return due


def batches(due: Sequence[tuple[Recipient, int]], size: int) -> Iterator[list[int]]:
    """Group due deliveries into batches of about `size`, never splitting one recipient's."""
    by_recipient: dict[Recipient, list[int]] = {}
    for recipient, delivery_id in due:
        by_recipient.setdefault(recipient, []).append(delivery_id)
    batch: list[int] = []
    for ids in by_recipient.values():
        batch.extend(ids)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def deliver_due(
    outbox: Outbox, *, now: datetime | None = None, day: date | None = None, planned: int = 0
) -> StageReport:
    """Send every pending delivery whose time has come, alongside any other delivery workers.

    Digests more than RETRY_DAYS older than `day` (default: today) are stale and left unsent.
    """
    tally = Tally(planned=planned)
    now = now or outbox.clock()
    oldest = (day or now.date()) - timedelta(days=RETRY_DAYS)
    try:
        with Session(outbox.engine, expire_on_commit=False) as session:
            claims.free_dead_leases(session, utc_now())
            subscriptions = {
                (row.channel, row.recipient): row for row in session.exec(select(Subscription))
            }
            due = _due(session, outbox, subscriptions, now=now, oldest=oldest, tally=tally)
            worker = Worker(
                session=session,
                channels=dict(outbox.channels),
                subscriptions=subscriptions,
                render=Renderer(session, outbox, {}),
                lease=timedelta(seconds=outbox.schedule.lock_seconds),
                tally=tally,
                holder=locks.process_holder(),
            )
            bar = tqdm(total=len(due), desc="deliver", disable=not sys.stderr.isatty())
            for batch in batches(due, outbox.schedule.delivery_batch):
                worker.send_batch(batch)
                bar.update(len(batch))
            bar.close()
    finally:
        for channel in outbox.channels.values():
            channel.close()
    logger.debug("deliver: %s", tally.report().line())
    note = (
        f"{tally.failed} delivery(ies) failed: see `paperradar deliveries`"
        if tally.failed
        else None
    )
    return tally.report(note=note)


def run(outbox: Outbox, day: date) -> StageReport:
    """Queue the day's digests for every subscriber, then send what is due now."""
    with session_scope(outbox.engine) as session:
        planned = plan_deliveries(session, outbox, day)
    return deliver_due(outbox, day=day, planned=planned)
