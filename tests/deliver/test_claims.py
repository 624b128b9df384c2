import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from paperradar.deliver.claims import claim, release
from paperradar.store.db import session_scope
from paperradar.store.records import Delivery, Digest
from paperradar.store.states import DeliveryStatus

NOW = datetime(2025, 10, 15, 1, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def _outbox(engine: Engine, rows: int) -> None:
    with session_scope(engine) as session:
        digest = Digest(profile="default", day=date(2025, 10, 15), announced=True, candidates=9)
        session.add(digest)
        session.flush()
        assert digest.id is not None
        for n in range(rows):
            session.add(Delivery(digest_id=digest.id, channel="telegram", recipient=str(n)))


def _pending(limit: int):  # type: ignore[no-untyped-def]
    return (
        select(col(Delivery.id))
        .where(Delivery.status == DeliveryStatus.PENDING)
        .order_by(col(Delivery.id))
        .limit(limit)
    )


def test_workers_claim_disjoint_rows_and_a_dead_workers_lease_expires(engine: Engine) -> None:
    _outbox(engine, 6)
    with Session(engine) as first, Session(engine) as second:
        mine = claim(first, _pending(3), holder="a", now=NOW, lease=LEASE)
        theirs = claim(second, _pending(3), holder="b", now=NOW, lease=LEASE)
        assert mine == [1, 2, 3]
        assert theirs == [4, 5, 6]
        assert claim(second, _pending(6), holder="b", now=NOW, lease=LEASE) == [4, 5, 6]
        # Worker a dies; once its lease runs out, b takes its rows.
        later = NOW + LEASE + timedelta(seconds=1)
        assert claim(second, _pending(6), holder="b", now=later, lease=LEASE) == [1, 2, 3, 4, 5, 6]
        release(second, [1, 2, 3], holder="b")
        assert claim(first, _pending(3), holder="a", now=NOW, lease=LEASE) == [1, 2, 3]


def test_many_workers_at_once_claim_every_row_exactly_once(engine: Engine) -> None:
    _outbox(engine, 120)
    claimed: dict[str, list[int]] = {}

    def work(name: str) -> None:
        taken: list[int] = []
        with Session(engine) as session:
            while batch := claim(session, _pending(7), holder=name, now=NOW, lease=LEASE):
                taken.extend(batch)
                for delivery in session.exec(select(Delivery).where(col(Delivery.id).in_(batch))):
                    delivery.status = DeliveryStatus.SENT  # what sending them does
                session.commit()
        claimed[name] = taken

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    every = [row for rows in claimed.values() for row in rows]
    assert sorted(every) == list(range(1, 121))


def test_postgresql_skips_rows_another_transaction_has_locked(
    engine: Engine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's")
    _outbox(engine, 5)
    with Session(engine) as holder, Session(engine) as worker:
        locked = (
            holder.execute(select(col(Delivery.id)).where(col(Delivery.id) <= 2).with_for_update())
            .scalars()
            .all()
        )
        assert locked == [1, 2]
        # Waiting on a locked row would fail within a second here; skipping never waits.
        worker.execute(text("SET lock_timeout = '1s'"))
        assert claim(worker, _pending(5), holder="w", now=NOW, lease=LEASE) == [3, 4, 5]
        holder.rollback()
