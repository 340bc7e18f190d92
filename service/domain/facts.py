"""Facts: every kind of change to the room, one frozen dataclass each.

A rule decides and emits facts (``tx.emit(BadgeIssued(...))``); one function,
:func:`service.domain.apply.apply`, turns a fact into new versions of the
entities it concerns. The store writes the rows that ``apply`` touched and one
journal row per fact (``KIND`` is its journal kind), so the state, the tables and
the journal tell one story, and mypy checks every field name.

Every fact carries when it happened (``at``, the daemon's clock) and who did it
(``actor``: ``officer:ani``, ``reader:pintu-masuk``, ``system``). Personal values
are declared with :func:`~service.domain.model.personal`; ``subject`` names the
data subject whose key encrypts them in the journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from service.domain.lifecycle import BadgeEvent, BadgeState
from service.domain.model import (
    AccessEvent,
    Alarm,
    Amendment,
    Badge,
    Deposit,
    Facility,
    HelpRequest,
    Justification,
    Muster,
    MusterMark,
    Ticket,
    Usage,
    Visit,
    Visitor,
    personal,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    KIND: ClassVar[str] = "fact"
    at: datetime
    actor: str

    @property
    def subject(self) -> str | None:
        """The data subject whose key seals this fact's personal values (or None)."""
        return None


def visitor_subject(visitor_id: int | None) -> str | None:
    return None if visitor_id is None else f"visitor:{visitor_id}"


# -- visitors and visits (SOP steps 2, 3, 7, 8) -------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """A visitor's numbers: never kept in the state, sealed in the journal and tables."""

    doc_hash: str
    doc_number: str = personal()
    phone: str | None = personal(default=None)
    npwp: str | None = personal(default=None)
    npwp_hash: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitorRecorded(Fact):
    KIND = "visitor.recorded"
    visitor: Visitor
    identity: Identity | None = None

    @property
    def subject(self) -> str | None:
        return visitor_subject(self.visitor.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitRegistered(Fact):
    KIND = "visit.registered"
    visit: Visit
    deposit: Deposit

    @property
    def subject(self) -> str | None:
        return visitor_subject(self.visit.visitor_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeIssued(Fact):
    KIND = "badge.issued"
    badge_id: int
    visit_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitAdmitted(Fact):
    KIND = "visit.admitted"
    visit_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WantedKindChanged(Fact):
    KIND = "visit.wanted_kind"
    visit_id: int
    kind: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FacilityAssigned(Fact):
    KIND = "facility.assigned"
    visit_id: int
    facility_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitLeftFacility(Fact):
    """The visit no longer holds its facility; the facility rests until ``available_from``."""

    KIND = "facility.left"
    visit_id: int
    facility_id: int
    available_from: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitEntered(Fact):
    KIND = "door.entered"
    visit_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitExited(Fact):
    KIND = "door.exited"
    visit_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitReturned(Fact):
    """Steps 7-8: the badge is back and the visit closes."""

    KIND = "visit.returned"
    visit_id: int
    devices_checked: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitForceClosed(Fact):
    KIND = "visit.force_closed"
    visit_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentReturned(Fact):
    KIND = "document.returned"
    deposit_id: int
    visitor_id: int
    to: str = personal()

    @property
    def subject(self) -> str | None:
        return visitor_subject(self.visitor_id)


# -- badges ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeEnrolled(Fact):
    KIND = "badge.enrolled"
    badge: Badge


@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeReturned(Fact):
    """The badge goes back into the pool."""

    KIND = "badge.returned"
    badge_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeStateChanged(Fact):
    """Reported lost, found or retired (with a note)."""

    KIND = "badge.state"
    badge_id: int
    event: BadgeEvent
    state: BadgeState
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitBadgeLost(Fact):
    KIND = "visit.badge_lost"
    visit_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeIssueArmed(Fact):
    """The next free badge tapped on ``reader`` goes to ``visit_id``."""

    KIND = "badge.armed"
    reader: str
    visit_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeIssueDisarmed(Fact):
    KIND = "badge.disarmed"
    reader: str


# -- facilities, usage and the queue (steps 3, 4) ---------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class FacilityConfigured(Fact):
    KIND = "facility.configured"
    facility: Facility


@dataclass(frozen=True, slots=True, kw_only=True)
class FacilityServiceChanged(Fact):
    KIND = "facility.service"
    facility_id: int
    out_of_service: bool
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageStarted(Fact):
    KIND = "usage.started"
    usage: Usage


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageEnded(Fact):
    KIND = "usage.ended"
    usage_id: int
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketIssued(Fact):
    KIND = "queue.ticket"
    ticket: Ticket


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketCalled(Fact):
    KIND = "queue.called"
    ticket_id: int
    facility_id: int
    hold_until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketServed(Fact):
    KIND = "queue.served"
    ticket_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketSkipped(Fact):
    """A no-show (the hold ran out) or a staff skip."""

    KIND = "queue.skipped"
    ticket_id: int
    no_show: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketCancelled(Fact):
    KIND = "queue.cancelled"
    ticket_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketPrioritised(Fact):
    KIND = "queue.prioritised"
    ticket_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitUnqueued(Fact):
    KIND = "visit.unqueued"
    visit_id: int


# -- taps --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class TapDecided(Fact):
    """Every tap, granted or not, with its reason (the access log)."""

    KIND = "tap.decided"
    event: AccessEvent


# -- help desk (steps 5, 6) -----------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class HelpOpened(Fact):
    KIND = "help.opened"
    request: HelpRequest
    visitor_id: int | None = None

    @property
    def subject(self) -> str | None:
        return visitor_subject(self.visitor_id) or f"help:{self.request.id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpClaimed(Fact):
    KIND = "help.claimed"
    request_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpResolved(Fact):
    KIND = "help.resolved"
    request_id: int
    visitor_id: int | None = None
    problem: str = personal()
    resolution: str = personal()

    @property
    def subject(self) -> str | None:
        return visitor_subject(self.visitor_id) or f"help:{self.request_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpCancelled(Fact):
    KIND = "help.cancelled"
    request_id: int


# -- the day (step 9) ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class DayClosed(Fact):
    KIND = "day.closed"
    day: date
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DayReopened(Fact):
    KIND = "day.reopened"
    day: date
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DaySigned(Fact):
    KIND = "day.signed"
    day: date


@dataclass(frozen=True, slots=True, kw_only=True)
class BreachJustified(Fact):
    KIND = "breach.justified"
    justification: Justification


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendmentRecorded(Fact):
    KIND = "day.amended"
    amendment: Amendment


@dataclass(frozen=True, slots=True, kw_only=True)
class AmendmentsSigned(Fact):
    KIND = "day.amendments_signed"
    day: date
    amendment_ids: tuple[int, ...]


# -- journal-only facts (nothing in the state changes) ----------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceEventRecorded(Fact):
    """Door contact, tamper, power, reader on/offline."""

    KIND = "device.event"
    reader: str
    event: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SealedFile:
    name: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DaySealed(Fact):
    """The hashes of the files sealed for a signed day, in the chain itself."""

    KIND = "archive.sealed"
    day: date
    journal_seq: int
    files: tuple[SealedFile, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonalDataRead(Fact):
    """An admin read a full document number or a subject's export (never the value)."""

    KIND = "privacy.read"
    visitor_id: int | None
    what: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonalDataErased(Fact):
    """Retention: a data subject's personal values are erased and its key shredded.

    ``data_subject`` is ``visitor:12`` (the visitor, their visits, deposits and help
    requests) or ``help:5`` (a help request raised for no visit). The store erases
    the rows by SQL in the same transaction: most of them are no longer in memory.
    """

    KIND = "privacy.erased"
    data_subject: str


# --- visits ---
@dataclass(frozen=True, slots=True, kw_only=True)
class DeskServing(Fact):
    """The clerk serves ``visit_id`` at the front desk of ``reader`` (opened it by hand)."""

    KIND = "desk.serving"
    reader: str
    visit_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskReturnAsked(Fact):
    """The badge of ``visit_id`` was tapped on ``reader`` while another visit was served:
    its return waits for the clerk's answer."""

    KIND = "desk.return_asked"
    reader: str
    visit_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskReturnAnswered(Fact):
    """The question about ``visit_id`` at ``reader`` is answered: returned, or ignored."""

    KIND = "desk.return_answered"
    reader: str
    visit_id: int
    returned: bool


# --- events ---
@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmRaised(Fact):
    """A door or reader event that stays on the board until staff acknowledge it."""

    KIND = "alarm.raised"
    alarm: Alarm


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmRepeated(Fact):
    """The same event again on the same reader while its alarm is still open."""

    KIND = "alarm.repeated"
    alarm_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmAcknowledged(Fact):
    """A staff member (``actor``) saw the alarm and says what was done (``note``)."""

    KIND = "alarm.acknowledged"
    alarm_id: int
    reader: str
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorUnlocked(Fact):
    """*Buka pintu*: the Head or an admin opened a door by hand, for a reason (journal only)."""

    KIND = "door.unlocked"
    reader: str
    seconds: float
    reason: str


# --- dayops ---
# (Above _kinds: FACT_TYPES is built from the classes defined before it.)
@dataclass(frozen=True, slots=True, kw_only=True)
class MusterStarted(Fact):
    """An evacuation: the roll call of everyone the readers show inside begins."""

    KIND = "muster.started"
    muster: Muster


@dataclass(frozen=True, slots=True, kw_only=True)
class MusterMarkedSafe(Fact):
    KIND = "muster.safe"
    mark: MusterMark


@dataclass(frozen=True, slots=True, kw_only=True)
class MusterEnded(Fact):
    KIND = "muster.ended"
    muster_id: int


def _kinds(root: type[Fact]) -> dict[str, type[Fact]]:
    found: dict[str, type[Fact]] = {}
    for cls in root.__subclasses__():
        found[cls.KIND] = cls
        found.update(_kinds(cls))
    return found


# Every kind of fact by its journal kind (the journal is read back through this).
FACT_TYPES: dict[str, type[Fact]] = _kinds(Fact)


# --- admin ---
@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeEnrolArmed(Fact):
    """The next unknown badge tapped on ``reader`` is enrolled (as ``label``, or the
    next free label when None)."""

    KIND = "badge.enrol_armed"
    reader: str
    label: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeEnrolDisarmed(Fact):
    KIND = "badge.enrol_disarmed"
    reader: str


# Facts defined after FACT_TYPES was built join it here.
FACT_TYPES.update({cls.KIND: cls for cls in (BadgeEnrolArmed, BadgeEnrolDisarmed)})
