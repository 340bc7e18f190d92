"""JSON shapes of the entities, shared by the handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


def visit_json(state: RoomState, v: Visit) -> dict[str, Any]:
    deposit = state.deposit_of(v.id)
    badge = state.badges.get(v.badge_id) if v.badge_id else None
    facility = state.facilities.get(v.facility_id) if v.facility_id else None
    ticket = state.tickets.get(v.ticket_id) if v.ticket_id else None
    usage = state.open_usage(v.id)
    return {
        "id": v.id,
        "day": v.day.isoformat(),
        "state": v.state.value,
        "visitor_id": v.visitor_id,
        "name": v.name,
        "company": v.company,
        "purpose": v.purpose,
        "tender_code": v.tender_code,
        "devices": [{"kind": d.kind, "serial": d.serial} for d in v.devices],
        "wanted_kind": v.wanted_kind,
        "facility": facility.code if facility else None,
        "badge": {"id": badge.id, "label": badge.label} if badge else None,
        "ticket": ticket_json(ticket) if ticket else None,
        "inside": v.inside,
        "entered_at": iso(v.entered_at),
        "exited_at": iso(v.exited_at),
        "form_started_at": iso(v.form_started_at),
        "registered_at": iso(v.registered_at),
        "badge_issued_at": iso(v.badge_issued_at),
        "assigned_at": iso(v.assigned_at),
        "returned_at": iso(v.returned_at),
        "closed_at": iso(v.closed_at),
        "close_reason": v.close_reason,
        "forced": v.forced,
        "back_entered": v.back_entered,
        "officer": v.officer,
        "rules_ack": v.rules_ack,
        "privacy_ack": v.privacy_ack,
        "devices_checked": v.devices_checked,
        "usage": {
            "facility": state.facilities[usage.facility_id].code,
            "started_at": iso(usage.started_at),
        }
        if usage
        else None,
        "deposit": {
            "id": deposit.id,
            "slot": deposit.slot,
            "doc_type": deposit.doc_type,
            "doc_masked": deposit.doc_masked,
            "taken_at": iso(deposit.taken_at),
            "returned_at": iso(deposit.returned_at),
            "returned_to": deposit.returned_to,
        }
        if deposit
        else None,
    }


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
