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
    """The visit the front desk is serving: the next free badge tapped here goes to it."""

    id: str  # the front-desk reader's name
    visit_id: int
    at: datetime
    by: str
    # The badge of another visit was tapped here while this one was served: the page
    # asks the clerk to return that visit or ignore the tap (see service.domain.desk).
    asked_visit_id: int | None = None
    asked_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolArmed:
    """The front desk's pending "the next unknown badge tapped here joins the pool"."""

    id: str  # the front-desk reader's name
    label: str | None  # the label typed by the admin; None: the next free one is proposed
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Alarm:
    """A door or reader event staff must see and acknowledge (with a note).

    ``kind`` is the device event that raised it (``forced_open``, ``held_open``,
    ``tamper``, ``power_fail``, ``offline``); the same event again on the same reader
    while the alarm is open counts as a repeat (``repeats``, ``last_at``).
    """

    id: int
    reader: str
    kind: str
    at: datetime
    repeats: int = 0
    last_at: datetime | None = None
    acked_at: datetime | None = None
    acked_by: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Muster:
    """An evacuation roll call: who was inside when it started, until the warden ends it."""

    id: int
    started_at: datetime
    started_by: str
    present: tuple[int, ...] = ()  # the visits the readers showed inside at the start
    ended_at: datetime | None = None
    ended_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MusterMark:
    """One person marked safe at the assembly point during a muster (who marked, when)."""

    id: int
    muster_id: int
    visit_id: int
    at: datetime
    by: str


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
    "alarm": Alarm,
    "enrol": EnrolArmed,
    "muster": Muster,
    "muster_mark": MusterMark,
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
