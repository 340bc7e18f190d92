"""Small builders shared by the domain tests: a room, a policy, visits, taps.

The site is Kota Jambi (Asia/Jakarta, WIB = UTC+7). ``T0`` is Wednesday
25 November 2026, 09:00 WIB (02:00 UTC), inside the opening hours 08:00-16:00.
Everything here goes through the real rules (``Tx``, ``visits``, ``decide_tap``);
nothing is a mock.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from service.domain import facts, visits
from service.domain.access import decide_tap
from service.domain.identity import DocumentType
from service.domain.model import Badge, Facility, Visit
from service.domain.policy import KindPolicy, Policy, ReaderPolicy
from service.domain.state import RoomState
from service.domain.taps import Decision, ReaderRole, Tap
from service.domain.tx import Tx

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 09:00 WIB
DAY = date(2026, 11, 25)
STAFF = "officer:ani"

DOOR_IN = "door-in"
DOOR_OUT = "door-out"
FRONT = "front"
DESK_PC1 = "desk-pc1"
DESK_PC2 = "desk-pc2"
DESK_LD1 = "desk-ld1"
DESK_LOOSE = "desk-loose"  # a desk reader bound to no facility


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def uid(n: int) -> str:
    """A 7-byte NTAG-style UID, distinct per ``n``."""
    return f"04A1B2C3D4{n:04X}"


def make_policy(**overrides: Any) -> Policy:
    readers = {
        DOOR_IN: ReaderPolicy(DOOR_IN, ReaderRole.DOOR_IN),
        DOOR_OUT: ReaderPolicy(DOOR_OUT, ReaderRole.DOOR_OUT),
        FRONT: ReaderPolicy(FRONT, ReaderRole.FRONT_DESK),
        DESK_PC1: ReaderPolicy(DESK_PC1, ReaderRole.DESK, facility="PC1"),
        DESK_PC2: ReaderPolicy(DESK_PC2, ReaderRole.DESK, facility="PC2"),
        DESK_LD1: ReaderPolicy(DESK_LD1, ReaderRole.DESK, facility="LD1"),
        DESK_LOOSE: ReaderPolicy(DESK_LOOSE, ReaderRole.DESK),
    }
    kinds = {
        "pc": KindPolicy("pc", "Komputer", "PC"),
        "laptop_desk": KindPolicy("laptop_desk", "Meja laptop", "LD"),
    }
    base = Policy(readers=readers, kinds=kinds)
    return replace(base, **overrides)


def make_room(pcs: int = 2, laptop_desks: int = 1, badges: int = 6) -> RoomState:
    """Facilities PC1..PCn (desk readers desk-pc1, desk-pc2), LD1.., badges K-001.."""
    state = RoomState()
    ident = itertools.count(1)
    for n in range(1, pcs + 1):
        reader = f"desk-pc{n}"
        state.put(
            "facility",
            Facility(id=next(ident), code=f"PC{n}", kind="pc", label=f"PC {n}", reader=reader),
        )
    for n in range(1, laptop_desks + 1):
        state.put(
            "facility",
            Facility(
                id=next(ident),
                code=f"LD{n}",
                kind="laptop_desk",
                label=f"Meja {n}",
                reader=f"desk-ld{n}",
            ),
        )
    for n in range(1, badges + 1):
        state.put(
            "badge", Badge(id=n, uid=uid(n), label=f"K-{n:03d}", enrolled_at=T0 - minutes(60))
        )
    return state


def arrival(
    name: str = "Budi Santoso", wanted_kind: str | None = "pc", **kw: Any
) -> visits.Arrival:
    values: dict[str, Any] = {
        "name": name,
        "company": "CV Maju Jaya",
        "doc_type": DocumentType.KTP,
        "doc_masked": "1571**********01",
        "wanted_kind": wanted_kind,
        "rules_ack": True,
        "privacy_ack": True,
    }
    values.update(kw)
    return visits.Arrival(**values)


class Live:
    """A live view of one entity: reads always give its current (committed) version.

    Entities are immutable; a test that keeps a visit and checks it after a tap
    wants the visit as it is now, which is what this gives.
    """

    def __init__(self, state: RoomState, entity: str, key: Any) -> None:
        object.__setattr__(self, "_where", (state, entity, key))

    @property
    def now(self) -> Any:
        state, entity, key = object.__getattribute__(self, "_where")
        return state.tables[entity][key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.now, name)

    def __eq__(self, other: object) -> bool:
        return bool(self.now == (other.now if isinstance(other, Live) else other))

    def __hash__(self) -> int:
        return hash(self.now.id)


def live(state: RoomState, entity: str, key: Any) -> Any:
    return Live(state, entity, key)


def set_fields(room: RoomState, entity: str, key: Any, /, **values: Any) -> None:
    """Put an entity in a given condition directly (a test's starting point, not a rule)."""
    room.put(entity, replace(room.tables[entity][key], **values))


def register(state: RoomState, policy: Policy, at: datetime = T0, **kw: Any) -> Visit:
    tx = Tx(state)
    visit = visits.register(tx, policy, arrival(**kw), at, STAFF)
    return live(state, "visit", visit.id)  # type: ignore[no-any-return]


def arm(state: RoomState, reader: str, visit: Any, at: datetime = T0) -> None:
    visits.arm_issue(Tx(state), reader, visit, at, STAFF)


def armed(state: RoomState) -> dict[str, int]:
    """Front-desk reader -> the visit its next free badge goes to."""
    return {reader: a.visit_id for reader, a in state.armed.items()}


def anomalies(state: RoomState) -> list[tuple[str, int, str, datetime]]:
    return [(a.kind, a.visit_id, a.reader, a.at) for a in state.anomalies.values()]


def issue(state: RoomState, policy: Policy, visit: Visit, badge_id: int, at: datetime) -> Tx:
    tx = Tx(state)
    visits.issue_badge(tx, policy, visit, state.badges[badge_id], at, STAFF)
    return tx


def visit_with_badge(
    state: RoomState, policy: Policy, badge_id: int, at: datetime = T0, **kw: Any
) -> Visit:
    """Registered at ``at``, badge ``badge_id`` issued one minute later."""
    visit = register(state, policy, at, **kw)
    issue(state, policy, visit, badge_id, at + minutes(1))
    return visit


_event_ids = itertools.count(1)


def tap(reader: str, badge_uid: str, at: datetime, token: str | None = None) -> Tap:
    return Tap(reader, badge_uid, at, f"ev-{next(_event_ids)}", token)


def decide(
    state: RoomState, policy: Policy, reader: str, badge_uid: str, at: datetime, **kw: Any
) -> tuple[Decision, Tx]:
    tx = Tx(state)
    return decide_tap(tx, policy, tap(reader, badge_uid, at, **kw)), tx


def snapshot(state: RoomState, *, event_ids: bool = False) -> dict[str, Any]:
    """Every table, index and counter of the state, copied for comparison.

    The access-event counter moves on every tap (the event is written, never kept),
    so it is left out unless ``event_ids``.
    """
    next_ids = dict(state.next_ids)
    if not event_ids:
        del next_ids["access_event"]
    return {
        "tables": {name: dict(rows) for name, rows in state.tables.items()},
        "next_ids": next_ids,
        "badge_by_uid": dict(state.badge_by_uid),
        "facility_by_reader": dict(state.facility_by_reader),
        "open_usage": dict(state.open_usage_by_visit),
        "deposit_by_visit": dict(state.deposit_by_visit),
        "signed": state.signed,
    }


def access_events(tx: Tx) -> list[dict[str, Any]]:
    return [asdict(f.event) for f in tx.facts if isinstance(f, facts.TapDecided)]


def tap_facts(tx: Tx) -> list[str]:
    return [f"tap.{f.event.reason}" for f in tx.facts if isinstance(f, facts.TapDecided)]
