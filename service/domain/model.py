"""The room's state as plain data, and the one way it changes: facts.

A rule never mutates state. It reads :class:`RoomState` and returns
:class:`Fact` values; :meth:`RoomState.apply` is the only code that changes the
state, and the store persists the same facts (the changed rows and one journal
row each) in the same transaction. So the in-memory state, the tables and the
journal can never tell different stories.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from service.domain.lifecycle import BadgeState, DayState, HelpState, TicketState, VisitState


@dataclass(slots=True, kw_only=True)
class Visitor:
    id: int
    name: str
    company: str
    doc_type: str
    doc_masked: str
    npwp: str | None = None
    created_at: datetime


@dataclass(slots=True, kw_only=True)
class Visit:
    id: int
    day: date
    visitor_id: int
    name: str
    company: str
    purpose: str = ""
    tender_code: str = ""
    devices: list[dict[str, str]] = field(default_factory=list)
    state: VisitState = VisitState.REGISTERED
    wanted_kind: str | None = None
    facility_id: int | None = None
    badge_id: int | None = None
    ticket_id: int | None = None
    inside: bool = False
    entered_at: datetime | None = None
    exited_at: datetime | None = None
    form_started_at: datetime
    registered_at: datetime
    badge_issued_at: datetime | None = None
    assigned_at: datetime | None = None
    returned_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    forced: bool = False
    back_entered: bool = False
    officer: str = ""
    rules_ack: bool = False
    privacy_ack: bool = False
    devices_checked: bool | None = None


@dataclass(slots=True, kw_only=True)
class Deposit:
    id: int
    visit_id: int
    doc_type: str
    doc_masked: str
    slot: str
    taken_at: datetime
    taken_by: str
    returned_at: datetime | None = None
    returned_to: str | None = None
    returned_by: str | None = None


@dataclass(slots=True, kw_only=True)
class Badge:
    id: int
    uid: str
    label: str
    state: BadgeState = BadgeState.AVAILABLE
    visit_id: int | None = None
    enrolled_at: datetime
    note: str | None = None


@dataclass(slots=True, kw_only=True)
class Facility:
    id: int
    code: str
    kind: str
    label: str
    reader: str | None = None
    visit_id: int | None = None
    reserved_ticket_id: int | None = None
    available_from: datetime | None = None
    out_of_service: bool = False


@dataclass(slots=True, kw_only=True)
class Usage:
    id: int
    visit_id: int
    facility_id: int
    started_at: datetime
    ended_at: datetime | None = None
    started_by: str = "tap"
    ended_by: str | None = None


@dataclass(slots=True, kw_only=True)
class Ticket:
    id: int
    day: date
    kind: str
    seq: int
    number: str
    visit_id: int
    state: TicketState = TicketState.WAITING
    priority: bool = False
    priority_reason: str | None = None
    issued_at: datetime
    called_at: datetime | None = None
    served_at: datetime | None = None
    closed_at: datetime | None = None
    facility_id: int | None = None


@dataclass(slots=True, kw_only=True)
class HelpRequest:
    id: int
    visit_id: int | None
    facility_id: int | None
    source: str
    category: str
    problem: str
    state: HelpState = HelpState.OPEN
    opened_at: datetime
    opened_by: str
    claimed_at: datetime | None = None
    claimed_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None


@dataclass(slots=True, kw_only=True)
class Day:
    id: date
    state: DayState = DayState.OPEN
    closed_at: datetime | None = None
    closed_by: str | None = None
    signed_at: datetime | None = None
    signed_by: str | None = None
    note: str | None = None


@dataclass(slots=True, kw_only=True)
class Justification:
    id: int
    day: date
    step: str
    subject: str
    text: str
    by: str
    at: datetime


@dataclass(slots=True, kw_only=True)
class AccessEvent:
    """Append-only: written to the store, never kept in the state."""

    id: int
    at: datetime
    reader: str
    role: str
    uid: str
    badge_id: int | None
    visit_id: int | None
    granted: bool
    reason: str
    event_id: str
    anomaly: str | None = None


ENTITIES: dict[str, type[Any]] = {
    "visitor": Visitor,
    "visit": Visit,
    "deposit": Deposit,
    "badge": Badge,
    "facility": Facility,
    "usage": Usage,
    "ticket": Ticket,
    "help": HelpRequest,
    "day": Day,
    "justification": Justification,
    "access_event": AccessEvent,
}
APPEND_ONLY = frozenset({"access_event"})
FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in fields(cls)) for name, cls in ENTITIES.items()
}


@dataclass(frozen=True, slots=True)
class Change:
    """Create an entity (``new``) or set some of its fields."""

    entity: str
    id: Any
    values: dict[str, Any]
    new: bool = False


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing that happened: what the journal records and the state applies.

    ``personal`` carries personal data (name, phone, document number) that the
    store encrypts under the visitor's own key before it reaches the journal, so
    erasing that key at the end of retention erases it from the archive too.
    """

    kind: str
    at: datetime
    actor: str
    changes: tuple[Change, ...]
    personal: dict[str, str] = field(default_factory=dict)
    visitor_id: int | None = None


@dataclass(slots=True)
class RoomState:
    """Everything the rules need to decide, held in memory by the single writer."""

    tables: dict[str, dict[Any, Any]] = field(
        default_factory=lambda: {name: {} for name in ENTITIES if name not in APPEND_ONLY}
    )
    next_ids: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITIES, 1))
    badge_by_uid: dict[str, int] = field(default_factory=dict)
    facility_by_reader: dict[str, int] = field(default_factory=dict)
    # Not persisted: which visit each front-desk reader is issuing a badge to.
    armed_issue: dict[str, int] = field(default_factory=dict)
    # Today's anomalies seen on taps (tailgating, exit without entry), newest last.
    tap_anomalies: list[dict[str, Any]] = field(default_factory=list)
    _open_usage: dict[int, int] = field(default_factory=dict)
    _deposit_by_visit: dict[int, int] = field(default_factory=dict)

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

    def reset(self) -> None:
        """Empty everything (before the store loads it again)."""
        fresh = RoomState()
        for name in (
            "tables",
            "next_ids",
            "badge_by_uid",
            "facility_by_reader",
            "armed_issue",
            "tap_anomalies",
            "_open_usage",
            "_deposit_by_visit",
        ):
            setattr(self, name, getattr(fresh, name))

    def allocate(self, entity: str) -> int:
        """Reserve the next id of an entity (ids are only ever handed out here)."""
        value = self.next_ids[entity]
        self.next_ids[entity] = value + 1
        return value

    def add(self, entity: str, obj: Any) -> None:
        """Put an entity in its table and keep the indexes (the only writer of tables)."""
        self.tables[entity][obj.id] = obj
        if isinstance(obj.id, int):
            self.next_ids[entity] = max(self.next_ids[entity], obj.id + 1)
        self.reindex(entity, obj)

    def reindex(self, entity: str, obj: Any) -> None:
        if entity == "badge":
            self.badge_by_uid[obj.uid] = obj.id
        elif entity == "facility" and obj.reader:
            self.facility_by_reader[obj.reader] = obj.id
        elif entity == "usage":
            if obj.ended_at is None:
                self._open_usage[obj.visit_id] = obj.id
            elif self._open_usage.get(obj.visit_id) == obj.id:
                del self._open_usage[obj.visit_id]
        elif entity == "deposit":
            self._deposit_by_visit[obj.visit_id] = obj.id

    def unindex(self, entity: str, obj: Any) -> None:
        if entity == "badge":
            self.badge_by_uid.pop(obj.uid, None)
        elif entity == "facility" and obj.reader:
            self.facility_by_reader.pop(obj.reader, None)
        elif entity == "usage" and self._open_usage.get(obj.visit_id) == obj.id:
            del self._open_usage[obj.visit_id]
        elif entity == "deposit":
            self._deposit_by_visit.pop(obj.visit_id, None)

    # Lookups the rules share.
    def open_usage(self, visit_id: int) -> Usage | None:
        usage_id = self._open_usage.get(visit_id)
        return None if usage_id is None else self.usages[usage_id]

    def deposit_of(self, visit_id: int) -> Deposit | None:
        deposit_id = self._deposit_by_visit.get(visit_id)
        return None if deposit_id is None else self.deposits[deposit_id]

    def badge_by(self, uid: str) -> Badge | None:
        badge_id = self.badge_by_uid.get(uid)
        return None if badge_id is None else self.badges[badge_id]

    def occupancy(self) -> int:
        return sum(1 for v in self.visits.values() if v.inside and v.state is not VisitState.CLOSED)
