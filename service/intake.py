"""The one path for every tap: ``TapIntake.submit(Tap) -> (Decision, replayed)``.

Every reader ends here (device adapters through the runtime's ``submit``,
``POST /api/v1/taps``, the demo panel, ``bidroom simulate tap``):

1. a tap whose ``event_id`` was already decided gets the first decision back and
   writes nothing (today's decisions are in memory; older ones are looked up);
2. the reader's own time is checked: never ahead of the daemon's clock beyond
   ``taps.clock_skew_s``, never older than ``taps.max_age_s``, never before the
   last signed day;
3. the pure access rules (:func:`service.domain.access.decide_tap`) decide it in the
   single writer, on the **daemon's** clock, and the answer comes back only after
   the commit.
"""

from __future__ import annotations

import logging
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
from service.domain.taps import Decision, ReaderRole, Reason, Tap
from service.domain.tx import Tx
from service.errors import ValidationError
from service.logs import redact_uid
from service.store.tables import AccessEventRow
from service.store.writer import Writer

_LOGGER = logging.getLogger(__name__)


class TapIntake:
    def __init__(
        self,
        writer: Writer,
        policy: Policy,
        engine: AsyncEngine,
        limits: TapsConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self._writer = writer
        self._policy = policy
        self._engine = engine
        self._limits = limits
        self._clock = clock
        # Committed decisions by event id (today's and yesterday's), with their time.
        self._decided: dict[str, tuple[Decision, float]] = {}
        writer.subscribe(self._on_commit)

    async def submit(self, tap: Tap) -> tuple[Decision, bool]:
        known = self._decided.get(tap.event_id)
        if known is not None:
            return known[0], True
        received = self._clock()
        if tap.at < self._policy.day_bounds(self._policy.day_of(received))[0]:
            stored = await self._stored_decision(tap.event_id)
            if stored is not None:
                return stored, True
        self._check_reported(tap, received)
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
            return access.decide_tap(tx, self._policy, tap, received)

        decision = await self._writer.execute(rule)
        _LOGGER.info(
            "%s: badge %s %s (%s)",
            tap.reader,
            redact_uid(tap.uid),
            "granted" if decision.granted else "denied",
            decision.reason.value,
        )
        return decision, bool(replayed)

    def _check_reported(self, tap: Tap, received: datetime) -> None:
        """A reader's own time: never ahead beyond the skew, never too old or before a seal."""
        ahead = (tap.at - received).total_seconds()
        if ahead > self._limits.clock_skew_s:
            raise ValidationError(
                "Waktu tap berada di masa depan; periksa jam pembaca kartu.",
                "The tap time is in the future; check the reader's clock.",
                field="at",
            )
        if -ahead > self._limits.max_age_s:
            raise ValidationError(
                "Tap ini terlalu lama tertunda untuk diputuskan sekarang.",
                "This tap is too old to be decided now.",
                field="at",
            )
        signed = self._writer.published.signed_days()
        if signed and self._policy.day_of(tap.at) < max(signed):
            raise ValidationError(
                "Waktu tap jatuh sebelum hari terakhir yang sudah disahkan.",
                "The tap time falls before the last signed-off day.",
                field="at",
            )

    def _on_commit(self, facts: list[f.Fact]) -> None:
        """Committed taps: their decisions answer replays from now on."""
        for fact in facts:
            if isinstance(fact, f.TapDecided):
                event = fact.event
                decision = self.decision_of(event, self._writer.published)
                self._decided[event.event_id] = (decision, event.at.timestamp())

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
        """Today's decisions, at start (replays after a restart answer from memory)."""
        start = self._policy.day_bounds(self._policy.day_of(self._clock()))[0]
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(select(AccessEventRow).where(AccessEventRow.at >= start))
            ).all()
        state = self._writer.published
        self._decided = {r.event_id: (self.decision_of(r, state), r.at.timestamp()) for r in rows}

    def forget_before(self, timestamp: float) -> None:
        self._decided = {k: v for k, v in self._decided.items() if v[1] >= timestamp}
