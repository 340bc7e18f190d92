"""JSON shapes of the entities, shared by the handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from service.api.shapes.views import (
    BadgeRef,
    DepositOut,
    DeviceOut,
    TicketOut,
    UsageOut,
    VisitOut,
)
from service.domain.model import HelpRequest, Ticket, Visit
from service.domain.state import RoomState


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_json(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.id,
        "number": t.number,
        "kind": t.kind,
        "state": t.state.value,
        "priority": t.priority,
        "priority_reason": t.priority_reason,
        "issued_at": iso(t.issued_at),
        "called_at": iso(t.called_at),
        "served_at": iso(t.served_at),
        "visit_id": t.visit_id,
    }


def ticket_out(t: Ticket) -> TicketOut:
    """A queue ticket as its reply struct (:func:`ticket_json` as a typed value)."""
    return TicketOut(
        id=t.id,
        number=t.number,
        kind=t.kind,
        state=t.state,
        priority=t.priority,
        priority_reason=t.priority_reason,
        issued_at=t.issued_at,
        called_at=t.called_at,
        served_at=t.served_at,
        visit_id=t.visit_id,
    )


def visit_out(state: RoomState, v: Visit) -> VisitOut:
    """A visit as its reply struct, with its badge, facility, ticket, usage and deposit."""
    deposit = state.deposit_of(v.id)
    badge = state.badges.get(v.badge_id) if v.badge_id else None
    facility = state.facilities.get(v.facility_id) if v.facility_id else None
    ticket = state.tickets.get(v.ticket_id) if v.ticket_id else None
    usage = state.open_usage(v.id)
    return VisitOut(
        id=v.id,
        day=v.day,
        state=v.state,
        visitor_id=v.visitor_id,
        name=v.name,
        company=v.company,
        purpose=v.purpose,
        tender_code=v.tender_code,
        devices=[DeviceOut(kind=d.kind, serial=d.serial) for d in v.devices],
        wanted_kind=v.wanted_kind,
        facility=facility.code if facility else None,
        badge=BadgeRef(id=badge.id, label=badge.label) if badge else None,
        ticket=ticket_out(ticket) if ticket else None,
        inside=v.inside,
        entered_at=v.entered_at,
        exited_at=v.exited_at,
        form_started_at=v.form_started_at,
        registered_at=v.registered_at,
        badge_issued_at=v.badge_issued_at,
        assigned_at=v.assigned_at,
        returned_at=v.returned_at,
        closed_at=v.closed_at,
        close_reason=v.close_reason,
        forced=v.forced,
        back_entered=v.back_entered,
        officer=v.officer,
        rules_ack=v.rules_ack,
        privacy_ack=v.privacy_ack,
        devices_checked=v.devices_checked,
        usage=UsageOut(
            facility=state.facilities[usage.facility_id].code, started_at=usage.started_at
        )
        if usage
        else None,
        deposit=DepositOut(
            id=deposit.id,
            slot=deposit.slot,
            doc_type=deposit.doc_type,
            doc_masked=deposit.doc_masked,
            taken_at=deposit.taken_at,
            returned_at=deposit.returned_at,
            returned_to=deposit.returned_to,
        )
        if deposit
        else None,
    )


def visit_json(state: RoomState, v: Visit) -> dict[str, Any]:
    """:func:`visit_out` as plain JSON values (for handlers not yet typed)."""
    value: dict[str, Any] = msgspec.to_builtins(visit_out(state, v))
    return value


def help_json(state: RoomState, h: HelpRequest) -> dict[str, Any]:
    visit = state.visits.get(h.visit_id) if h.visit_id else None
    facility = state.facilities.get(h.facility_id) if h.facility_id else None
    return {
        "id": h.id,
        "state": h.state.value,
        "category": h.category,
        "problem": h.problem,
        "source": h.source,
        "visit_id": h.visit_id,
        "name": visit.name if visit else None,
        "facility": facility.code if facility else None,
        "opened_at": iso(h.opened_at),
        "opened_by": h.opened_by,
        "claimed_at": iso(h.claimed_at),
        "claimed_by": h.claimed_by,
        "resolved_at": iso(h.resolved_at),
        "resolved_by": h.resolved_by,
        "resolution": h.resolution,
    }
