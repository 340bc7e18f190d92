"""One unit of change: the facts a rule emits, applied to the writer's working state.

A rule calls :meth:`Tx.emit` for each thing that happens; the fact is applied at
once (so the rule's next step sees it) and kept, with the rows it wrote, for the
store. A rule that raises leaves its facts behind: the writer then rebuilds its
working state from the published one, so nothing of a refused rule survives.

Signed days never change in place. :meth:`Tx.emit` notices every row a fact
writes that belongs to a day already signed, and :meth:`Tx.finish` records them
as an :class:`~service.domain.model.Amendment` dated when it happened, which the
store keeps beside the signed rows and the Head of LPSE signs.
"""

from __future__ import annotations

from datetime import date, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from service.domain import facts as f
from service.domain.apply import Write, apply
from service.domain.model import DAY_BOUND, Amendment
from service.domain.state import RoomState

F = TypeVar("F", bound=f.Fact)
WIB = ZoneInfo("Asia/Jakarta")
# Facts that may touch a signed day's rows in place: erasure (UU 27/2022 demands it,
# and the seal leaves personal fields out), and the signing and its amendments.
_NOT_AMENDMENTS = (f.PersonalDataErased, f.DaySigned, f.AmendmentRecorded, f.AmendmentsSigned)


class Tx:
    def __init__(self, state: RoomState, tz: tzinfo = WIB) -> None:
        self.state = state
        self.tz = tz
        self.facts: list[f.Fact] = []
        self.writes: list[Write] = []
        # Signed day -> the rows of it this unit wrote, and the facts that did.
        self._amended: dict[date, tuple[list[str], list[f.Fact]]] = {}
        # Rows that belong to a signed day: the store keeps them beside its sealed rows.
        self.diverted: set[tuple[str, object]] = set()

    def emit(self, fact: F) -> F:
        """Apply ``fact`` to the state and keep it (and the rows it wrote) for the store."""
        signed = self.state.signed_days() if not isinstance(fact, _NOT_AMENDMENTS) else ()
        writes = apply(self.state, fact)
        self.facts.append(fact)
        if not isinstance(fact, f.PersonalDataErased):  # the store erases those rows by SQL
            self.writes.extend(writes)
        if signed:
            self._note_amendments(fact, writes, signed)
        return fact

    def next_id(self, entity: str) -> int:
        """The id a new entity of this kind will get (it is taken when its fact is applied)."""
        return self.state.next_id(entity)

    def finish(self) -> None:
        """Record what this unit did to signed days as amendments (one per day)."""
        amended, self._amended = self._amended, {}
        for day, (rows, done) in sorted(amended.items()):
            last = done[-1]
            kinds = ",".join(dict.fromkeys(fact.KIND for fact in done))
            amendment = Amendment(
                id=self.next_id("amendment"),
                day=day,
                at=last.at,
                kind=kinds[:200],
                actor=last.actor,
                rows=tuple(dict.fromkeys(rows)),
            )
            self.emit(f.AmendmentRecorded(at=last.at, actor=last.actor, amendment=amendment))

    def _note_amendments(self, fact: f.Fact, writes: list[Write], signed: frozenset[date]) -> None:
        for entity, key, obj in writes:
            if entity not in DAY_BOUND or obj is None:
                continue
            own = self.state.day_of(entity, obj, self.tz)
            if own in signed:
                self.diverted.add((entity, key))
            days = {own} if own is not None else set()
            if isinstance(fact, f.TapDecided) and fact.event.reported_at is not None:
                days.add(fact.event.reported_at.astimezone(self.tz).date())
            for day in days & signed:
                rows, done = self._amended.setdefault(day, ([], []))
                rows.append(f"{entity}:{key}")
                if not done or done[-1] is not fact:
                    done.append(fact)
