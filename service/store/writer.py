"""The single writer: every change of state, one at a time, committed in groups.

Callers hand the writer a rule (``fn(tx) -> result``). The writer runs rules one
after another on the in-memory state, gathers the facts of every rule waiting
in its queue, and commits them in ONE transaction (group commit); only then are
the callers answered. A rule that raises is rolled back alone. A commit that
fails rolls every rule of the batch back: on a unique-key conflict (another
process wrote first) the state is reloaded and the batch run again; when the
database is unreachable the callers get :class:`~service.errors.Unavailable`
and nothing is half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from service.domain.model import Fact, RoomState
from service.domain.policy import Policy
from service.domain.tx import Tx
from service.errors import BidroomError, Unavailable
from service.store.engine import sync_engine_for
from service.store.loader import journal_head, load_state
from service.store.persist import Batch, Head, Persister, write_async, write_sync

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 256
MAX_CONFLICT_RETRIES = 3

Rule = Callable[[Tx], Any]
Listener = Callable[[list[Fact]], None]


@dataclass(slots=True)
class _Job:
    rule: Rule
    future: asyncio.Future[Any]


class Writer:
    def __init__(
        self,
        engine: AsyncEngine,
        state: RoomState,
        policy: Policy,
        persister: Persister,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        # SQLite: the writer commits on its own synchronous connection in its own thread.
        self._sync_engine = sync_engine_for(engine)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer")
        self.state = state
        self.policy = policy
        self._persister = persister
        self._clock = clock
        self.head = Head()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Listener] = []
        self.commits = 0
        self._reload_requested = False
        self._check_stale = False

    def subscribe(self, listener: Listener) -> None:
        """``listener(facts)`` is called after every commit (never raises into the writer)."""
        self._listeners.append(listener)

    async def load(self) -> None:
        async with self.engine.connect() as conn:
            self.head = await load_state(conn, self.state, self.policy, self._clock())
        self._persister.forget_keys()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="writer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._sync_engine is not None:
            self._sync_engine.dispose()
        self._executor.shutdown(wait=True)
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(
                    Unavailable("Layanan sedang berhenti.", "The service is stopping.")
                )

    async def execute(self, rule: Callable[[Tx], T]) -> T:
        """Run ``rule`` in the writer; return its result once its facts are committed."""
        if self._task is None:
            raise Unavailable("Layanan belum berjalan.", "The service is not running.")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(rule, future))
        return await future

    async def _run(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < MAX_BATCH and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                if self._check_stale:
                    self._check_stale = False
                    self._reload_requested = self._reload_requested or await self._stale()
                if self._reload_requested:
                    self._reload_requested = False
                    _LOGGER.info("reloading the state from the database")
                    await self.load()
                    self._publish([])
                await self._process(jobs)
            except Exception as exc:  # the writer must survive anything
                _LOGGER.exception("writer batch failed")
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)

    async def _process(self, jobs: list[_Job], attempt: int = 0) -> None:
        done: list[tuple[_Job, Tx, Any]] = []
        for job in jobs:
            if job.future.cancelled():
                continue
            tx = Tx(self.state)
            try:
                result = job.rule(tx)
            except BidroomError as exc:
                tx.rollback()
                job.future.set_exception(exc)
                continue
            except Exception as exc:
                tx.rollback()
                _LOGGER.exception("rule failed")
                job.future.set_exception(exc)
                continue
            if tx.dirty:  # a rule must name what it did: changes outside a fact are a bug
                tx.rollback()
                _LOGGER.error("rule left changes outside a fact; rolled back")
                job.future.set_exception(RuntimeError("rule left changes outside a fact"))
                continue
            done.append((job, tx, result))
        facts = [fact for _, tx, _ in done for fact in tx.facts]
        if facts:
            try:
                await self._commit(facts)
            except IntegrityError as exc:
                self._undo(done)
                if attempt >= MAX_CONFLICT_RETRIES:
                    self._fail(done, exc)
                    return
                _LOGGER.warning(
                    "write conflict (%s); reloading state and retrying",
                    type(exc.orig).__name__ if exc.orig else exc,
                )
                await self._reload_or_fail(done)
                await self._process([job for job, _, _ in done], attempt + 1)
                return
            except (OperationalError, DBAPIError, OSError) as exc:
                self._undo(done)
                self._fail(done, exc)
                return
        for job, _, result in done:
            if not job.future.done():
                job.future.set_result(result)
        if facts:
            self._publish(facts)

    async def _commit(self, facts: list[Fact]) -> None:
        batch = await self._persister.prepare(facts, self.head)
        try:
            if self._sync_engine is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._commit_sync, batch
                )
            else:
                async with self.engine.begin() as conn:
                    await write_async(conn, batch)
        except BaseException:
            self._persister.rolled_back()
            raise
        self._persister.committed()
        self.head = batch.head
        self.commits += 1

    def _commit_sync(self, batch: Batch) -> None:
        assert self._sync_engine is not None
        with self._sync_engine.begin() as conn:
            write_sync(conn, batch)

    def _undo(self, done: list[tuple[_Job, Tx, Any]]) -> None:
        for _, tx, _ in reversed(done):
            tx.rollback()

    def _fail(self, done: list[tuple[_Job, Tx, Any]], exc: Exception) -> None:
        _LOGGER.error("database write failed, nothing saved: %s", exc)
        error = Unavailable(
            "Basis data sedang tidak dapat dihubungi; tidak ada yang tersimpan. Coba lagi.",
            "The database is unreachable; nothing was saved. Please try again.",
        )
        for job, _, _ in done:
            if not job.future.done():
                job.future.set_exception(error)

    async def _reload_or_fail(self, done: list[tuple[_Job, Tx, Any]]) -> None:
        try:
            await self.load()
        except (OperationalError, DBAPIError, OSError) as exc:
            self._fail(done, exc)
            raise

    def request_reload(self) -> None:
        """Reload the state from the tables before the next batch (e.g. a new day)."""
        self._reload_requested = True

    async def refresh_if_stale(self) -> None:
        """Reload if another process has written to the journal since our last commit.

        The check runs inside the writer, between two batches, so a commit of our own
        can never be mistaken for someone else's.
        """
        self._check_stale = True

        def checkpoint(tx: Tx) -> None:
            return None

        await self.execute(checkpoint)

    async def _stale(self) -> bool:
        async with self.engine.connect() as conn:
            head = await journal_head(conn)
        return head.seq != self.head.seq or head.hash != self.head.hash

    def _publish(self, facts: list[Fact]) -> None:
        for listener in self._listeners:
            try:
                listener(facts)
            except Exception:
                _LOGGER.exception("listener failed")
