"""Claim outbox rows for one delivery worker, so several workers share the outbox safely.

On PostgreSQL the candidates are read with `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent
workers never wait on each other's rows. The claim itself is a lease written on the row
(`claimed_by`, `claimed_until`), because a worker commits after every part it sends and a row
lock would not outlive the first commit; a worker that dies lets go when its lease expires.
SQLite has one writer at a time, and the conditional update alone makes a claim exclusive there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, update
from sqlmodel import Session, col, select

from paperradar.store.locks import is_dead_local
from paperradar.store.records import Delivery
from paperradar.store.states import DeliveryStatus

logger = logging.getLogger(__name__)


def claim(
    session: Session,
    candidates: Select[int | None],
    *,
    holder: str,
    now: datetime,
    lease: timedelta,
) -> list[int]:
    """Lease the candidate deliveries no other live worker holds; return the ids now ours.

    `candidates` selects Delivery ids (filtered, ordered and limited by the caller). The claim
    is committed before it returns.
    """
    free = or_(
        col(Delivery.claimed_until).is_(None),
        col(Delivery.claimed_until) < now,
        col(Delivery.claimed_by) == holder,
    )
    locked = candidates.where(free).with_for_update(skip_locked=True, of=Delivery)
    ids = list(session.execute(locked).scalars())
    if not ids:
        session.rollback()
        return []
    claimed = session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(ids), free)
        .values(claimed_by=holder, claimed_until=now + lease)
        .returning(col(Delivery.id))
    )
    mine = sorted(claimed.scalars())
    session.commit()
    return mine


def release(session: Session, ids: Sequence[int], *, holder: str) -> None:
    """Give back the leases of these deliveries that this worker holds."""
    if ids:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(list(ids)), col(Delivery.claimed_by) == holder)
            .values(claimed_by=None, claimed_until=None)
        )
        session.commit()


def free_dead_leases(session: Session, now: datetime) -> None:
    """Give back the live leases of workers on this host whose process has died.

    A killed worker's rows would otherwise wait for their lease to expire; a restarted one
    (same host, its pid gone) takes them over at once.
    """
    holders = session.exec(
        select(Delivery.claimed_by)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            col(Delivery.claimed_until) >= now,
            col(Delivery.claimed_by).is_not(None),
        )
        .distinct()
    ).all()
    dead = [holder for holder in holders if holder is not None and is_dead_local(holder)]
    if dead:
        logger.warning("outbox: freeing the leases of dead worker(s) %s", ", ".join(dead))
        session.execute(
            update(Delivery)
            .where(col(Delivery.claimed_by).in_(dead))
            .values(claimed_by=None, claimed_until=None)
        )
    session.commit()
