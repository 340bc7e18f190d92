"""The one path for every tap: ``TapIntake.submit(Tap) -> (Decision, replayed)``.

Every reader ends here (device adapters through the runtime's ``submit``,
``POST /api/v1/taps``, the demo panel, ``bidroom simulate tap``):

1. a tap whose ``event_id`` was already decided gets the first decision back and
   writes nothing: the most recent decisions are in memory (a bounded LRU); one it
   no longer holds is found by the database's unique ``event_id``: the tap is decided
   again, its insert is refused, nothing of it is kept, and the stored decision is
   looked up and answered. A new tap, the common case, never costs a lookup;
2. the reader's own time is checked: never ahead of the daemon's clock beyond
   ``taps.clock_skew_s``, never older than ``taps.max_age_s``, never before the
   last signed day;
3. the pure access rules (:func:`service.domain.access.decide_tap`) decide it in the
   single writer, on the **daemon's** clock, and the answer comes back only after
   the commit;
4. when the database refuses the commit (gone, locked: the writer waits 0.15 s at
   most; once known away, not at all), the door fails secure: an entry is refused ("database unavailable"), an
   exit opens and is kept in the local :mod:`service.spool` until it is recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.config import TapsConfig
from service.domain import access
from service.domain import facts as f
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.taps import DENY, Decision, ReaderRole, Reason, Tap
from service.domain.tx import Tx
from service.errors import BidroomError, Conflict, Unavailable, ValidationError
from service.i18n import _
from service.logs import redact_uid
from service.spool import ExitSpool
from service.store.tables import AccessEventRow
from service.store.writer import UNAVAILABLE, Writer

_LOGGER = logging.getLogger(__name__)
# How many recent decisions answer replays from memory: a busy room's day is a few
# hundred taps, a reader's outbox re-sends within minutes; about 2 MB. Older replays
# are refused by the database's unique event_id and answered with the stored decision.
REMEMBERED = 4_096


class TapIntake:
    def __init__(
        self,
        writer: Writer,
        policy: Policy,
        engine: AsyncEngine,
        limits: TapsConfig,
        clock: Callable[[], datetime],
        remembered: int = REMEMBERED,
        spool: ExitSpool | None = None,
    ) -> None:
        self._writer = writer
        self._policy = policy
        self._engine = engine
        self._limits = limits
        self._clock = clock
        # The most recent committed decisions by event id, with their time; bounded.
        self._decided: OrderedDict[str, tuple[Decision, float]] = OrderedDict()
        self._size = remembered
        self._spool = spool
        self._draining = asyncio.Lock()
        # Decisions made by the rule, by event id, until their commit is published: the
        # answer replays get (the same one decision_of would rebuild from the row).
        self._fresh: dict[str, Decision] = {}
        writer.subscribe(self._on_commit)

    async def submit(self, tap: Tap) -> tuple[Decision, bool]:
        known = self._decided.get(tap.event_id)
        if known is not None:
            return known[0], True
        received = self._clock()
        try:
            self._check_reported(tap, received)
        except ValidationError:
            # A reader's outbox re-sending a tap decided long ago gets its first answer.
            stored = await self._stored_decision(tap.event_id)
            if stored is not None:
                return stored, True
            raise
        if self._writer.unavailable_since is not None:
            # Known away (the runtime probes it twice a second): answer now, no waiting.
            return await self._without_database(tap, received), False
        if self._spool is not None and self._spool.count:
            await self.drain()  # exits opened while the database was away come first
        try:
            return await self._decide(tap, received)
        except Unavailable as exc:
            if exc is not UNAVAILABLE:  # stopping, or not started: no decision at all
                raise
            return await self._without_database(tap, received), False

    async def _decide(self, tap: Tap, received: datetime) -> tuple[Decision, bool]:
        """The tap through the writer: decided on the state, committed, then answered."""
        replayed: list[bool] = []

        def rule(tx: Tx) -> Decision:
            earlier = self._decided.get(tap.event_id)
            if earlier is not None:
                replayed.append(True)
                return earlier[0]
            pending = tx.state.taps_in_flight.get(tap.event_id)  # the same tap, same batch
            if pending is not None:
                replayed.append(True)
                return self.decision_of(pending, tx.state)
            decision = access.decide_tap(tx, self._policy, tap, received)
            if not decision.anomalies and decision.slot is None:
                self._fresh[tap.event_id] = decision  # what replays are answered with
            return decision

        started = time.perf_counter()
        try:
            decision = await self._writer.execute(rule)
        except Conflict:
            # Decided before, beyond what memory holds: the unique event_id refused it.
            stored = await self._stored_decision(tap.event_id)
            if stored is None:
                raise
            return stored, True
        finally:
            self._fresh.pop(tap.event_id, None)  # published by now, or never committed
        # The one line per tap at INFO (the adapters log theirs at DEBUG).
        _LOGGER.info(
            "%s: badge %s %s (%s) %.1f ms",
            tap.reader,
            redact_uid(tap.uid),
            "granted" if decision.granted else "denied",
            decision.reason.value,
            (time.perf_counter() - started) * 1000,
        )
        return decision, bool(replayed)

    async def _without_database(self, tap: Tap, received: datetime) -> Decision:
        """The database refused the commit: entry fails secure, an exit always opens."""
        reader = self._policy.readers.get(tap.reader)
        if reader is not None and reader.role is ReaderRole.DOOR_OUT and self._spool is not None:
            try:
                await asyncio.to_thread(self._spool.add, tap, received)
            except Exception:  # even unspooled, nobody is locked in; the log says what is lost
                _LOGGER.exception("%s: exit opened but could not be spooled", tap.reader)
            else:
                _LOGGER.warning(
                    "%s: badge %s exit opened without the database; spooled",
                    tap.reader,
                    redact_uid(tap.uid),
                )
            feedback = access.feedback_for(ReaderRole.DOOR_OUT, True, self._policy)
            return Decision(True, Reason.EXIT_SPOOLED, feedback)
        _LOGGER.warning(
            "%s: badge %s refused, the database is unavailable", tap.reader, redact_uid(tap.uid)
        )
        return Decision(False, Reason.DATABASE_UNAVAILABLE, DENY)

    async def drain(self) -> int:
        """Record the spooled exits through the one tap path; how many are still spooled.

        Each is decided at the time the daemon received it (its door opened then) and
        leaves the spool only once committed (or refused for good, logged).
        """
        spool = self._spool
        if spool is None:
            return 0
        async with self._draining:
            for item in await asyncio.to_thread(spool.pending):
                try:
                    decision, _ = await self._decide(item.tap, item.received)
                except Unavailable:
                    break  # still away: try again later
                except BidroomError as exc:
                    _LOGGER.warning(
                        "%s: spooled exit could not be recorded: %s", item.tap.reader, exc
                    )
                else:
                    _LOGGER.info(
                        "%s: spooled exit recorded (%s)", item.tap.reader, decision.reason.value
                    )
                await asyncio.to_thread(spool.remove, item.tap.event_id)
            return spool.count

    def _check_reported(self, tap: Tap, received: datetime) -> None:
        """A reader's own time: never ahead beyond the skew, never too old or before a seal."""
        ahead = (tap.at - received).total_seconds()
        if ahead > self._limits.clock_skew_s:
            raise ValidationError(
                _("Waktu tap berada di masa depan; periksa jam pembaca kartu."),
                field="at",
            )
        if -ahead > self._limits.max_age_s:
            raise ValidationError(
                _("Tap ini terlalu lama tertunda untuk diputuskan sekarang."),
                field="at",
            )
        signed = self._writer.published.signed_days()
        if signed and self._policy.day_of(tap.at) < max(signed):
            raise ValidationError(
                _("Waktu tap jatuh sebelum hari terakhir yang sudah disahkan."),
                field="at",
            )

    def _on_commit(self, facts: list[f.Fact]) -> None:
        """Committed taps: their decisions answer replays from now on."""
        for fact in facts:
            if isinstance(fact, f.TapDecided):
                event = fact.event
                decision = self._fresh.pop(event.event_id, None)
                if decision is None:  # another writer's tap, or one with a slot or anomaly
                    decision = self.decision_of(event, self._writer.published)
                self._remember(event.event_id, decision, event.at.timestamp())

    def _remember(self, event_id: str, decision: Decision, at: float) -> None:
        self._decided[event_id] = (decision, at)
        while len(self._decided) > self._size:
            self._decided.popitem(last=False)

    def decision_of(self, row: Any, state: RoomState) -> Decision:
        """The decision a stored access event (a row, or an AccessEvent) was answered with."""
        reader = self._policy.readers.get(row.reader)
        reason = Reason(row.reason)
        badge = state.badges.get(row.badge_id) if row.badge_id else None
        deposit = state.deposit_of(row.visit_id) if row.visit_id else None
        role = reader.role if reader else ReaderRole.DESK
        feedback = access.feedback_for(role, row.granted and reader is not None, self._policy)
        return Decision(
            row.granted,
            reason,
            feedback,
            row.visit_id,
            badge.label if badge else None,
            deposit.slot if deposit and reason is Reason.BADGE_RETURNED else None,
        )

    async def _stored_decision(self, event_id: str) -> Decision | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(AccessEventRow).where(AccessEventRow.event_id == event_id)
                )
            ).first()
        return None if row is None else self.decision_of(row, self._writer.published)

    async def load(self) -> None:
        """The most recent decisions, at start (replays after a restart answer from memory)."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(AccessEventRow).order_by(AccessEventRow.id.desc()).limit(self._size)
                )
            ).all()
        state = self._writer.published
        self._decided = OrderedDict()
        for row in reversed(rows):
            self._remember(row.event_id, self.decision_of(row, state), row.at.timestamp())

    def forget_before(self, timestamp: float) -> None:
        while self._decided and next(iter(self._decided.values()))[1] < timestamp:
            self._decided.popitem(last=False)
