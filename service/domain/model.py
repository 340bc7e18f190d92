"""The room's state as plain, immutable data.

Every entity is a frozen dataclass: a rule can read it but never change it. The
only code that changes the state is :func:`service.domain.apply.apply`, which
takes one typed fact (:mod:`service.domain.facts`) and puts new versions of the
entities it touches into a :class:`RoomState`. The writer keeps two of them: the
*working* state its rules run on, and the *published* state everyone else reads,
which moves only after a commit (see :mod:`service.store.writer`).

Which fields are personal data is declared here, once, with :func:`personal`
(UU 27/2022): the journal encrypts them under the data subject's key, retention
erases them, the subject export lists them, and logs never carry them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, tzinfo
from typing import Any, Final

from service.domain.lifecycle import BadgeState, DayState, HelpState, TicketState, VisitState

PERSONAL: Final = "personal"
ERASED: Final = "(dihapus)"


def personal(**kwargs: Any) -> Any:
    """A personal-data field (name, document or phone number, free text about a person)."""
    return field(metadata={PERSONAL: True}, **kwargs)


_PERSONAL_FIELDS: dict[type[Any], frozenset[str]] = {}


def personal_fields(cls: type[Any]) -> frozenset[str]:
    """The fields of a dataclass declared with :func:`personal`."""
    found = _PERSONAL_FIELDS.get(cls)
    if found is None:
        found = frozenset(f.name for f in fields(cls) if f.metadata.get(PERSONAL))
        _PERSONAL_FIELDS[cls] = found
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class Visitor:
    id: int
    name: str = personal()
    company: str
    doc_type: str
    doc_masked: str
    npwp_masked: str | None = None
    created_at: datetime
    erased_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceItem:
    """A device the visitor brings in (kind and serial number), checked at return."""

    kind: str
    serial: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Visit:
    id: int
    day: date
    visitor_id: int
    name: str = personal()
    company: str
    purpose: str = ""
    tender_code: str = ""
    devices: tuple[DeviceItem, ...] = ()
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Deposit:
    id: int
    visit_id: int
    doc_type: str
    doc_masked: str
    slot: str
    taken_at: datetime
    taken_by: str
    returned_at: datetime | None = None
    returned_to: str | None = personal(default=None)
    returned_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Badge:
    id: int
    uid: str
    label: str
    state: BadgeState = BadgeState.AVAILABLE
    visit_id: int | None = None
    enrolled_at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
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
    # Who took it out of service (or back), when and why: it survives restarts.
    service_by: str | None = None
    service_at: datetime | None = None
    service_note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    id: int
    visit_id: int
    facility_id: int
    started_at: datetime
    ended_at: datetime | None = None
    started_by: str = "tap"
    ended_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
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
    # A called number holds its facility until then (fixed when it is called).
    hold_until: datetime | None = None
    served_at: datetime | None = None
    closed_at: datetime | None = None
    facility_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpRequest:
    id: int
    visit_id: int | None
    facility_id: int | None
    source: str
    category: str
    problem: str = personal()
    state: HelpState = HelpState.OPEN
    opened_at: datetime
    opened_by: str
    claimed_at: datetime | None = None
    claimed_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = personal(default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Day:
    id: date
    state: DayState = DayState.OPEN
    closed_at: datetime | None = None
    closed_by: str | None = None
    signed_at: datetime | None = None
    signed_by: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Justification:
    id: int
    day: date
    step: str
    subject: str
    text: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessEvent:
    """Append-only: written to the store, never kept in the state.

    ``at`` is when the daemon received and decided the tap (its own clock);
    ``reported_at`` is the reader's own time for it, kept only when it differs
    (a workstation agent replaying a tap it stored while offline).
    """

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
    reported_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmedIssue:
    """The front desk's pending "the next free badge tapped here goes to this visit"."""

    id: str  # the front-desk reader's name
    visit_id: int
    at: datetime
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Amendment:
    """Something that happened after its day was signed, recorded on the day it happened.

    The signed day's own rows never change; what changed is kept beside them and
    the Head of LPSE signs the amendment.
    """

    id: int
    day: date  # the signed day it amends
    at: datetime  # when it happened
    kind: str  # the fact that made it, e.g. "document.returned"
    actor: str
    rows: tuple[str, ...]  # the records it concerns, "visit:12", "deposit:12"
    signed_at: datetime | None = None
    signed_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Anomaly:
    """A tap anomaly of a visit (tailgating, exit with no entry): kept in memory only."""

    id: int  # the access event's id
    kind: str
    visit_id: int
    reader: str
    at: datetime


# Entity name -> class. The persisted ones have a table of the same shape.
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
    "armed": ArmedIssue,
    "amendment": Amendment,
}
ENTITY_NAME: dict[type[Any], str] = {cls: name for name, cls in ENTITIES.items()}
APPEND_ONLY = frozenset({"access_event"})
FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in fields(cls)) for name, cls in ENTITIES.items()
}
# Entities whose rows belong to one day and so are sealed with it.
DAY_BOUND = frozenset(
    {"visit", "deposit", "usage", "ticket", "help", "justification", "access_event", "day"}
)
Getter = Callable[[str], Any]


def row_day(
    entity: str, get: Getter, visit_day: Callable[[int], date | None], tz: tzinfo
) -> date | None:
    """The day a row belongs to (the day whose books show it), or None.

    ``get(name)`` reads a field of the row; ``visit_day(id)`` finds a visit's day.
    The one rule for the state (amendments), the seal and ``archive verify``.
    """
    if entity in ("visit", "justification"):
        value: date = get("day")
        return value
    if entity == "day":
        ident: date = get("id")
        return ident
    if entity in ("deposit", "usage", "ticket"):
        return visit_day(get("visit_id"))
    if entity == "help":
        vid = get("visit_id")
        found = visit_day(vid) if vid is not None else None
        if found is not None:
            return found
        opened: datetime = get("opened_at")
        return opened.astimezone(tz).date()
    if entity == "access_event":
        at: datetime = get("at")
        return at.astimezone(tz).date()
    return None


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
    def amendments(self) -> dict[int, Amendment]:
        return self.tables["amendment"]

    @property
    def anomalies(self) -> dict[int, Anomaly]:
        return self.tables["anomaly"]

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

    def clone(self) -> RoomState:
        """An independent copy (the entities are immutable, so they are shared)."""
        return RoomState(
            tables={name: dict(rows) for name, rows in self.tables.items()},
            next_ids=dict(self.next_ids),
            badge_by_uid=dict(self.badge_by_uid),
            facility_by_reader=dict(self.facility_by_reader),
            open_usage_by_visit=dict(self.open_usage_by_visit),
            deposit_by_visit=dict(self.deposit_by_visit),
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
        return sum(1 for v in self.visits.values() if v.inside and v.state is not VisitState.CLOSED)

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
