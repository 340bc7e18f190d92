"""The room's state: every entity the rules need, by id, plus the indexes they use.

Changed only by :func:`service.domain.apply.apply` (and filled by the loader); the
writer keeps a working one and a published one (see :mod:`service.store.writer`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

from service.domain.lifecycle import DayState, VisitState
from service.domain.model import (
    APPEND_ONLY,
    ENTITIES,
    AccessEvent,
    Alarm,
    Amendment,
    Anomaly,
    ArmedIssue,
    Badge,
    Day,
    Deposit,
    EnrolArmed,
    Facility,
    HelpRequest,
    Justification,
    Muster,
    MusterMark,
    Ticket,
    Usage,
    Visit,
    Visitor,
    row_day,
)

Key = Any
Ref = tuple[str, Key]


@dataclass(slots=True)
class RoomState:
    """Everything the rules need to decide, plus indexes; changed only by ``apply``."""

    tables: dict[str, dict[Key, Any]] = field(
        default_factory=lambda: {
            name: {} for name in (*ENTITIES, "anomaly") if name not in APPEND_ONLY
        }
    )
    next_ids: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITIES, 1))
    badge_by_uid: dict[str, int] = field(default_factory=dict)
    facility_by_reader: dict[str, int] = field(default_factory=dict)
    open_usage_by_visit: dict[int, int] = field(default_factory=dict)
    deposit_by_visit: dict[int, int] = field(default_factory=dict)
    # Visits inside the room and not closed: the occupancy a door-in tap checks, without
    # walking every visit the state holds (a month's thousands) on each tap.
    inside_visits: set[int] = field(default_factory=set)
    signed: frozenset[date] = frozenset()
    # Taps decided in this state but not yet committed, by event id (the writer empties
    # it after each commit): a second tap with the same event id in the same batch is
    # answered with the first one's decision.
    taps_in_flight: dict[str, AccessEvent] = field(default_factory=dict)

    # Typed views of the tables, for the rules.
    @property
    def visits(self) -> dict[int, Visit]:
        return self.tables["visit"]

    @property
    def visitors(self) -> dict[int, Visitor]:
        return self.tables["visitor"]

    @property
    def deposits(self) -> dict[int, Deposit]:
        return self.tables["deposit"]

    @property
    def badges(self) -> dict[int, Badge]:
        return self.tables["badge"]

    @property
    def facilities(self) -> dict[int, Facility]:
        return self.tables["facility"]

    @property
    def usages(self) -> dict[int, Usage]:
        return self.tables["usage"]

    @property
    def tickets(self) -> dict[int, Ticket]:
        return self.tables["ticket"]

    @property
    def help_requests(self) -> dict[int, HelpRequest]:
        return self.tables["help"]

    @property
    def days(self) -> dict[date, Day]:
        return self.tables["day"]

    @property
    def justifications(self) -> dict[int, Justification]:
        return self.tables["justification"]

    @property
    def armed(self) -> dict[str, ArmedIssue]:
        return self.tables["armed"]

    @property
    def enrolling(self) -> dict[str, EnrolArmed]:
        return self.tables["enrol"]

    @property
    def amendments(self) -> dict[int, Amendment]:
        return self.tables["amendment"]

    @property
    def alarms(self) -> dict[int, Alarm]:
        return self.tables["alarm"]

    @property
    def anomalies(self) -> dict[int, Anomaly]:
        return self.tables["anomaly"]

    @property
    def musters(self) -> dict[int, Muster]:
        return self.tables["muster"]

    @property
    def muster_marks(self) -> dict[int, MusterMark]:
        return self.tables["muster_mark"]

    # -- changing (only apply() and the loader call these) -------------------------
    def put(self, entity: str, obj: Any) -> Any:
        """Store a (new version of an) entity and keep the indexes; returns the old one."""
        table = self.tables[entity]
        old = table.get(obj.id)
        if old is not None:
            self._unindex(entity, old)
        table[obj.id] = obj
        self._index(entity, obj)
        if isinstance(obj.id, int) and entity in self.next_ids:
            self.see_id(entity, obj.id)
        return old

    def remove(self, entity: str, key: Key) -> None:
        old = self.tables[entity].pop(key, None)
        if old is not None:
            self._unindex(entity, old)

    def see_id(self, entity: str, ident: int) -> None:
        """An id was used (kept or written): the next one handed out is above it."""
        if self.next_ids.get(entity, 1) <= ident:
            self.next_ids[entity] = ident + 1

    def next_id(self, entity: str) -> int:
        """The id the next new entity of this kind gets (taken when the fact is applied)."""
        return self.next_ids[entity]

    def _index(self, entity: str, obj: Any) -> None:
        if entity == "badge":
            self.badge_by_uid[obj.uid] = obj.id
        elif entity == "facility" and obj.reader:
            self.facility_by_reader[obj.reader] = obj.id
        elif entity == "usage" and obj.ended_at is None:
            self.open_usage_by_visit[obj.visit_id] = obj.id
        elif entity == "deposit":
            self.deposit_by_visit[obj.visit_id] = obj.id
        elif entity == "day" and obj.state is DayState.SIGNED:
            self.signed = self.signed | {obj.id}
        elif entity == "visit" and obj.inside and obj.state is not VisitState.CLOSED:
            self.inside_visits.add(obj.id)

    def _unindex(self, entity: str, obj: Any) -> None:
        if entity == "badge":
            self.badge_by_uid.pop(obj.uid, None)
        elif entity == "facility" and obj.reader:
            self.facility_by_reader.pop(obj.reader, None)
        elif entity == "usage" and self.open_usage_by_visit.get(obj.visit_id) == obj.id:
            del self.open_usage_by_visit[obj.visit_id]
        elif entity == "deposit" and self.deposit_by_visit.get(obj.visit_id) == obj.id:
            del self.deposit_by_visit[obj.visit_id]
        elif entity == "day" and obj.id in self.signed:
            self.signed = self.signed - {obj.id}
        elif entity == "visit":
            self.inside_visits.discard(obj.id)

    def clone(self) -> RoomState:
        """An independent copy (the entities are immutable, so they are shared)."""
        return RoomState(
            tables={name: dict(rows) for name, rows in self.tables.items()},
            next_ids=dict(self.next_ids),
            badge_by_uid=dict(self.badge_by_uid),
            facility_by_reader=dict(self.facility_by_reader),
            open_usage_by_visit=dict(self.open_usage_by_visit),
            deposit_by_visit=dict(self.deposit_by_visit),
            inside_visits=set(self.inside_visits),
            signed=self.signed,
        )

    # -- lookups the rules share ------------------------------------------------------
    def open_usage(self, visit_id: int) -> Usage | None:
        usage_id = self.open_usage_by_visit.get(visit_id)
        return None if usage_id is None else self.usages[usage_id]

    def deposit_of(self, visit_id: int) -> Deposit | None:
        deposit_id = self.deposit_by_visit.get(visit_id)
        return None if deposit_id is None else self.deposits[deposit_id]

    def badge_by(self, uid: str) -> Badge | None:
        badge_id = self.badge_by_uid.get(uid)
        return None if badge_id is None else self.badges[badge_id]

    def facility_by_code(self, code: str) -> Facility | None:
        return next((f for f in self.facilities.values() if f.code == code), None)

    def occupancy(self) -> int:
        return len(self.inside_visits)

    def is_signed(self, day: date | None) -> bool:
        return day in self.signed

    def signed_days(self) -> frozenset[date]:
        return self.signed

    def day_of(self, entity: str, obj: Any, tz: tzinfo) -> date | None:
        """The day ``obj`` belongs to (see :func:`row_day`)."""

        def visit_day(visit_id: int) -> date | None:
            visit = self.visits.get(visit_id)
            return visit.day if visit is not None else None

        return row_day(entity, lambda name: getattr(obj, name), visit_day, tz)
