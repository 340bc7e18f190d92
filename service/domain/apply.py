"""The one function that changes the room: :func:`apply` a fact to a state.

The writer applies each fact to its working state as the rule emits it, and the
same facts to the published state once they are committed; ``archive verify``
applies the journal's facts to an empty state and compares it with the tables.
``apply`` returns the rows it wrote, which is what the store persists.

It is deterministic (no clock, no I/O) and trusts the rule that emitted the fact:
a fact that names something missing from the state raises ``KeyError`` and the
writer throws the working state away.
"""

from __future__ import annotations

from dataclasses import replace
from functools import singledispatch
from typing import Any

from service.domain import facts as f
from service.domain.lifecycle import BadgeState, DayState, HelpState, TicketState, VisitState
from service.domain.model import (
    ERASED,
    AccessEvent,
    Anomaly,
    ArmedIssue,
    Day,
    Key,
    RoomState,
    personal_fields,
)

Write = tuple[str, Key, Any]  # entity, key, the new row (None: the row is deleted)


def _set(room: RoomState, entity: str, key: Key, /, **values: Any) -> Write:
    obj = replace(room.tables[entity][key], **values)
    room.put(entity, obj)
    return entity, key, obj


def _put(state: RoomState, entity: str, obj: Any) -> Write:
    state.put(entity, obj)
    return entity, obj.id, obj


def apply(state: RoomState, fact: f.Fact) -> list[Write]:
    """Change ``state`` as ``fact`` says; return the rows written."""
    return _apply(fact, state)


@singledispatch
def _apply(fact: f.Fact, state: RoomState) -> list[Write]:
    raise TypeError(f"no apply rule for {type(fact).__name__}")


# -- visitors and visits -------------------------------------------------------------
@_apply.register
def _(fact: f.VisitorRecorded, state: RoomState) -> list[Write]:
    return [_put(state, "visitor", fact.visitor)]


@_apply.register
def _(fact: f.VisitRegistered, state: RoomState) -> list[Write]:
    return [_put(state, "visit", fact.visit), _put(state, "deposit", fact.deposit)]


@_apply.register
def _(fact: f.BadgeIssued, state: RoomState) -> list[Write]:
    return [
        _set(state, "badge", fact.badge_id, state=BadgeState.ISSUED, visit_id=fact.visit_id),
        _set(state, "visit", fact.visit_id, badge_id=fact.badge_id, badge_issued_at=fact.at),
    ]


@_apply.register
def _(fact: f.VisitAdmitted, state: RoomState) -> list[Write]:
    visit = state.visits[fact.visit_id]
    return [
        _set(
            state,
            "visit",
            visit.id,
            state=VisitState.ADMITTED,
            assigned_at=visit.assigned_at or fact.at,
        )
    ]


@_apply.register
def _(fact: f.WantedKindChanged, state: RoomState) -> list[Write]:
    return [_set(state, "visit", fact.visit_id, wanted_kind=fact.kind)]


@_apply.register
def _(fact: f.FacilityAssigned, state: RoomState) -> list[Write]:
    visit = state.visits[fact.visit_id]
    return [
        _set(
            state,
            "visit",
            visit.id,
            facility_id=fact.facility_id,
            assigned_at=visit.assigned_at or fact.at,
        ),
        _set(state, "facility", fact.facility_id, visit_id=visit.id, reserved_ticket_id=None),
    ]


@_apply.register
def _(fact: f.VisitLeftFacility, state: RoomState) -> list[Write]:
    out = [_set(state, "visit", fact.visit_id, facility_id=None)]
    facility = state.facilities[fact.facility_id]
    if facility.visit_id == fact.visit_id:
        out.append(
            _set(
                state,
                "facility",
                facility.id,
                visit_id=None,
                reserved_ticket_id=None,
                available_from=fact.available_from,
            )
        )
    return out


@_apply.register
def _(fact: f.VisitEntered, state: RoomState) -> list[Write]:
    return [_set(state, "visit", fact.visit_id, inside=True, entered_at=fact.at)]


@_apply.register
def _(fact: f.VisitExited, state: RoomState) -> list[Write]:
    return [_set(state, "visit", fact.visit_id, inside=False, exited_at=fact.at)]


@_apply.register
def _(fact: f.VisitReturned, state: RoomState) -> list[Write]:
    return [
        _set(
            state,
            "visit",
            fact.visit_id,
            state=VisitState.CLOSED,
            returned_at=fact.at,
            closed_at=fact.at,
            devices_checked=fact.devices_checked,
        )
    ]


@_apply.register
def _(fact: f.VisitForceClosed, state: RoomState) -> list[Write]:
    return [
        _set(
            state,
            "visit",
            fact.visit_id,
            state=VisitState.CLOSED,
            closed_at=fact.at,
            forced=True,
            close_reason=fact.reason,
        )
    ]


@_apply.register
def _(fact: f.DocumentReturned, state: RoomState) -> list[Write]:
    return [
        _set(
            state,
            "deposit",
            fact.deposit_id,
            returned_at=fact.at,
            returned_to=fact.to,
            returned_by=fact.actor,
        )
    ]


# -- badges ----------------------------------------------------------------------------
@_apply.register
def _(fact: f.BadgeEnrolled, state: RoomState) -> list[Write]:
    return [_put(state, "badge", fact.badge)]


@_apply.register
def _(fact: f.BadgeReturned, state: RoomState) -> list[Write]:
    return [_set(state, "badge", fact.badge_id, state=BadgeState.AVAILABLE, visit_id=None)]


@_apply.register
def _(fact: f.BadgeStateChanged, state: RoomState) -> list[Write]:
    return [_set(state, "badge", fact.badge_id, state=fact.state, visit_id=None, note=fact.note)]


@_apply.register
def _(fact: f.VisitBadgeLost, state: RoomState) -> list[Write]:
    return [_set(state, "visit", fact.visit_id, badge_id=None)]


@_apply.register
def _(fact: f.BadgeIssueArmed, state: RoomState) -> list[Write]:
    armed = ArmedIssue(id=fact.reader, visit_id=fact.visit_id, at=fact.at, by=fact.actor)
    return [_put(state, "armed", armed)]


@_apply.register
def _(fact: f.BadgeIssueDisarmed, state: RoomState) -> list[Write]:
    state.remove("armed", fact.reader)
    return [("armed", fact.reader, None)]


# -- facilities, usage and the queue --------------------------------------------------
@_apply.register
def _(fact: f.FacilityConfigured, state: RoomState) -> list[Write]:
    return [_put(state, "facility", fact.facility)]


@_apply.register
def _(fact: f.FacilityServiceChanged, state: RoomState) -> list[Write]:
    return [
        _set(
            state,
            "facility",
            fact.facility_id,
            out_of_service=fact.out_of_service,
            service_by=fact.actor,
            service_at=fact.at,
            service_note=fact.note,
        )
    ]


@_apply.register
def _(fact: f.UsageStarted, state: RoomState) -> list[Write]:
    return [_put(state, "usage", fact.usage)]


@_apply.register
def _(fact: f.UsageEnded, state: RoomState) -> list[Write]:
    return [_set(state, "usage", fact.usage_id, ended_at=fact.at, ended_by=fact.by)]


@_apply.register
def _(fact: f.TicketIssued, state: RoomState) -> list[Write]:
    ticket = fact.ticket
    visit = state.visits[ticket.visit_id]
    return [
        _put(state, "ticket", ticket),
        _set(
            state,
            "visit",
            visit.id,
            ticket_id=ticket.id,
            state=VisitState.QUEUED,
            assigned_at=visit.assigned_at or fact.at,
        ),
    ]


@_apply.register
def _(fact: f.TicketCalled, state: RoomState) -> list[Write]:
    return [
        _set(
            state,
            "ticket",
            fact.ticket_id,
            state=TicketState.CALLED,
            facility_id=fact.facility_id,
            called_at=fact.at,
            hold_until=fact.hold_until,
        ),
        _set(state, "facility", fact.facility_id, reserved_ticket_id=fact.ticket_id),
    ]


@_apply.register
def _(fact: f.TicketServed, state: RoomState) -> list[Write]:
    return [_set(state, "ticket", fact.ticket_id, state=TicketState.SERVED, served_at=fact.at)]


def _close_ticket(state: RoomState, ticket_id: int, to: TicketState, at: Any) -> list[Write]:
    ticket = state.tickets[ticket_id]
    out = [_set(state, "ticket", ticket_id, state=to, closed_at=at)]
    if ticket.facility_id is not None:
        facility = state.facilities[ticket.facility_id]
        if facility.reserved_ticket_id == ticket_id:
            out.append(_set(state, "facility", facility.id, reserved_ticket_id=None))
    return out


@_apply.register
def _(fact: f.TicketSkipped, state: RoomState) -> list[Write]:
    return _close_ticket(state, fact.ticket_id, TicketState.SKIPPED, fact.at)


@_apply.register
def _(fact: f.TicketCancelled, state: RoomState) -> list[Write]:
    return _close_ticket(state, fact.ticket_id, TicketState.CANCELLED, fact.at)


@_apply.register
def _(fact: f.TicketPrioritised, state: RoomState) -> list[Write]:
    return [_set(state, "ticket", fact.ticket_id, priority=True, priority_reason=fact.reason)]


@_apply.register
def _(fact: f.VisitUnqueued, state: RoomState) -> list[Write]:
    return [_set(state, "visit", fact.visit_id, state=VisitState.REGISTERED)]


# -- taps --------------------------------------------------------------------------------
@_apply.register
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


# -- help desk -----------------------------------------------------------------------
@_apply.register
def _(fact: f.HelpOpened, state: RoomState) -> list[Write]:
    return [_put(state, "help", fact.request)]


@_apply.register
def _(fact: f.HelpClaimed, state: RoomState) -> list[Write]:
    return [
        _set(
            state,
            "help",
            fact.request_id,
            state=HelpState.CLAIMED,
            claimed_at=fact.at,
            claimed_by=fact.actor,
        )
    ]


@_apply.register
def _(fact: f.HelpResolved, state: RoomState) -> list[Write]:
    request = state.help_requests[fact.request_id]
    return [
        _set(
            state,
            "help",
            request.id,
            state=HelpState.RESOLVED,
            resolved_at=fact.at,
            resolved_by=fact.actor,
            problem=fact.problem,
            resolution=fact.resolution,
            claimed_at=request.claimed_at or fact.at,
            claimed_by=request.claimed_by or fact.actor,
        )
    ]


@_apply.register
def _(fact: f.HelpCancelled, state: RoomState) -> list[Write]:
    return [
        _set(
            state,
            "help",
            fact.request_id,
            state=HelpState.CANCELLED,
            resolved_at=fact.at,
            resolved_by=fact.actor,
        )
    ]


# -- the day ---------------------------------------------------------------------------
def _day(state: RoomState, fact: f.DayClosed | f.DayReopened | f.DaySigned) -> Day:
    record = state.days.get(fact.day)
    return record if record is not None else Day(id=fact.day)


@_apply.register
def _(fact: f.DayClosed, state: RoomState) -> list[Write]:
    day = replace(
        _day(state, fact),
        state=DayState.CLOSED,
        closed_at=fact.at,
        closed_by=fact.actor,
        note=fact.note,
    )
    return [_put(state, "day", day)]


@_apply.register
def _(fact: f.DayReopened, state: RoomState) -> list[Write]:
    day = replace(_day(state, fact), state=DayState.OPEN, closed_at=None, closed_by=None)
    return [_put(state, "day", day)]


@_apply.register
def _(fact: f.DaySigned, state: RoomState) -> list[Write]:
    day = replace(_day(state, fact), state=DayState.SIGNED, signed_at=fact.at, signed_by=fact.actor)
    return [_put(state, "day", day)]


@_apply.register
def _(fact: f.BreachJustified, state: RoomState) -> list[Write]:
    return [_put(state, "justification", fact.justification)]


@_apply.register
def _(fact: f.AmendmentRecorded, state: RoomState) -> list[Write]:
    return [_put(state, "amendment", fact.amendment)]


@_apply.register
def _(fact: f.AmendmentsSigned, state: RoomState) -> list[Write]:
    return [
        _set(state, "amendment", ident, signed_at=fact.at, signed_by=fact.actor)
        for ident in fact.amendment_ids
    ]


# -- journal-only, and erasure -------------------------------------------------------
@_apply.register
def _(
    fact: f.DeviceEventRecorded | f.DaySealed | f.PersonalDataRead, state: RoomState
) -> list[Write]:
    return []


def erase(obj: Any) -> Any:
    """``obj`` with every personal field erased (text becomes ``(dihapus)``)."""
    names = personal_fields(type(obj))
    values = {n: ERASED for n in names if getattr(obj, n) is not None}
    return replace(obj, **values) if values else obj


def subject_rows(state: RoomState, subject: str) -> list[tuple[str, Any]]:
    """The entities in memory that hold a data subject's personal values."""
    kind, _, raw = subject.partition(":")
    ident = int(raw)
    if kind == "help":
        request = state.help_requests.get(ident)
        return [("help", request)] if request is not None else []
    out: list[tuple[str, Any]] = []
    visitor = state.visitors.get(ident)
    if visitor is not None:
        out.append(("visitor", visitor))
    visit_ids = {v.id for v in state.visits.values() if v.visitor_id == ident}
    for entity in ("visit", "deposit", "help"):
        for obj in state.tables[entity].values():
            owner = obj.id if entity == "visit" else obj.visit_id
            if owner in visit_ids:
                out.append((entity, obj))
    return out


@_apply.register
def _(fact: f.PersonalDataErased, state: RoomState) -> list[Write]:
    """In memory, what the store does to the tables (by SQL) in the same transaction."""
    out: list[Write] = []
    for entity, obj in subject_rows(state, fact.data_subject):
        erased = erase(obj)
        if entity == "visitor":
            erased = replace(erased, erased_at=fact.at)
        out.append(_put(state, entity, erased))
    return out
