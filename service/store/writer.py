"""The single writer: every change, one rule at a time, committed in groups.

Two states:

- the **working** state, which only the writer touches: rules run on it and
  their facts are applied to it at once;
- the **published** state, which everyone else reads (pages, SSE, the API, the
  roll call, the readers' decisions' answers). It changes only after a commit,
  by applying the committed facts, inside one step of the event loop, so nobody
  ever sees a half-applied or uncommitted change. A reload builds a new state
  from the database and swaps both in one step.

Callers hand the writer a rule (``fn(tx) -> result``). The writer runs the rules
waiting in its queue one after another, prepares each one's rows on its own (a
rule that raises, or whose rows cannot be prepared, fails alone, and the working
state is rebuilt from the published one plus the rules accepted so far), then
commits the batch in ONE transaction (group commit) and only then answers.

A failed commit leaves the published state as it was and rebuilds the working
state from it. What happens next depends on what failed:

- another writer took our journal sequence number (a second daemon on the same
  PostgreSQL, a CLI command): reload and run the batch again on the fresh state;
- the database is unreachable, locked or broken: every caller of the batch gets
  :class:`~service.errors.Unavailable`;
- anything else (a constraint a row broke): the rules are run and committed one
  by one, so only the one at fault fails, with its own error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from service.domain import facts as f
from service.domain.apply import apply
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import BidroomError, Conflict, Unavailable, ValidationError
from service.i18n import _
from service.store.catchup import CannotCatchUp, facts_after
from service.store.engine import sync_engine_for
from service.store.persist import (
    Head,
    Part,
    Persister,
    build_batch,
    is_journal_conflict,
    write_async,
    write_sync,
)
from service.store.write_gate import gate_of

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 256
MAX_CONFLICT_RETRIES = 5

Rule = Callable[[Tx], Any]
Listener = Callable[[list[f.Fact]], None]
Loader = Callable[[], Awaitable[tuple[RoomState, Head]]]

UNAVAILABLE = Unavailable(
    _("Basis data sedang tidak dapat dihubungi; tidak ada yang tersimpan. Coba lagi."),
)


class JournalConflict(Exception):
    """Another writer committed first: our state is stale."""


@dataclass(slots=True)
class _Job:
    rule: Rule
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Done:
    job: _Job
    facts: list[f.Fact]
    part: Part
    result: Any


def _internal(exc: Exception) -> BidroomError:
    """What a caller hears when its rule broke: a plain message (the log has the rest)."""
    if isinstance(exc, BidroomError):
        return exc
    return BidroomError(
        _(
            "Permintaan ini tidak dapat diproses; tidak ada yang tersimpan. Kesalahan sudah dicatat."
        ),
    )


def _data_error(exc: DBAPIError) -> BidroomError:
    if isinstance(exc, IntegrityError):
        return Conflict(
            _("Data ini bertentangan dengan catatan yang sudah ada; tidak ada yang tersimpan."),
        )
    return ValidationError(
        _("Data ini tidak dapat disimpan (nilai di luar batas); tidak ada yang tersimpan."),
    )


class Writer:
    def __init__(
        self,
        engine: AsyncEngine,
        persister: Persister,
        loader: Loader,
        tz: tzinfo,
    ) -> None:
        self.engine = engine
        # SQLite: the writer commits on its own synchronous connection in its own thread.
        self._sync_engine = sync_engine_for(engine)
        self._gate = gate_of(engine)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer")
        self._persister = persister
        self._loader = loader
        self._tz = tz
        self.published = RoomState()
        self._working = RoomState()
        self.head = Head()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Listener] = []
        self.commits = 0
        self.catch_ups = 0  # other writers' commits applied from the journal
        # For /metrics: batches the database refused as unavailable, and each commit's time.
        self.database_errors = 0
        self.commit_observers: list[Callable[[float], None]] = []
        self._reload_requested = False
        self._check_stale = False
        # Since when the database refuses our writes (None: the last write went through).
        self.unavailable_since: datetime | None = None

    def subscribe(self, listener: Listener) -> None:
        """``listener(facts)`` is called after every commit (never raises into the writer)."""
        self._listeners.append(listener)

    @property
    def queue_depth(self) -> int:
        """Rules waiting for the writer (the batch being committed is not counted)."""
        return self._queue.qsize()

    # -- life cycle -----------------------------------------------------------------
    async def load(self) -> None:
        """Build a new state from the database and swap it in (published and working)."""
        state, head = await self._loader()
        self._persister.forget_keys()
        self.published, self._working, self.head = state, state.clone(), head

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
                job.future.set_exception(Unavailable(_("Layanan sedang berhenti.")))

    async def execute(self, rule: Callable[[Tx], T]) -> T:
        """Run ``rule`` in the writer; return its result once its facts are committed."""
        if self._task is None:
            raise Unavailable(_("Layanan belum berjalan."))
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(rule, future))
        return await future

    def request_reload(self) -> None:
        """Reload the state from the tables before the next batch (e.g. a new day)."""
        self._reload_requested = True

    async def refresh_if_stale(self) -> None:
        """Reload if another process has written to the journal since our last commit.

        The check runs inside the writer, between two batches, so a commit of our own
        can never be mistaken for someone else's.
        """
        self._check_stale = True
        await self.execute(lambda tx: None)

    # -- the loop ---------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < MAX_BATCH and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                await self._reload_if_due()
                await self._process(jobs)
            except Exception as exc:  # the writer must survive anything
                _LOGGER.exception("writer batch failed")
                self._rebuild([])
                unavailable = isinstance(exc, DBAPIError | OSError)
                self.database_errors += unavailable
                if unavailable:
                    self._went_unavailable()
                error = UNAVAILABLE if unavailable else _internal(exc)
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(error)

    async def _reload_if_due(self) -> None:
        if self._check_stale:
            self._check_stale = False
            if not self._reload_requested and await self._stale():
                self._reload_requested = not await self._catch_up()
        if self._reload_requested:
            self._reload_requested = False
            _LOGGER.info("reloading the state from the database")
            await self.load()
            self._notify([])

    async def _catch_up(self) -> bool:
        """Apply what other writers committed after our head (False: reload instead)."""
        try:
            facts, head = await facts_after(self.engine, self.head, self._persister.personal)
        except CannotCatchUp as exc:
            _LOGGER.info("reloading instead of catching up: %s", exc)
            return False
        try:
            for fact in facts:  # no await in between: nobody sees a half-applied state
                apply(self.published, fact)
            self.published.taps_in_flight.clear()
        except Exception:
            _LOGGER.exception("another writer's facts do not apply here; reloading")
            return False
        self.head = head
        self.catch_ups += 1
        if any(isinstance(fact, f.PersonalDataErased) for fact in facts):
            self._persister.forget_keys()  # a shredded key must not be used from memory
        self._rebuild([])
        self._notify(facts)
        return True

    async def _stale(self) -> bool:
        from service.store.loader import journal_head

        async with self.engine.connect() as conn:
            head = await journal_head(conn)
        return head.seq != self.head.seq or head.hash != self.head.hash

    async def _process(self, jobs: list[_Job], attempt: int = 0) -> None:
        done = await self._run_rules(jobs)
        if not any(d.facts for d in done):
            self._answer(done)
            return
        try:
            await self._commit([d.part for d in done])
        except JournalConflict:
            self._rebuild([])
            if attempt >= MAX_CONFLICT_RETRIES:
                self._fail(done, UNAVAILABLE)
                return
            _LOGGER.info("write conflict: another writer committed first; catching up")
            if not await self._catch_up():
                await self.load()
            await self._process([d.job for d in done], attempt + 1)
            return
        except (OperationalError, InterfaceError, OSError) as exc:
            self._rebuild([])
            self.database_errors += 1
            self._went_unavailable()
            _LOGGER.error("database write failed, nothing saved: %s", type(exc).__name__)
            self._fail(done, UNAVAILABLE)
            return
        except DBAPIError as exc:
            self._rebuild([])
            if len(done) == 1:
                _LOGGER.warning("a rule's rows were refused: %s", type(exc.orig).__name__)
                self._fail(done, _data_error(exc))
                return
            _LOGGER.warning(
                "a batch was refused (%s); committing its rules one by one", type(exc.orig).__name__
            )
            for d in done:
                await self._process([d.job], attempt)
            return
        self._publish(done)

    async def _run_rules(self, jobs: list[_Job]) -> list[_Done]:
        done: list[_Done] = []
        for job in jobs:
            if job.future.done():
                continue
            tx = Tx(self._working, self._tz)
            try:
                result = job.rule(tx)
                tx.finish()
                part = await self._persister.prepare(tx, self._working)
            except Exception as exc:
                if not isinstance(exc, BidroomError):
                    _LOGGER.exception("rule failed; nothing of it was kept")
                if tx.facts:
                    self._rebuild(done)
                job.future.set_exception(_internal(exc))
                continue
            done.append(_Done(job, tx.facts, part, result))
        return done

    def _rebuild(self, done: list[_Done]) -> None:
        """The working state becomes the published one plus the accepted rules' facts."""
        self._persister.rolled_back()
        working = self.published.clone()
        for d in done:
            for fact in d.facts:
                apply(working, fact)
        self._working = working

    async def _commit(self, parts: list[Part]) -> None:
        batch = build_batch(parts, self.head, self.engine.dialect.name == "postgresql")
        started = time.perf_counter()
        try:
            if self._sync_engine is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._commit_sync, batch
                )
            else:
                async with self.engine.begin() as conn:
                    await write_async(conn, batch)
        except IntegrityError as exc:
            self._persister.rolled_back()
            if is_journal_conflict(exc) or await self._head_moved():
                raise JournalConflict from exc
            raise
        except BaseException:
            self._persister.rolled_back()
            raise
        self._persister.committed()
        self.head = batch.head
        if self.unavailable_since is not None:
            _LOGGER.warning("the database takes writes again")
            self.unavailable_since = None
        self.commits += 1
        for observe in self.commit_observers:
            observe(time.perf_counter() - started)

    def _went_unavailable(self) -> None:
        if self.unavailable_since is None:
            self.unavailable_since = datetime.now(UTC)

    def mark_available(self) -> None:
        """A probe wrote to the database: it is back, even before our next commit."""
        self.unavailable_since = None

    async def between_commits(self, work: Callable[[], None]) -> None:
        """Run ``work`` on the writer's own thread, between two commits (SQLite): a WAL
        checkpoint there sees no frame appended while it runs, so it can fold the whole
        WAL back and the next commit starts the WAL over instead of growing it."""
        await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def _commit_sync(self, batch: Any) -> None:
        assert self._sync_engine is not None
        gate = self._gate.hold() if self._gate is not None else contextlib.nullcontext()
        with gate, self._sync_engine.begin() as conn:
            write_sync(conn, batch)

    async def _head_moved(self) -> bool:
        try:
            return await self._stale()
        except (DBAPIError, OSError):
            return False

    def _publish(self, done: list[_Done]) -> None:
        """After the commit: the published state applies the facts, then callers hear."""
        facts = [fact for d in done for fact in d.facts]
        for fact in facts:
            apply(self.published, fact)
        self.published.taps_in_flight.clear()
        self._working.taps_in_flight.clear()
        self._answer(done)
        self._notify(facts)

    @staticmethod
    def _answer(done: list[_Done]) -> None:
        for d in done:
            if not d.job.future.done():
                d.job.future.set_result(d.result)

    @staticmethod
    def _fail(done: list[_Done], error: BidroomError) -> None:
        for d in done:
            if not d.job.future.done():
                d.job.future.set_exception(error)

    def _notify(self, facts: list[f.Fact]) -> None:
        for listener in self._listeners:
            try:
                listener(facts)
            except Exception:
                _LOGGER.exception("listener failed")
