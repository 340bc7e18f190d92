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

from service.domain.lifecycle import (
    TICKET_TABLE,
    VISIT_TABLE,
    TicketEvent,
    TicketState,
    VisitEvent,
    VisitState,
    advance,
)
from service.domain.model import Facility, RoomState, Ticket, Usage, Visit
from service.domain.policy import Policy
from service.domain.tx import Tx
from service.errors import Conflict, NotFound, ValidationError


def is_free(facility: Facility, at: datetime) -> bool:
    return (
        facility.visit_id is None
        and facility.reserved_ticket_id is None
        and not facility.out_of_service
        and (facility.available_from is None or facility.available_from <= at)
    )


def free_facility(state: RoomState, kind: str, at: datetime) -> Facility | None:
    candidates = [f for f in state.facilities.values() if f.kind == kind and is_free(f, at)]
    return min(candidates, key=lambda f: f.code) if candidates else None


def waiting_tickets(state: RoomState, kind: str) -> list[Ticket]:
    waiting = [
        t for t in state.tickets.values() if t.kind == kind and t.state is TicketState.WAITING
    ]
    return sorted(waiting, key=lambda t: (not t.priority, t.day, t.seq))


def _next_seq(state: RoomState, kind: str, day: date) -> int:
    seqs = [t.seq for t in state.tickets.values() if t.kind == kind and t.day == day]
    return max(seqs, default=0) + 1


def assign(tx: Tx, visit: Visit, facility: Facility, at: datetime) -> None:
    """Give ``facility`` to ``visit`` (admitting it if it was waiting)."""
    if visit.state is not VisitState.ADMITTED:
        tx.update(
            "visit",
            visit.id,
            state=advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.ADMIT),
        )
    tx.update("visit", visit.id, facility_id=facility.id, assigned_at=visit.assigned_at or at)
    tx.update("facility", facility.id, visit_id=visit.id, reserved_ticket_id=None)


def release(tx: Tx, policy: Policy, facility: Facility, at: datetime) -> None:
    """The facility's user is done: it rests for the turnover gap, then serves the queue."""
    tx.update(
        "facility",
        facility.id,
        visit_id=None,
        reserved_ticket_id=None,
        available_from=at + policy.turnover_gap,
    )


def start_usage(tx: Tx, visit: Visit, facility: Facility, at: datetime, by: str) -> Usage:
    """Step 4 begins: a usage session of ``visit`` at its ``facility`` (the usage book)."""
    usage: Usage = tx.create(
        "usage",
        {"visit_id": visit.id, "facility_id": facility.id, "started_at": at, "started_by": by},
    )
    return usage


def end_usage(tx: Tx, policy: Policy, visit: Visit, usage: Usage, at: datetime, by: str) -> None:
    """The session ends and the facility goes back to the pool (after the turnover gap)."""
    tx.update("usage", usage.id, ended_at=at, ended_by=by)
    release(tx, policy, tx.state.facilities[usage.facility_id], at)
    tx.update("visit", visit.id, facility_id=None)


def assign_or_queue(tx: Tx, policy: Policy, visit: Visit, at: datetime) -> Ticket | None:
    """Step 3: a free facility of the wanted kind, or a queue ticket. Returns the ticket."""
    state = tx.state
    if visit.wanted_kind is None:
        tx.update(
            "visit",
            visit.id,
            state=advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.ADMIT),
            assigned_at=at,
        )
        return None
    kind = policy.kinds.get(visit.wanted_kind)
    if kind is None:
        raise NotFound(
            f"Jenis fasilitas tidak dikenal: {visit.wanted_kind}",
            f"Unknown facility kind: {visit.wanted_kind}",
            field="wanted_kind",
        )
    facility = free_facility(state, kind.kind, at)
    if facility is not None and not waiting_tickets(state, kind.kind):
        assign(tx, visit, facility, at)
        return None
    day = policy.day_of(at)
    seq = _next_seq(state, kind.kind, day)
    ticket: Ticket = tx.create(
        "ticket",
        {
            "day": day,
            "kind": kind.kind,
            "seq": seq,
            "number": f"{kind.prefix}-{seq:03d}",
            "visit_id": visit.id,
            "issued_at": at,
        },
    )
    tx.update(
        "visit",
        visit.id,
        ticket_id=ticket.id,
        assigned_at=visit.assigned_at or at,
        state=advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.QUEUE),
    )
    return ticket


def call(tx: Tx, ticket: Ticket, facility: Facility, at: datetime) -> None:
    tx.update(
        "ticket",
        ticket.id,
        facility_id=facility.id,
        called_at=at,
        state=advance(TICKET_TABLE, "tiket", ticket.state, TicketEvent.CALL),
    )
    tx.update("facility", facility.id, reserved_ticket_id=ticket.id)


def serve(tx: Tx, ticket: Ticket, at: datetime) -> None:
    """The called visitor showed up (door or desk tap, or staff): the facility is theirs."""
    visit = tx.state.visits[ticket.visit_id]
    facility = tx.state.facilities[ticket.facility_id] if ticket.facility_id else None
    tx.update(
        "ticket",
        ticket.id,
        served_at=at,
        state=advance(TICKET_TABLE, "tiket", ticket.state, TicketEvent.SERVE),
    )
    if facility is not None:
        assign(tx, visit, facility, at)


def skip(tx: Tx, ticket: Ticket, at: datetime) -> None:
    """A no-show (or a staff skip): the visit goes back to the front desk."""
    tx.update(
        "ticket",
        ticket.id,
        closed_at=at,
        state=advance(TICKET_TABLE, "tiket", ticket.state, TicketEvent.SKIP),
    )
    if ticket.facility_id is not None:
        facility = tx.state.facilities[ticket.facility_id]
        if facility.reserved_ticket_id == ticket.id:
            tx.update("facility", facility.id, reserved_ticket_id=None)
    visit = tx.state.visits[ticket.visit_id]
    if visit.state is VisitState.QUEUED:
        tx.update(
            "visit",
            visit.id,
            state=advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.UNQUEUE),
        )


def cancel_ticket_of(tx: Tx, visit: Visit, at: datetime) -> None:
    if visit.ticket_id is None:
        return
    ticket = tx.state.tickets[visit.ticket_id]
    if ticket.state in (TicketState.WAITING, TicketState.CALLED):
        tx.update(
            "ticket",
            ticket.id,
            closed_at=at,
            state=advance(TICKET_TABLE, "tiket", ticket.state, TicketEvent.CANCEL),
        )
        if ticket.facility_id is not None:
            facility = tx.state.facilities[ticket.facility_id]
            if facility.reserved_ticket_id == ticket.id:
                tx.update("facility", facility.id, reserved_ticket_id=None)


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
            and ticket.called_at is not None
            and ticket.called_at + policy.hold <= now
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
                f
                for f in state.facilities.values()
                if f.kind == kind
                and (
                    is_free(f, now)
                    or (f.id in freed and f.visit_id is None and not f.out_of_service)
                )
            ),
            key=lambda f: f.code,
        )
        for ticket, facility in zip(waiting, free, strict=False):
            actions.append(DueAction("call", ticket.id, facility.id))
    return actions


def run_due(tx: Tx, policy: Policy, now: datetime) -> list[DueAction]:
    actions = due(tx.state, policy, now)
    for action in actions:
        ticket = tx.state.tickets[action.ticket_id]
        if action.action == "skip":
            skip(tx, ticket, now)
            tx.fact("queue.no_show", now, "system")
        elif action.facility_id is not None:
            call(tx, ticket, tx.state.facilities[action.facility_id], now)
            tx.fact("queue.called", now, "system")
    return actions


def call_next(tx: Tx, kind: str, at: datetime, actor: str) -> Ticket:
    """Staff press *panggil berikutnya*: the next ticket of a kind gets a free facility."""
    waiting = waiting_tickets(tx.state, kind)
    if not waiting:
        raise Conflict("Tidak ada antrian untuk fasilitas ini.", "No one is waiting for this kind.")
    facility = free_facility(tx.state, kind, at)
    if facility is None:
        raise Conflict("Belum ada fasilitas yang kosong.", "No facility of this kind is free.")
    call(tx, waiting[0], facility, at)
    tx.fact("queue.called", at, actor)
    return waiting[0]


def staff_skip(tx: Tx, ticket_id: int, at: datetime, actor: str) -> Ticket:
    """*Lewati*: the front office skips a number (waiting or called)."""
    ticket = tx.state.tickets[ticket_id]
    skip(tx, ticket, at)
    tx.fact("queue.skipped", at, actor)
    return ticket


def prioritise(tx: Tx, ticket_id: int, reason: str, at: datetime, actor: str) -> Ticket:
    """A waiting number goes first, with the reason (e.g. the tender closes within the hour)."""
    ticket = tx.state.tickets[ticket_id]
    if ticket.state is not TicketState.WAITING:
        raise ValidationError(
            "Hanya nomor yang menunggu dapat diprioritaskan.",
            "Only a waiting number can get priority.",
        )
    if not reason.strip():
        raise ValidationError(
            "Alasan prioritas wajib diisi.", "A reason is required.", field="reason"
        )
    tx.update("ticket", ticket_id, priority=True, priority_reason=reason.strip())
    tx.fact("queue.prioritised", at, actor)
    return ticket


def set_out_of_service(tx: Tx, facility_id: int, out: bool, at: datetime, actor: str) -> None:
    """Take a facility out of service (it is skipped by assignment and calls) or back."""
    tx.update("facility", facility_id, out_of_service=out)
    tx.fact("facility.service", at, actor)
