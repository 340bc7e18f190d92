"""A visit's whole history, in the order it happened (the visit's page).

Pure: built from the visit's stored records (:mod:`service.store.visit_records`),
no I/O. Each entry is a kind (the page words it in the clerk's language), the time
(UTC; the page shows it in WIB) and the details the clerk needs: which reader,
which facility, which slot, who. Never the badge UID or a full document number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.domain.model import Visit
from service.store.visit_records import VisitRecords


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _entry(kind: str, at: datetime, **details: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "at": at.isoformat(),
        **{k: v for k, v in details.items() if v is not None},
    }


def history(records: VisitRecords) -> list[dict[str, Any]]:
    """Every step of the visit, oldest first (ties keep the order the steps happen in)."""
    visit, deposit = records.visit, records.deposit
    code = {fid: fac.code for fid, fac in records.facilities.items()}
    out = [
        _entry(
            "registered",
            visit.registered_at,
            by=visit.officer,
            slot=deposit.slot if deposit else None,
            doc_type=deposit.doc_type if deposit else None,
            doc_masked=deposit.doc_masked if deposit else None,
            back_entered=visit.back_entered,
        )
    ]
    if visit.badge_issued_at is not None:
        out.append(
            _entry(
                "badge_issued",
                visit.badge_issued_at,
                badge=records.badge.label if records.badge else None,
            )
        )
    if visit.assigned_at is not None:
        # A closed visit no longer holds its facility; its sessions were all at it.
        held = visit.facility_id or next((u.facility_id for u in records.usages), None)
        out.append(
            _entry(
                "facility_assigned", visit.assigned_at, facility=code.get(held) if held else None
            )
        )
    for ticket in records.tickets:
        out.append(_entry("ticket_issued", ticket.issued_at, number=ticket.number))
        if ticket.called_at is not None:
            out.append(
                _entry(
                    "ticket_called",
                    ticket.called_at,
                    number=ticket.number,
                    facility=code.get(ticket.facility_id) if ticket.facility_id else None,
                )
            )
    for usage in records.usages:
        facility = code.get(usage.facility_id)
        out.append(
            _entry("usage_started", usage.started_at, facility=facility, by=usage.started_by)
        )
        if usage.ended_at is not None:
            out.append(_entry("usage_ended", usage.ended_at, facility=facility, by=usage.ended_by))
    for tap in records.taps:
        out.append(
            _entry(
                "tap",
                tap.at,
                reader=tap.reader,
                role=tap.role,
                granted=tap.granted,
                reason=tap.reason,
                anomaly=tap.anomaly,
                reported_at=_iso(tap.reported_at),
            )
        )
    for help_request in records.helps:
        out.append(
            _entry(
                "help_opened",
                help_request.opened_at,
                category=help_request.category,
                problem=help_request.problem,
                by=help_request.opened_by,
            )
        )
        if help_request.resolved_at is not None:
            out.append(
                _entry(
                    "help_resolved",
                    help_request.resolved_at,
                    resolution=help_request.resolution,
                    by=help_request.resolved_by,
                )
            )
    out.extend(_ending(visit, records))
    for amendment in records.amendments:
        out.append(
            _entry(
                "amended",
                amendment.at,
                what=amendment.kind,
                by=amendment.actor,
                signed_at=_iso(amendment.signed_at),
            )
        )
    order = {id(entry): n for n, entry in enumerate(out)}
    return sorted(out, key=lambda e: (e["at"], order[id(e)]))


def _ending(visit: Visit, records: VisitRecords) -> list[dict[str, Any]]:
    out = []
    if visit.returned_at is not None:
        out.append(
            _entry(
                "badge_returned",
                visit.returned_at,
                badge=records.badge.label if records.badge else None,
                devices_checked=visit.devices_checked,
            )
        )
    if visit.closed_at is not None:
        out.append(
            _entry("closed", visit.closed_at, forced=visit.forced, reason=visit.close_reason)
        )
    deposit = records.deposit
    if deposit is not None and deposit.returned_at is not None:
        out.append(
            _entry(
                "document_returned",
                deposit.returned_at,
                slot=deposit.slot,
                to=deposit.returned_to,
                by=deposit.returned_by,
            )
        )
    return out


def summary(records: VisitRecords) -> dict[str, Any]:
    """The visit's heading: who, for what, where the document waits, its state."""
    visit, deposit = records.visit, records.deposit
    return {
        "id": visit.id,
        "day": visit.day.isoformat(),
        "state": visit.state.value,
        "name": visit.name,
        "company": visit.company,
        "purpose": visit.purpose,
        "tender_code": visit.tender_code,
        "devices": [{"kind": d.kind, "serial": d.serial} for d in visit.devices],
        "officer": visit.officer,
        "badge": records.badge.label if records.badge else None,
        "facility": records.facilities[visit.facility_id].code
        if visit.facility_id in records.facilities
        else None,
        "slot": deposit.slot if deposit else None,
        "doc_type": deposit.doc_type if deposit else None,
        "doc_masked": deposit.doc_masked if deposit else None,
        "document_returned_at": _iso(deposit.returned_at) if deposit else None,
        "registered_at": _iso(visit.registered_at),
        "closed_at": _iso(visit.closed_at),
    }
