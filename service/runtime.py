"""Wires it all together: readers -> rules -> store -> events -> feedback.

Every tap from every source (device adapters, ``POST /api/v1/taps``, the demo
panel, ``bidroom simulate tap``) goes through :meth:`Runtime.submit`, which is
the one path: idempotency by ``event_id``, then the pure access rules inside the
single writer, answered only after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from devices.base import ReaderHealth
from devices.registry import DeviceContext, build_adapters
from devices.supervisor import Supervisor
from service import status
from service.config import Config
from service.configured import configure_facilities, policy_from_config
from service.credentials import Credentials
from service.domain import alarms, queue
from service.domain import facts as f
from service.domain.state import RoomState
from service.domain.taps import Decision, Tap
from service.domain.tx import Tx
from service.doors import WATCH_S, Doors, alarm_view
from service.errors import BidroomError, Unavailable
from service.events import EventHub
from service.i18n import _
from service.intake import TapIntake
from service.keyfile import KeyFile
from service.metrics import Metrics
from service.notices import Notices
from service.privacy import PersonalData
from service.recovery import recover_database
from service.speech import Speech
from service.spool import ExitSpool
from service.store.engine import checkpoint, make_engine, sqlite_path
from service.store.integrity import mark_clean, prepare_database
from service.store.loader import load_state
from service.store.notify import listen_for_commits
from service.store.persist import Persister
from service.store.writer import Writer

if TYPE_CHECKING:
    from devices.printer import TicketPrinter

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Clock = Callable[[], datetime]
TICK_S = 1.0
SPOOL_FILE = "bidroom-exit-spool.db"
STALE_CHECK_S = 2.0
# At stop: how long the writer may take to finish what it was given, and how long the
# readers get to show the last decisions before they are closed.
DRAIN_S = 10.0
READER_GRACE_S = 0.3


class Stopping(Unavailable):
    code = "stopping"


STOPPING = Stopping(
    _("Layanan sedang berhenti; tap tidak diproses. Coba lagi sebentar lagi."),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    reader: str
    kind: str
    at: datetime


class Runtime:
    def __init__(
        self, config: Config, *, clock: Clock = utc_now, start_readers: bool = True
    ) -> None:
        self.config = config
        self.clock = clock
        self.keys = KeyFile.open(config.security.key_file)
        self.token_key = self.keys.derive("badge-token")
        self.personal = PersonalData(self.keys)
        self.policy = policy_from_config(config, self.token_key)
        self.engine = make_engine(config.database_url)
        self.notices = Notices(self.engine)  # a database moved aside, until an admin acks it
        self.credentials = Credentials(self.engine)  # tokens and sessions, from memory
        self.writer = Writer(
            self.engine,
            Persister(self.personal, self.engine),
            lambda: load_state(self.engine, self.policy, self.clock()),
            self.policy.tz,
        )
        self.health: dict[str, ReaderHealth] = {
            r.name: ReaderHealth(r.name) for r in config.readers
        }
        self.device_events: deque[DeviceEvent] = deque(maxlen=50)
        self.hub = EventHub({"status": self.status, "queue": self.public_queue})
        self.speech = Speech()  # the waiting-area TV's spoken calls (espeak-ng)
        self._supervisors: list[Supervisor] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._start_readers = start_readers
        self._day = self.policy.day_of(clock())
        # The one path for every tap: replays, the reader's own time, the rules, the commit.
        self.spool = ExitSpool(config.security.key_file.parent / SPOOL_FILE)
        self.intake = TapIntake(
            self.writer, self.policy, self.engine, config.taps, clock, spool=self.spool
        )
        self.writer.subscribe(self._on_commit)
        self.doors = Doors(config.readers, self.health, config.room.door_open_s, clock())
        self.fact_listeners: list[Callable[[list[f.Fact]], None]] = [self.doors.note_facts]
        self.printer: TicketPrinter | None = None
        if config.printer.url:  # python-escpos is imported only for a site with a printer
            from devices.printer import TicketPrinter

            self.printer = TicketPrinter.from_url(
                config.printer.url, timeout_s=config.printer.timeout_s
            )
        self._print_jobs: set[asyncio.Task[bool]] = set()
        self._checkpointed_at = 0
        self.stopping = False  # set at the start of a stop: new taps are refused
        self.metrics = Metrics(tuple(r.name for r in config.readers))
        self.metrics.watch(self)

    @property
    def state(self) -> RoomState:
        """The published state: only what is committed (read it, never keep it across awaits)."""
        return self.writer.published

    # -- life cycle ---------------------------------------------------------
    async def start(self) -> None:
        # Waits out a lock (or raises DatabaseLocked), moves only a corrupt file aside.
        await self.notices.start(await prepare_database(self.engine, self.config))
        await self.writer.load()
        await self.intake.load()
        self.writer.start()
        await self.execute(lambda tx: configure_facilities(tx, self.config, self.clock()))
        if self._start_readers:
            self._start_devices()
        self._tasks.append(asyncio.create_task(self._ticker(), name="ticker"))
        self._tasks.append(asyncio.create_task(self._recover(), name="database-recovery"))
        if self.engine.dialect.name == "postgresql":
            self._tasks.append(asyncio.create_task(self._listen(), name="pg-listen"))

    def begin_stop(self) -> None:
        """The first step of a stop: no new taps (503, try again), live streams end."""
        self.stopping = True
        self.hub.close()

    async def stop(self) -> None:
        """Graceful: no new taps, what the writer was given committed, readers closed."""
        self.begin_stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self._drain()
        if self._supervisors:
            await asyncio.sleep(READER_GRACE_S)  # the last decisions reach their readers
        for sup in self._supervisors:
            await sup.stop()
        self._supervisors.clear()
        for job in list(self._print_jobs):
            job.cancel()
        if self.printer is not None:
            await self.printer.close()
        await self.writer.stop()
        self.spool.close()
        await self.engine.dispose()
        mark_clean(sqlite_path(self.config.database_url))

    async def _drain(self) -> None:
        """Wait until every rule handed to the writer so far is committed or failed.

        The writer takes rules in order, so a no-op rule answers only after all before it.
        """
        try:
            await asyncio.wait_for(self.writer.execute(lambda tx: None), DRAIN_S)
        except TimeoutError:
            _LOGGER.error("the writer did not finish within %g s; stopping anyway", DRAIN_S)
        except BidroomError:
            pass  # never started, or the database is gone: nothing more can commit

    def _start_devices(self) -> None:
        ctx = DeviceContext(
            keys=self.keys, token_key=self.token_key, on_device_event=self.device_event
        )
        try:
            adapters = build_adapters(self.config.readers, ctx)
        except Exception:
            _LOGGER.exception("could not build reader adapters; readers stay offline")
            return
        for adapter in adapters:
            sup = Supervisor(adapter, self.submit, self.health)
            sup.start()
            self._supervisors.append(sup)
        self._tasks.append(asyncio.create_task(self._watch_readers(), name="reader-watch"))

    async def _watch_readers(self) -> None:
        """A reader going offline or coming back is journaled (and shown) within WATCH_S."""
        while True:
            await asyncio.sleep(WATCH_S)
            for reader, kind in self.doors.changes(self.clock()):
                try:
                    await self.device_event(DeviceEvent(reader, kind, self.clock()))
                except Exception:  # the watch goes on; the next change is recorded
                    _LOGGER.exception("%s: could not record %s", reader, kind)

    # -- the one path for every tap -------------------------------------------
    async def submit(self, tap: Tap) -> Decision:
        decision, _ = await self.submit_ex(tap)
        return decision

    async def submit_ex(self, tap: Tap) -> tuple[Decision, bool]:
        """Decide a tap; ``True`` as second value when it was a replay of one decided before."""
        if tap.reader in self.health:
            self.health[tap.reader].seen()
        started = time.perf_counter()
        try:
            if self.stopping:
                raise STOPPING
            decision, replayed = await self.intake.submit(tap)
        except BidroomError as exc:
            self.metrics.tap_failed(tap.reader, exc.code)
            raise
        seconds = time.perf_counter() - started
        self.metrics.tap_decided(
            tap.reader, decision.granted, decision.reason.value, replayed, seconds
        )
        return decision, replayed

    # -- commands -------------------------------------------------------------
    async def execute(self, rule: Callable[[Tx], T]) -> T:
        """Run a rule in the single writer; the result comes back after the commit."""
        return await self.writer.execute(rule)

    async def device_event(self, event: Any) -> None:
        """Door contact, tamper, reader on/offline: shown on the status page and journaled.

        ``event`` has ``reader``, ``kind`` and ``at`` (the adapters' own event type).
        """
        at = getattr(event, "at", None) or self.clock()
        record = DeviceEvent(str(event.reader), str(event.kind), at)
        now = self.clock()
        if not self.doors.note(record.reader, record.kind, now):
            return  # the adapter and the health watch both saw it go on/offline
        self.device_events.append(record)
        await self.execute(
            lambda tx: alarms.record_device_event(tx, record.reader, record.kind, now)
        )

    def adapters(self) -> list[object]:
        return [sup.adapter for sup in self._supervisors]

    # -- time -----------------------------------------------------------------
    async def _ticker(self) -> None:
        last_stale_check = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK_S)
            try:
                await self.tick()
                if loop.time() - last_stale_check >= STALE_CHECK_S:
                    last_stale_check = loop.time()
                    await self.writer.refresh_if_stale()
                    await self._checkpoint()
            except Exception:
                _LOGGER.exception("tick failed")

    async def _recover(self) -> None:
        await recover_database(
            self.intake, self.writer, self.spool, self.config.database_url, self.hub
        )

    async def _listen(self) -> None:
        """PostgreSQL: another daemon's commit (NOTIFY bidroom_journal) makes us reload."""
        await listen_for_commits(self.engine.url, self.writer.refresh_if_stale)

    async def _checkpoint(self) -> None:
        path = sqlite_path(self.config.database_url)
        if path is None or self.writer.commits == self._checkpointed_at:
            return
        self._checkpointed_at = self.writer.commits
        await self.writer.between_commits(lambda: checkpoint(path))

    async def tick(self) -> None:
        """Run what the clock asks for: queue calls and no-shows; a new day's pruning."""
        now = self.clock()
        if queue.due(self.state, self.policy, now):
            await self.execute(lambda tx: queue.run_due(tx, self.policy, now))
        day = self.policy.day_of(now)
        if day != self._day:
            self._day = day
            self.intake.forget_before(now.timestamp() - 2 * 86400)
            self.writer.request_reload()
        if now.second % 15 == 0:
            self.hub.publish([])  # breaches and closing-time anomalies follow the clock

    def _on_commit(self, facts: list[f.Fact]) -> None:
        self.hub.publish([fact.KIND for fact in facts])
        for listener in self.fact_listeners:
            listener(facts)
        if self.printer is not None:
            for fact in facts:
                if isinstance(fact, f.TicketIssued):
                    self._print_ticket(fact)

    def _print_ticket(self, fact: f.TicketIssued) -> None:
        """Print a new queue number; a printer that is off never delays the queue."""
        from devices.printer import QueueTicketPrint

        assert self.printer is not None
        kind = self.policy.kinds.get(fact.ticket.kind)
        ticket = QueueTicketPrint(
            number=fact.ticket.number,
            kind_label=kind.label if kind else "",
            issued_at=fact.ticket.issued_at,
            site_name=self.config.site.name,
            timezone=self.config.site.timezone,
            lang=self.config.site.language,
        )
        job = asyncio.get_running_loop().create_task(self.printer.print_ticket(ticket))
        self._print_jobs.add(job)
        job.add_done_callback(self._print_jobs.discard)

    # -- views ----------------------------------------------------------------
    def readers(self) -> list[dict[str, Any]]:
        out = []
        for reader in self.config.readers:
            entry = self.health[reader.name].as_dict()
            entry.update(
                {"role": reader.role.value, "url": reader.url, "facility": reader.facility}
            )
            out.append(entry)
        return out

    def status(self) -> dict[str, Any]:
        body = status.snapshot(self.state, self.policy, self.clock(), self.readers())
        body["site"] = {
            "name": self.config.site.name,
            "room": self.config.room.name,
            "timezone": self.config.site.timezone,
        }
        body["device_events"] = [
            {"reader": e.reader, "kind": e.kind, "at": e.at.isoformat()} for e in self.device_events
        ]
        body["notices"] = self.notices.open()
        since = self.writer.unavailable_since
        body["database"] = {
            "available": since is None,
            "unavailable_since": since.isoformat() if since else None,
            "exits_spooled": self.spool.count,
        }
        body["alarms"] = [alarm_view(a) for a in alarms.open_alarms(self.state)]
        body["doors"] = self.doors.tiles(self.clock(), self.adapters())
        return body

    def public_queue(self) -> dict[str, Any]:
        return status.public_queue(self.state, self.policy, self.policy.day_of(self.clock()))
