"""Facilities and the queue (SOP step 3): assign a free facility or give a number.

A visit that wants a kind of facility gets a free one, or a queue ticket
(``PC-007``: a daily sequence per kind) when every one is taken. A facility that
frees rests for the turnover gap; then the next ticket (priority first, then by
number) is called and the facility is held for it until the hold time runs out,
after which the ticket is skipped as a no-show and the next one is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from service.domain import facts as f
from service.domain.lifecycle import (
    TICKET_TABLE,
    VISIT_TABLE,
    TicketEvent,
    TicketState,
    VisitEvent,
    VisitState,
    advance,
)
from service.domain.model import Facility, Ticket, Usage, Visit
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import Conflict, NotFound, ValidationError
from service.i18n import _


def is_free(facility: Facility, at: datetime) -> bool:
    return (
        facility.visit_id is None
        and facility.reserved_ticket_id is None
        and not facility.out_of_service
        and (facility.available_from is None or facility.available_from <= at)
    )


def free_facility(state: RoomState, kind: str, at: datetime) -> Facility | None:
    candidates = [x for x in state.facilities.values() if x.kind == kind and is_free(x, at)]
    return min(candidates, key=lambda x: x.code) if candidates else None


def waiting_tickets(state: RoomState, kind: str) -> list[Ticket]:
    waiting = [
        t for t in state.tickets.values() if t.kind == kind and t.state is TicketState.WAITING
    ]
    return sorted(waiting, key=lambda t: (not t.priority, t.day, t.seq))


def _next_seq(state: RoomState, kind: str, day: date) -> int:
    seqs = [t.seq for t in state.tickets.values() if t.kind == kind and t.day == day]
    return max(seqs, default=0) + 1


def assign(tx: Tx, visit_id: int, facility: Facility, at: datetime, actor: str) -> None:
    """Give ``facility`` to the visit (admitting it if it was waiting)."""
    visit = tx.state.visits[visit_id]
    if visit.state is not VisitState.ADMITTED:
        advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.ADMIT)
        tx.emit(f.VisitAdmitted(at=at, actor=actor, visit_id=visit_id))
    tx.emit(f.FacilityAssigned(at=at, actor=actor, visit_id=visit_id, facility_id=facility.id))


def leave(tx: Tx, policy: Policy, visit_id: int, at: datetime, actor: str) -> None:
    """The visit gives its facility back: it rests for the turnover gap, then serves the queue."""
    visit = tx.state.visits[visit_id]
    if visit.facility_id is None:
        return
    tx.emit(
        f.VisitLeftFacility(
            at=at,
            actor=actor,
            visit_id=visit_id,
            facility_id=visit.facility_id,
            available_from=at + policy.turnover_gap,
        )
    )


def start_usage(
    tx: Tx, visit: Visit, facility: Facility, at: datetime, by: str, actor: str
) -> Usage:
    """Step 4 begins: a usage session of ``visit`` at its ``facility`` (the usage book)."""
    usage = Usage(
        id=tx.next_id("usage"),
        visit_id=visit.id,
        facility_id=facility.id,
        started_at=at,
        started_by=by,
    )
    tx.emit(f.UsageStarted(at=at, actor=actor, usage=usage))
    return usage


def end_usage(
    tx: Tx, policy: Policy, visit_id: int, usage: Usage, at: datetime, by: str, actor: str
) -> None:
    """The session ends and the facility goes back to the pool (after the turnover gap)."""
    tx.emit(f.UsageEnded(at=at, actor=actor, usage_id=usage.id, by=by))
    leave(tx, policy, visit_id, at, actor)


def assign_or_queue(
    tx: Tx, policy: Policy, visit_id: int, at: datetime, actor: str
) -> Ticket | None:
    """Step 3: a free facility of the wanted kind, or a queue ticket. Returns the ticket."""
    state = tx.state
    visit = state.visits[visit_id]
    if visit.wanted_kind is None:
        advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.ADMIT)
        tx.emit(f.VisitAdmitted(at=at, actor=actor, visit_id=visit_id))
        return None
    kind = policy.kinds.get(visit.wanted_kind)
    if kind is None:
        raise NotFound(
            _("Jenis fasilitas tidak dikenal: {wanted_kind}", wanted_kind=visit.wanted_kind),
            field="wanted_kind",
        )
    facility = free_facility(state, kind.kind, at)
    if facility is not None and not waiting_tickets(state, kind.kind):
        assign(tx, visit_id, facility, at, actor)
        return None
    advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.QUEUE)
    day = policy.day_of(at)
    seq = _next_seq(state, kind.kind, day)
    ticket = Ticket(
        id=tx.next_id("ticket"),
        day=day,
        kind=kind.kind,
        seq=seq,
        number=f"{kind.prefix}-{seq:03d}",
        visit_id=visit_id,
        issued_at=at,
    )
    tx.emit(f.TicketIssued(at=at, actor=actor, ticket=ticket))
    return ticket


def call(
    tx: Tx, policy: Policy, ticket: Ticket, facility: Facility, at: datetime, actor: str
) -> None:
    advance(TICKET_TABLE, "tiket", ticket.state, TicketEvent.CALL)
    tx.emit(
        f.TicketCalled(
            at=at,
            actor=actor,
            ticket_id=ticket.id,
            facility_id=facility.id,
            hold_until=at + policy.hold,
        )
    )


def serve(tx: Tx, ticket_id: int, at: datetime, actor: str) -> None:
    """The called visitor showed up (door or desk tap, or staff): the facility is theirs."""
    ticket = tx.state.tickets[ticket_id]
    advance(TICKET_TABLE, "tiket", ticket.state, TicketEvent.SERVE)
    tx.emit(f.TicketServed(at=at, actor=actor, ticket_id=ticket_id))
    if ticket.facility_id is not None:
        assign(tx, ticket.visit_id, tx.state.facilities[ticket.facility_id], at, actor)


def skip(tx: Tx, ticket_id: int, at: datetime, actor: str, *, no_show: bool = False) -> None:
    """A no-show (or a staff skip): the visit goes back to the front desk."""
    ticket = tx.state.tickets[ticket_id]
    advance(TICKET_TABLE, "tiket", ticket.state, TicketEvent.SKIP)
    tx.emit(f.TicketSkipped(at=at, actor=actor, ticket_id=ticket_id, no_show=no_show))
    visit = tx.state.visits[ticket.visit_id]
    if visit.state is VisitState.QUEUED:
        advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.UNQUEUE)
        tx.emit(f.VisitUnqueued(at=at, actor=actor, visit_id=visit.id))


def cancel_ticket_of(tx: Tx, visit_id: int, at: datetime, actor: str) -> None:
    visit = tx.state.visits[visit_id]
    if visit.ticket_id is None:
        return
    ticket = tx.state.tickets[visit.ticket_id]
    if ticket.state in (TicketState.WAITING, TicketState.CALLED):
        advance(TICKET_TABLE, "tiket", ticket.state, TicketEvent.CANCEL)
        tx.emit(f.TicketCancelled(at=at, actor=actor, ticket_id=ticket.id))


def called_ticket_of(state: RoomState, visit: Visit) -> Ticket | None:
    if visit.ticket_id is None:
        return None
    ticket = state.tickets[visit.ticket_id]
    return ticket if ticket.state is TicketState.CALLED else None


@dataclass(frozen=True, slots=True)
class DueAction:
    action: str  # "call" or "skip"
    ticket_id: int
    facility_id: int | None = None


def due(state: RoomState, policy: Policy, now: datetime) -> list[DueAction]:
    """What the queue's clock asks for now: no-shows to skip, tickets to call."""
    actions: list[DueAction] = []
    freed: set[int] = set()
    for ticket in state.tickets.values():
        if (
            ticket.state is TicketState.CALLED
            and ticket.hold_until is not None
            and ticket.hold_until <= now
        ):
            actions.append(DueAction("skip", ticket.id))
            if ticket.facility_id is not None:
                freed.add(ticket.facility_id)
    for kind in policy.kinds:
        waiting = waiting_tickets(state, kind)
        if not waiting:
            continue
        free = sorted(
            (
                fac
                for fac in state.facilities.values()
                if fac.kind == kind
                and (
                    is_free(fac, now)
                    or (fac.id in freed and fac.visit_id is None and not fac.out_of_service)
                )
            ),
            key=lambda fac: fac.code,
        )
        for ticket, facility in zip(waiting, free, strict=False):
            actions.append(DueAction("call", ticket.id, facility.id))
    return actions


def run_due(tx: Tx, policy: Policy, now: datetime) -> list[DueAction]:
    actions = due(tx.state, policy, now)
    for action in actions:
        ticket = tx.state.tickets[action.ticket_id]
        if action.action == "skip":
            skip(tx, ticket.id, now, "system", no_show=True)
        elif action.facility_id is not None:
            call(tx, policy, ticket, tx.state.facilities[action.facility_id], now, "system")
    return actions


def _ticket(tx: Tx, ticket_id: int) -> Ticket:
    ticket = tx.state.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(_("Nomor antrian {ticket_id} tidak ada.", ticket_id=ticket_id))
    return ticket


def call_next(tx: Tx, policy: Policy, kind: str, at: datetime, actor: str) -> Ticket:
    """Staff press *panggil berikutnya*: the next ticket of a kind gets a free facility."""
    waiting = waiting_tickets(tx.state, kind)
    if not waiting:
        raise Conflict(_("Tidak ada antrian untuk fasilitas ini."))
    facility = free_facility(tx.state, kind, at)
    if facility is None:
        raise Conflict(_("Belum ada fasilitas yang kosong."))
    call(tx, policy, waiting[0], facility, at, actor)
    return tx.state.tickets[waiting[0].id]


def staff_skip(tx: Tx, ticket_id: int, at: datetime, actor: str) -> Ticket:
    """*Lewati*: the front office skips a number (waiting or called)."""
    skip(tx, _ticket(tx, ticket_id).id, at, actor)
    return tx.state.tickets[ticket_id]


def prioritise(tx: Tx, ticket_id: int, reason: str, at: datetime, actor: str) -> Ticket:
    """A waiting number goes first, with the reason (e.g. the tender closes within the hour)."""
    ticket = _ticket(tx, ticket_id)
    if ticket.state is not TicketState.WAITING:
        raise Conflict(_("Hanya nomor yang menunggu dapat diprioritaskan."))
    if not reason.strip():
        raise ValidationError(_("Alasan prioritas wajib diisi."), field="reason")
    tx.emit(f.TicketPrioritised(at=at, actor=actor, ticket_id=ticket_id, reason=reason.strip()))
    return tx.state.tickets[ticket_id]


def set_out_of_service(
    tx: Tx, facility_id: int, out: bool, at: datetime, actor: str, note: str | None = None
) -> None:
    """Take a facility out of service (it is skipped by assignment and calls) or back."""
    facility = tx.state.facilities.get(facility_id)
    if facility is None:
        raise NotFound(_("Fasilitas {facility_id} tidak ada.", facility_id=facility_id))
    if facility.out_of_service == out:
        return
    tx.emit(
        f.FacilityServiceChanged(
            at=at,
            actor=actor,
            facility_id=facility_id,
            out_of_service=out,
            note=(note or "").strip() or None,
        )
    )
