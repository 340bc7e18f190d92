"""One SQLite write transaction at a time in this daemon, waited for without SQLite.

SQLite lets one connection write at a time; the others wait in its busy handler,
which sleeps 1, 2, 5, 10, 15 … ms between tries and gives up after the busy timeout.
The single writer (door taps) waits at most 150 ms there, so that a database another
*process* holds locked refuses an entry within 250 ms. But a write of this daemon's
own (a token's last use, a login, an Idempotency-Key) runs through aiosqlite, one
event-loop turn per statement; on a busy loop it held the lock long enough for a
door-in tap to be refused "database unavailable" (seen in the memory bench).

So every write transaction of this daemon takes the gate first: the writer on its
thread (:meth:`WriteGate.hold`), the others with :func:`write_tx` (awaited in a thread,
never blocking the loop). A tap then waits for the daemon's own write to finish
(milliseconds, woken at once, not by SQLite's sleeps), and SQLite's busy timeout is
left to other processes. PostgreSQL locks rows, not the database: no gate there.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# How long the writer waits for a write of this daemon before it calls the database
# unavailable; every such write is a few statements.
GATE_WAIT_S = 2.0

_GATES: dict[Path, WriteGate] = {}
_GATES_LOCK = threading.Lock()


class WriteGate:
    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self, wait_s: float = GATE_WAIT_S) -> Iterator[None]:
        """On a worker thread: the gate for one transaction, or "database is locked"."""
        if not self._lock.acquire(timeout=wait_s):
            raise _locked()
        try:
            yield
        finally:
            self._lock.release()

    async def enter(self, wait_s: float) -> None:
        """On the event loop: take the gate without blocking the loop."""
        if self._lock.acquire(blocking=False):
            return
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, lambda: self._lock.acquire(timeout=wait_s)):
            raise _locked()

    def leave(self) -> None:
        self._lock.release()


def _locked() -> OperationalError:
    """As SQLAlchemy reports SQLite's own "database is locked"."""
    return OperationalError(
        "BEGIN (write gate)", None, sqlite3.OperationalError("database is locked")
    )


def gate_of(engine: AsyncEngine) -> WriteGate | None:
    """The gate of the SQLite file ``engine`` writes to (None for PostgreSQL or memory)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    if engine.url.database == ":memory:":
        return None
    path = Path(engine.url.database).resolve()
    with _GATES_LOCK:
        return _GATES.setdefault(path, WriteGate())


@contextlib.asynccontextmanager
async def write_tx(engine: AsyncEngine, wait_s: float = 5.0) -> AsyncIterator[AsyncConnection]:
    """``engine.begin()`` for a write, behind the SQLite gate of this daemon."""
    gate = gate_of(engine)
    if gate is None:
        async with engine.begin() as conn:
            yield conn
        return
    await gate.enter(wait_s)
    try:
        async with engine.begin() as conn:
            yield conn
    finally:
        gate.leave()
