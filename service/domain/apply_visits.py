"""How the visit, badge, facility, queue and tap facts change the state."""

from __future__ import annotations

from typing import Any

from service.domain import facts as f
from service.domain.apply_core import Write, applier, put, set_fields
from service.domain.lifecycle import BadgeState, TicketState, VisitState
from service.domain.model import AccessEvent, Anomaly, ArmedIssue, EnrolArmed
from service.domain.state import RoomState


# -- visitors and visits -------------------------------------------------------------
@applier.register
def _(fact: f.VisitorRecorded, state: RoomState) -> list[Write]:
    return [put(state, "visitor", fact.visitor)]


@applier.register
def _(fact: f.VisitRegistered, state: RoomState) -> list[Write]:
    return [put(state, "visit", fact.visit), put(state, "deposit", fact.deposit)]


@applier.register
def _(fact: f.BadgeIssued, state: RoomState) -> list[Write]:
    return [
        set_fields(state, "badge", fact.badge_id, state=BadgeState.ISSUED, visit_id=fact.visit_id),
        set_fields(state, "visit", fact.visit_id, badge_id=fact.badge_id, badge_issued_at=fact.at),
    ]


@applier.register
def _(fact: f.VisitAdmitted, state: RoomState) -> list[Write]:
    visit = state.visits[fact.visit_id]
    return [
        set_fields(
            state,
            "visit",
            visit.id,
            state=VisitState.ADMITTED,
            assigned_at=visit.assigned_at or fact.at,
        )
    ]


@applier.register
def _(fact: f.WantedKindChanged, state: RoomState) -> list[Write]:
    return [set_fields(state, "visit", fact.visit_id, wanted_kind=fact.kind)]


@applier.register
def _(fact: f.FacilityAssigned, state: RoomState) -> list[Write]:
    visit = state.visits[fact.visit_id]
    return [
        set_fields(
            state,
            "visit",
            visit.id,
            facility_id=fact.facility_id,
            assigned_at=visit.assigned_at or fact.at,
        ),
        set_fields(state, "facility", fact.facility_id, visit_id=visit.id, reserved_ticket_id=None),
    ]


@applier.register
def _(fact: f.VisitLeftFacility, state: RoomState) -> list[Write]:
    out = [set_fields(state, "visit", fact.visit_id, facility_id=None)]
    facility = state.facilities[fact.facility_id]
    if facility.visit_id == fact.visit_id:
        out.append(
            set_fields(
                state,
                "facility",
                facility.id,
                visit_id=None,
                reserved_ticket_id=None,
                available_from=fact.available_from,
            )
        )
    return out


@applier.register
def _(fact: f.VisitEntered, state: RoomState) -> list[Write]:
    return [set_fields(state, "visit", fact.visit_id, inside=True, entered_at=fact.at)]


@applier.register
def _(fact: f.VisitExited, state: RoomState) -> list[Write]:
    return [set_fields(state, "visit", fact.visit_id, inside=False, exited_at=fact.at)]


@applier.register
def _(fact: f.VisitReturned, state: RoomState) -> list[Write]:
    return [
        set_fields(
            state,
            "visit",
            fact.visit_id,
            state=VisitState.CLOSED,
            returned_at=fact.at,
            closed_at=fact.at,
            devices_checked=fact.devices_checked,
        )
    ]


@applier.register
def _(fact: f.VisitForceClosed, state: RoomState) -> list[Write]:
    return [
        set_fields(
            state,
            "visit",
            fact.visit_id,
            state=VisitState.CLOSED,
            closed_at=fact.at,
            forced=True,
            close_reason=fact.reason,
        )
    ]


@applier.register
def _(fact: f.DocumentReturned, state: RoomState) -> list[Write]:
    return [
        set_fields(
            state,
            "deposit",
            fact.deposit_id,
            returned_at=fact.at,
            returned_to=fact.to,
            returned_by=fact.actor,
        )
    ]


# -- badges ----------------------------------------------------------------------------
@applier.register
def _(fact: f.BadgeEnrolled, state: RoomState) -> list[Write]:
    return [put(state, "badge", fact.badge)]


@applier.register
def _(fact: f.BadgeReturned, state: RoomState) -> list[Write]:
    return [set_fields(state, "badge", fact.badge_id, state=BadgeState.AVAILABLE, visit_id=None)]


@applier.register
def _(fact: f.BadgeStateChanged, state: RoomState) -> list[Write]:
    return [
        set_fields(state, "badge", fact.badge_id, state=fact.state, visit_id=None, note=fact.note)
    ]


@applier.register
def _(fact: f.VisitBadgeLost, state: RoomState) -> list[Write]:
    return [set_fields(state, "visit", fact.visit_id, badge_id=None)]


@applier.register
def _(fact: f.BadgeIssueArmed, state: RoomState) -> list[Write]:
    armed = ArmedIssue(id=fact.reader, visit_id=fact.visit_id, at=fact.at, by=fact.actor)
    return [put(state, "armed", armed)]


@applier.register
def _(fact: f.BadgeIssueDisarmed, state: RoomState) -> list[Write]:
    state.remove("armed", fact.reader)
    return [("armed", fact.reader, None)]


# -- facilities, usage and the queue --------------------------------------------------
@applier.register
def _(fact: f.FacilityConfigured, state: RoomState) -> list[Write]:
    return [put(state, "facility", fact.facility)]


@applier.register
def _(fact: f.FacilityServiceChanged, state: RoomState) -> list[Write]:
    return [
        set_fields(
            state,
            "facility",
            fact.facility_id,
            out_of_service=fact.out_of_service,
            service_by=fact.actor,
            service_at=fact.at,
            service_note=fact.note,
        )
    ]


@applier.register
def _(fact: f.UsageStarted, state: RoomState) -> list[Write]:
    return [put(state, "usage", fact.usage)]


@applier.register
def _(fact: f.UsageEnded, state: RoomState) -> list[Write]:
    return [set_fields(state, "usage", fact.usage_id, ended_at=fact.at, ended_by=fact.by)]


@applier.register
def _(fact: f.TicketIssued, state: RoomState) -> list[Write]:
    ticket = fact.ticket
    visit = state.visits[ticket.visit_id]
    return [
        put(state, "ticket", ticket),
        set_fields(
            state,
            "visit",
            visit.id,
            ticket_id=ticket.id,
            state=VisitState.QUEUED,
            assigned_at=visit.assigned_at or fact.at,
        ),
    ]


@applier.register
def _(fact: f.TicketCalled, state: RoomState) -> list[Write]:
    return [
        set_fields(
            state,
            "ticket",
            fact.ticket_id,
            state=TicketState.CALLED,
            facility_id=fact.facility_id,
            called_at=fact.at,
            hold_until=fact.hold_until,
        ),
        set_fields(state, "facility", fact.facility_id, reserved_ticket_id=fact.ticket_id),
    ]


@applier.register
def _(fact: f.TicketServed, state: RoomState) -> list[Write]:
    return [
        set_fields(state, "ticket", fact.ticket_id, state=TicketState.SERVED, served_at=fact.at)
    ]


def _close_ticket(state: RoomState, ticket_id: int, to: TicketState, at: Any) -> list[Write]:
    ticket = state.tickets[ticket_id]
    out = [set_fields(state, "ticket", ticket_id, state=to, closed_at=at)]
    if ticket.facility_id is not None:
        facility = state.facilities[ticket.facility_id]
        if facility.reserved_ticket_id == ticket_id:
            out.append(set_fields(state, "facility", facility.id, reserved_ticket_id=None))
    return out


@applier.register
def _(fact: f.TicketSkipped, state: RoomState) -> list[Write]:
    return _close_ticket(state, fact.ticket_id, TicketState.SKIPPED, fact.at)


@applier.register
def _(fact: f.TicketCancelled, state: RoomState) -> list[Write]:
    return _close_ticket(state, fact.ticket_id, TicketState.CANCELLED, fact.at)


@applier.register
def _(fact: f.TicketPrioritised, state: RoomState) -> list[Write]:
    return [set_fields(state, "ticket", fact.ticket_id, priority=True, priority_reason=fact.reason)]


@applier.register
def _(fact: f.VisitUnqueued, state: RoomState) -> list[Write]:
    return [set_fields(state, "visit", fact.visit_id, state=VisitState.REGISTERED)]


# -- taps --------------------------------------------------------------------------------
@applier.register
def _(fact: f.TapDecided, state: RoomState) -> list[Write]:
    event: AccessEvent = fact.event
    state.see_id("access_event", event.id)
    state.taps_in_flight[event.event_id] = event
    if event.anomaly is not None and event.visit_id is not None:
        state.put(
            "anomaly",
            Anomaly(
                id=event.id,
                kind=event.anomaly,
                visit_id=event.visit_id,
                reader=event.reader,
                at=event.at,
            ),
        )
    return [("access_event", event.id, event)]


# --- visits: the visit served at the front desk, and a question about another's badge ---
@applier.register
def _(fact: f.DeskServing, state: RoomState) -> list[Write]:
    serving = ArmedIssue(id=fact.reader, visit_id=fact.visit_id, at=fact.at, by=fact.actor)
    return [put(state, "armed", serving)]


@applier.register
def _(fact: f.DeskReturnAsked, state: RoomState) -> list[Write]:
    return [set_fields(state, "armed", fact.reader, asked_visit_id=fact.visit_id, asked_at=fact.at)]


@applier.register
def _(fact: f.DeskReturnAnswered, state: RoomState) -> list[Write]:
    return [set_fields(state, "armed", fact.reader, asked_visit_id=None, asked_at=None)]


# --- admin ---
@applier.register
def _(fact: f.BadgeEnrolArmed, state: RoomState) -> list[Write]:
    armed = EnrolArmed(id=fact.reader, label=fact.label, at=fact.at, by=fact.actor)
    return [put(state, "enrol", armed)]


@applier.register
def _(fact: f.BadgeEnrolDisarmed, state: RoomState) -> list[Write]:
    state.remove("enrol", fact.reader)
    return [("enrol", fact.reader, None)]
