"""Send claimed deliveries round-robin: each round, one part to every recipient that is ready.

Fanning out part 1 to every chat before part 2 keeps a large outbox at the channel's overall
rate (Telegram: 30 messages/s) instead of one chat's (1 message/s). A recipient's deliveries go
out one after another, oldest digest first, so two digests never interleave in one chat, and
each recipient waits its channel's `part_interval` between two parts. Every part is committed
as soon as it is sent; between rounds the worker renews its leases (claims.py) and drops a
delivery whose lease another worker has taken over.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sql
from sqlmodel import Session, col, select

from paperradar.deliver import claims
from paperradar.deliver.channels import Channel, Message, message_from_json, message_to_json
from paperradar.errors import ChannelError
from paperradar.reports import StageReport
from paperradar.settings.redaction import redact
from paperradar.store.records import Delivery, Digest, Subscription, utc_now
from paperradar.store.states import DeliveryStatus

logger = logging.getLogger(__name__)

# A part that keeps failing with a retryable error gives up after this many runs.
MAX_ATTEMPTS = 5
ERROR_LENGTH = 2000

Recipient = tuple[str, str]  # (channel, recipient)
# Renders a delivery's parts for its subscriber; a string says why it cannot be rendered.
Render = Callable[[Delivery, Digest, Subscription], list[Message] | str]


@dataclass
class Tally:
    """What one delivery run did."""

    planned: int = 0
    parts: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    waiting: int = 0
    elsewhere: int = 0

    def report(self, note: str | None = None) -> StageReport:
        """Turn the tally into the stage's report."""
        details: dict[str, int | float] = {
            "planned": self.planned,
            "delivered": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "waiting": self.waiting,
            "other_worker": self.elsewhere,
        }
        return StageReport("deliver", written=self.parts, details=details, note=note)


def fail(delivery: Delivery, error: str, *, final: bool) -> None:
    """Note a delivery's error; a final one fails it for good."""
    delivery.last_error = redact(error)[:ERROR_LENGTH]
    delivery.updated_at = utc_now()
    if final:
        delivery.status = DeliveryStatus.FAILED


def send_next_part(session: Session, delivery: Delivery, channel: Channel) -> bool:
    """Send the delivery's next part and commit it; False (error noted) when the send fails."""
    index = delivery.parts_sent
    try:
        message_id = channel.send(message_from_json(delivery.parts[index]), delivery.recipient)
    except ChannelError as error:
        final = not error.retryable or delivery.attempts >= MAX_ATTEMPTS
        fail(delivery, f"part {index + 1}/{delivery.parts_total}: {error}", final=final)
        session.commit()
        logger.warning("delivery %s: part %d failed: %s", delivery.id, index + 1, error)
        return False
    delivery.parts_sent = index + 1
    delivery.message_ids = [*delivery.message_ids, message_id]
    delivery.updated_at = utc_now()
    if delivery.parts_sent == delivery.parts_total:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = delivery.updated_at
        delivery.last_error = None
    # The one window where a crash repeats a part: sent above, not yet committed here.
    session.commit()
    return True


@dataclass
class Worker:
    """One delivery run of one process: it claims batches of due deliveries and sends them."""

    session: Session
    channels: dict[str, Channel]
    subscriptions: dict[Recipient, Subscription]
    render: Render
    lease: timedelta
    tally: Tally
    holder: str
    _ready_at: dict[Recipient, float] = field(default_factory=dict)
    _started: set[int | None] = field(default_factory=set)

    def send_batch(self, ids: Sequence[int]) -> None:
        """Claim what no other worker holds of these deliveries and send it all, round-robin."""
        mine = self._claim(ids)
        self.tally.elsewhere += len(ids) - len(mine)
        try:
            queues = self._queues(mine)
            while queues:
                self._round(queues)
                if queues:
                    self._renew(queues)
        finally:
            claims.release(self.session, mine, holder=self.holder)

    def _claim(self, ids: Sequence[int]) -> list[int]:
        candidates = (
            sql.select(col(Delivery.id))
            .where(col(Delivery.id).in_(list(ids)), col(Delivery.status) == DeliveryStatus.PENDING)
            .order_by(col(Delivery.id))
        )
        return claims.claim(
            self.session, candidates, holder=self.holder, now=utc_now(), lease=self.lease
        )

    def _queues(self, ids: Sequence[int]) -> dict[Recipient, deque[tuple[Delivery, Digest]]]:
        """The claimed deliveries, freshly read, queued per recipient, oldest digest first."""
        rows = self.session.exec(
            select(Delivery, Digest)
            .join(Digest, col(Digest.id) == col(Delivery.digest_id))
            .where(col(Delivery.id).in_(list(ids)), Delivery.status == DeliveryStatus.PENDING)
            .order_by(col(Digest.day), col(Delivery.id))
            .execution_options(populate_existing=True)
        ).all()
        queues: dict[Recipient, deque[tuple[Delivery, Digest]]] = {}
        for delivery, digest in rows:
            queues.setdefault((delivery.channel, delivery.recipient), deque()).append(
                (delivery, digest)
            )
        return queues

    def _round(self, queues: dict[Recipient, deque[tuple[Delivery, Digest]]]) -> None:
        """Send one part to each recipient that is ready; sleep when none is."""
        now = time.monotonic()
        ready = [key for key in queues if self._ready_at.get(key, 0.0) <= now]
        if not ready:
            time.sleep(max(min(self._ready_at[key] for key in queues) - now, 0.0))
            return
        for key in ready:
            queue = queues[key]
            delivery, digest = queue[0]
            if self._advance(delivery, digest):
                if delivery.status == DeliveryStatus.SENT:
                    self.tally.sent += 1
                    queue.popleft()
                elif delivery.status == DeliveryStatus.FAILED:  # the recipient is gone
                    self.tally.failed += 1
                    queue.popleft()
            else:
                # A send failed: this recipient's later digests wait for the next run too.
                failed = delivery.status == DeliveryStatus.FAILED
                self.tally.failed += failed
                self.tally.retrying += len(queue) - failed
                queue.clear()
            if not queue:
                del queues[key]

    def _advance(self, delivery: Delivery, digest: Digest) -> bool:
        """Start the delivery if it is new to this run, else send its next part; False on a
        failed send."""
        if delivery.id not in self._started:
            self._started.add(delivery.id)
            self._start(delivery, digest)
            if delivery.status != DeliveryStatus.PENDING:
                return True
        channel = self.channels[delivery.channel]
        if not send_next_part(self.session, delivery, channel):
            return False
        self.tally.parts += 1
        key = (delivery.channel, delivery.recipient)
        self._ready_at[key] = time.monotonic() + channel.part_interval
        return True

    def _start(self, delivery: Delivery, digest: Digest) -> None:
        """Count the attempt and, while nothing is out yet, render the newest parts."""
        subscription = self.subscriptions.get((delivery.channel, delivery.recipient))
        if subscription is None or not subscription.active:
            fail(delivery, "the recipient unsubscribed", final=True)
            self.session.commit()
            return
        delivery.attempts += 1
        if delivery.parts_sent == 0:
            # Nothing is out yet, so the newest summaries may still go in; once a part is out,
            # the stored parts are what a re-run resumes, whatever has changed since.
            parts = self.render(delivery, digest, subscription)
            if isinstance(parts, str):
                fail(delivery, parts, final=True)
            else:
                delivery.parts = [message_to_json(message) for message in parts]
                delivery.parts_total = len(parts)
        self.session.commit()

    def _renew(self, queues: dict[Recipient, deque[tuple[Delivery, Digest]]]) -> None:
        """Extend the leases of what is left; drop what another worker has taken over."""
        left = [delivery.id for queue in queues.values() for delivery, _ in queue]
        kept = set(self._claim([row for row in left if row is not None]))
        for key in list(queues):
            lost = [d for d, _ in queues[key] if d.id not in kept]
            if lost:
                logger.warning("outbox: lost the lease of %d delivery(ies) to %s", len(lost), key)
                self.tally.elsewhere += len(queues.pop(key))
