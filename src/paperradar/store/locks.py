"""A lock row in the database: one pipeline at a time across processes and hosts."""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from paperradar.errors import PaperRadarError
from paperradar.store.records import PipelineLock, utc_now

logger = logging.getLogger(__name__)

PIPELINE = "pipeline"


class LockBusyError(PaperRadarError):
    """Another process holds the lock."""


@functools.cache
def process_holder() -> str:
    """Return this process's holder name: host, pid and a token unique to this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead_local(holder: str) -> bool:
    """Whether a holder names a process on this host that no longer runs.

    A holder with this process's pid but another token is an earlier incarnation (a restarted
    container reuses pid 1), so it is dead too.
    """
    host, _, rest = holder.partition(":")
    pid_text, _, _token = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return holder != process_holder()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(engine: Engine, name: str, *, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take the lock for this process unless someone alive holds it; return whether taken."""
    now = now or utc_now()
    table = PipelineLock.__table__  # type: ignore[attr-defined]
    with Session(engine) as session:
        current = session.get(PipelineLock, name)
        if current is not None and (current.expires_at <= now or is_dead_local(current.holder)):
            # Only the exact row seen is removed, so two processes cannot both clear a new one.
            logger.warning("lock %s: freeing the stale hold of %s", name, current.holder)
            session.execute(
                delete(table).where(table.c.name == name, table.c.holder == current.holder)
            )
            session.commit()
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(table).values(
                    name=name, holder=process_holder(), acquired_at=now, expires_at=now + ttl
                )
            )
    except IntegrityError:
        return False
    return True


def renew(engine: Engine, name: str, *, ttl: timedelta, now: datetime | None = None) -> bool:
    """Push this process's lock expiry forward; False when the lock is no longer ours."""
    table = PipelineLock.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        result = connection.execute(
            update(table)
            .where(table.c.name == name, table.c.holder == process_holder())
            .values(expires_at=(now or utc_now()) + ttl)
        )
    return result.rowcount == 1


def release(engine: Engine, name: str) -> None:
    """Give the lock back if this process holds it."""
    table = PipelineLock.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(
            delete(table).where(table.c.name == name, table.c.holder == process_holder())
        )


def describe(engine: Engine, name: str) -> PipelineLock | None:
    """Return the lock row, if anyone holds it."""
    with Session(engine, expire_on_commit=False) as session:
        return session.get(PipelineLock, name)


def _heartbeat(engine: Engine, name: str, ttl: timedelta, stop: threading.Event) -> None:
    while not stop.wait(ttl.total_seconds() / 3):
        if not renew(engine, name, ttl=ttl):
            logger.error("lock %s: lost to another process while still running", name)
            return


@contextmanager
def held(engine: Engine, name: str, *, ttl: timedelta) -> Iterator[None]:
    """Hold the lock for the block, renewing it in the background; raise LockBusyError if busy."""
    if not acquire(engine, name, ttl=ttl):
        row = describe(engine, name)
        who = f"{row.holder} since {row.acquired_at:%Y-%m-%d %H:%M:%S} UTC" if row else "another"
        until = f" (it frees itself at {row.expires_at:%H:%M:%S} UTC)" if row else ""
        raise LockBusyError(
            f"a pipeline run is already in progress: {who}{until}; wait for it to finish"
        )
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(engine, name, ttl, stop), name=f"lock-{name}", daemon=True
    )
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()
        release(engine, name)
