"""Sealing a signed day from the running daemon: the files made in the worker process,
their hashes journaled, the files stored; and the listener that seals each day once
it is signed (and again once the Head signs its amendments).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import insert

from service.domain import facts as f
from service.reports.archive import SealedFile, sha256
from service.reports.jobs import seal_files_job
from service.store.loader import journal_head
from service.store.tables import SealedFileRow, table_of
from service.workers import WORKERS

if TYPE_CHECKING:
    from service.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
_SEALED = table_of(SealedFileRow)


async def seal_day(runtime: Runtime, day: date, actor: str = "system") -> list[SealedFile]:
    """Seal a signed-off day: files stored with their SHA-256, hashes journaled.

    Call it after the ``day.signed`` fact is committed (the journal head then
    covers the signature). Sealing again (after the Head signs amendments) adds a
    newer seal; verification uses the newest one. The files are made in the worker
    process (:mod:`service.workers`), away from the loop that answers the doors.
    """
    config, engine = runtime.config, runtime.engine
    async with engine.connect() as conn:
        head = await journal_head(conn)
    now = runtime.clock()
    signed_amendments = sorted(
        a.id for a in runtime.state.amendments.values() if a.day == day and a.signed_at
    )
    files = await WORKERS.run(
        seal_files_job, config, day, (head.seq, head.hash), now, signed_amendments
    )
    sealed = [SealedFile(day, n, sha256(data), len(data)) for n, data in files.items()]
    fact = f.DaySealed(
        at=now,
        actor=actor,
        day=day,
        journal_seq=head.seq,
        files=tuple(f.SealedFile(name=s.name, sha256=s.sha256) for s in sealed),
    )
    await runtime.execute(lambda tx: tx.emit(fact))
    async with engine.begin() as conn:
        await conn.execute(
            insert(_SEALED),
            [
                {
                    "day": day,
                    "name": s.name,
                    "sha256": s.sha256,
                    "journal_seq": head.seq,
                    "journal_hash": head.hash,
                    "content": files[s.name],
                    "created_at": now,
                }
                for s in sealed
            ],
        )
    _LOGGER.info("sealed %s: %d files at journal seq %d", day, len(sealed), head.seq)
    return sealed


class SealOnSignOff:
    """A runtime fact listener: seals a day once it is signed, and again when amendments are.

    ``runtime.fact_listeners.append(seal_listener)`` after start, ``await
    seal_listener.stop()`` before ``runtime.stop()``. Every sealing task is kept
    until done; a failure is logged (the day can be sealed again with
    :func:`seal_day`).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._tasks: set[asyncio.Task[list[SealedFile]]] = set()

    def __call__(self, facts: list[f.Fact]) -> None:
        for fact in facts:
            if isinstance(fact, f.DaySigned | f.AmendmentsSigned):
                task = asyncio.create_task(seal_day(self.runtime, fact.day), name="seal")
                self._tasks.add(task)
                task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[list[SealedFile]]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("sealing failed: %s", task.exception())

    async def wait(self) -> None:
        """Until every sealing started so far is done."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
