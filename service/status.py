"""The room at a glance: what ``GET /api/v1/status`` and the status board show.

Built from the in-memory state in one pass; personal data is limited to what the
front office needs on screen (names, companies, masked document numbers).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from service.domain import anomalies, queue, standards
from service.domain.lifecycle import HelpState, TicketState, VisitState
from service.domain.model import ArmedIssue
from service.domain.policy import Policy
from service.domain.state import RoomState


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def facilities(state: RoomState, policy: Policy, now: datetime) -> list[dict[str, Any]]:
    out = []
    for fac in sorted(state.facilities.values(), key=lambda f: (f.kind, f.code)):
        visit = state.visits.get(fac.visit_id) if fac.visit_id else None
        usage = state.open_usage(visit.id) if visit else None
        ticket = state.tickets.get(fac.reserved_ticket_id) if fac.reserved_ticket_id else None
        if fac.out_of_service:
            status = "out_of_service"
        elif visit is not None:
            status = "in_use" if usage else "assigned"
        elif ticket is not None:
            status = "reserved"
        elif fac.available_from and fac.available_from > now:
            status = "turnover"
        else:
            status = "free"
        out.append(
            {
                "id": fac.id,
                "code": fac.code,
                "kind": fac.kind,
                "label": fac.label,
                "reader": fac.reader,
                "status": status,
                "visit_id": visit.id if visit else None,
                "name": visit.name if visit else None,
                "company": visit.company if visit else None,
                "since": _iso(
                    usage.started_at if usage else (visit.assigned_at if visit else None)
                ),
                "ticket": ticket.number if ticket else None,
                "available_from": _iso(fac.available_from),
                "service": {
                    "by": fac.service_by,
                    "at": _iso(fac.service_at),
                    "note": fac.service_note,
                }
                if fac.service_at
                else None,
            }
        )
    return out


def queue_view(state: RoomState, policy: Policy) -> dict[str, Any]:
    kinds = []
    for kind in policy.kinds.values():
        waiting = queue.waiting_tickets(state, kind.kind)
        called = [
            t
            for t in state.tickets.values()
            if t.kind == kind.kind and t.state is TicketState.CALLED
        ]
        kinds.append(
            {
                "kind": kind.kind,
                "label": kind.label,
                "waiting": [
                    {
                        "id": t.id,
                        "number": t.number,
                        "priority": t.priority,
                        "priority_reason": t.priority_reason,
                        "issued_at": _iso(t.issued_at),
                        "visit_id": t.visit_id,
                        "name": state.visits[t.visit_id].name,
                    }
                    for t in waiting
                ],
                "called": [
                    {
                        "id": t.id,
                        "number": t.number,
                        "called_at": _iso(t.called_at),
                        "hold_until": _iso(t.hold_until),
                        "facility": state.facilities[t.facility_id].code if t.facility_id else None,
                        "visit_id": t.visit_id,
                    }
                    for t in sorted(called, key=lambda t: t.called_at or t.issued_at)
                ],
            }
        )
    return {"kinds": kinds}


LAST_CALLS = 5


def last_calls(state: RoomState, policy: Policy, today: date) -> list[dict[str, Any]]:
    """Today's last five calls, newest first (also those served or skipped since)."""
    called = [t for t in state.tickets.values() if t.day == today and t.called_at is not None]
    called.sort(key=lambda t: (t.called_at, t.id), reverse=True)
    return [
        {
            "number": t.number,
            "facility": state.facilities[t.facility_id].code if t.facility_id else None,
            "label": policy.kinds[t.kind].label if t.kind in policy.kinds else t.kind,
            "called_at": _iso(t.called_at),
        }
        for t in called[:LAST_CALLS]
    ]


def public_queue(state: RoomState, policy: Policy, today: date) -> dict[str, Any]:
    """For the waiting-area TV: numbers only, no personal data."""
    view = queue_view(state, policy)
    return {
        "calls": last_calls(state, policy, today),
        "kinds": [
            {
                "kind": k["kind"],
                "label": k["label"],
                "waiting": [t["number"] for t in k["waiting"]],
                "called": [
                    {"number": t["number"], "facility": t["facility"], "called_at": t["called_at"]}
                    for t in k["called"]
                ],
            }
            for k in view["kinds"]
        ],
    }


def snapshot(
    state: RoomState, policy: Policy, now: datetime, readers: list[dict[str, Any]]
) -> dict[str, Any]:
    today = policy.day_of(now)
    inside = [v for v in state.visits.values() if v.inside]
    deposits = [d for d in state.deposits.values() if d.returned_at is None]
    help_open = [
        h for h in state.help_requests.values() if h.state in (HelpState.OPEN, HelpState.CLAIMED)
    ]
    breaches = standards.breaches(state, policy, today, now)
    visits_today = [v for v in state.visits.values() if v.day == today]
    return {
        "now": now.isoformat(),
        "day": today.isoformat(),
        "open": policy.is_open(now),
        "occupancy": {"inside": len(inside), "capacity": policy.capacity},
        "inside": [
            {
                "visit_id": v.id,
                "name": v.name,
                "company": v.company,
                "entered_at": _iso(v.entered_at),
                "facility": state.facilities[v.facility_id].code if v.facility_id else None,
            }
            for v in sorted(inside, key=lambda v: v.entered_at or v.registered_at)
        ],
        "facilities": facilities(state, policy, now),
        "queue": queue_view(state, policy),
        "deposits": [
            {
                "id": d.id,
                "visit_id": d.visit_id,
                "slot": d.slot,
                "doc_type": d.doc_type,
                "doc_masked": d.doc_masked,
                "taken_at": _iso(d.taken_at),
                "name": state.visits[d.visit_id].name,
                "visit_closed": state.visits[d.visit_id].state is VisitState.CLOSED,
            }
            for d in sorted(deposits, key=lambda d: d.slot)
        ],
        "help": [
            {
                "id": h.id,
                "state": h.state.value,
                "category": h.category,
                "problem": h.problem,
                "opened_at": _iso(h.opened_at),
                "age_s": int((now - h.opened_at).total_seconds()),
                "claimed_by": h.claimed_by,
                "visit_id": h.visit_id,
                "name": state.visits[h.visit_id].name if h.visit_id in state.visits else None,
                "facility": state.facilities[h.facility_id].code
                if h.facility_id in state.facilities
                else None,
            }
            for h in sorted(help_open, key=lambda h: h.opened_at)
        ],
        "readers": readers,
        "armed": [
            {
                "reader": a.id,
                "visit_id": a.visit_id,
                "at": _iso(a.at),
                "by": a.by,
                "asked": asked_json(state, a),
            }
            for a in sorted(state.armed.values(), key=lambda a: a.id)
        ],
        "amendments_pending": [
            {"id": a.id, "day": a.day.isoformat(), "at": _iso(a.at), "kind": a.kind}
            for a in sorted(state.amendments.values(), key=lambda a: a.id)
            if a.signed_at is None
        ],
        "anomalies": [
            {
                "kind": a.kind,
                "visit_id": a.visit_id,
                "name": a.name,
                "at": _iso(a.at),
                "detail": a.detail,
            }
            for a in anomalies.current(state, policy, now)
        ],
        "breaches": [
            {
                "step": b.step,
                "subject": b.subject,
                "label": b.label,
                "started": _iso(b.started),
                "ended": _iso(b.ended),
                "duration_s": int(b.duration.total_seconds()),
                "standard_s": int(b.standard.total_seconds()),
                "justification": b.justification,
                "ongoing": b.ongoing,
            }
            for b in breaches
        ],
        "counts": {
            "visits_today": len(visits_today),
            "open_visits": sum(
                1 for v in state.visits.values() if v.state is not VisitState.CLOSED
            ),
            "badges_out": sum(1 for b in state.badges.values() if b.state.value == "issued"),
            "badges_available": sum(
                1 for b in state.badges.values() if b.state.value == "available"
            ),
        },
    }


# --- visits ---
def asked_json(state: RoomState, serving: ArmedIssue) -> dict[str, Any] | None:
    """The visit whose badge was tapped at a desk serving another: who, which slot."""
    visit = state.visits.get(serving.asked_visit_id) if serving.asked_visit_id else None
    if visit is None:
        return None
    deposit = state.deposit_of(visit.id)
    badge = state.badges.get(visit.badge_id) if visit.badge_id else None
    served = state.visits.get(serving.visit_id)
    return {
        "visit_id": visit.id,
        "name": visit.name,
        "company": visit.company,
        "slot": deposit.slot if deposit else None,
        "badge": badge.label if badge else None,
        "at": _iso(serving.asked_at),
        "served_name": served.name if served else None,
    }
