"""Anomalies the front office must look at: from taps and from the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.domain.lifecycle import VisitState
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.i18n import Text, _, _p

NEAR_CLOSING = timedelta(minutes=30)

ANOMALY_TEXT: dict[str, Text] = {
    "tailgating": _("Memakai fasilitas tanpa tercatat masuk pintu"),
    "exit_without_entry": _("Keluar tanpa catatan masuk"),
    "badge_not_returned": _("Kartu belum dikembalikan"),
    "document_held": _p("domain.anomalies:document_held", "Kartu identitas masih dititipkan"),
    "overdue_visit": _("Kunjungan melewati jam layanan"),
}


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str
    visit_id: int | None
    name: str
    at: datetime
    detail: str = ""


def _name(state: RoomState, visit_id: int) -> str:
    visit = state.visits.get(visit_id)
    return visit.name if visit is not None else "?"


def current(state: RoomState, policy: Policy, now: datetime) -> list[Anomaly]:
    """Tap anomalies of today plus what the clock says near and after closing."""
    today = policy.day_of(now)
    found = [
        Anomaly(a.kind, a.visit_id, _name(state, a.visit_id), a.at, a.reader)
        for a in sorted(state.anomalies.values(), key=lambda a: a.id)
        if policy.day_of(a.at) == today
    ]
    closing = policy.closing_at(today)
    near = now >= closing - NEAR_CLOSING
    for visit in state.visits.values():
        open_visit = visit.state is not VisitState.CLOSED
        stale = visit.day < today
        if open_visit and (now >= closing or stale):
            found.append(Anomaly("overdue_visit", visit.id, visit.name, visit.registered_at))
        if open_visit and visit.badge_id is not None and (near or stale):
            found.append(Anomaly("badge_not_returned", visit.id, visit.name, visit.registered_at))
        deposit = state.deposit_of(visit.id)
        if deposit is not None and deposit.returned_at is None and (near or stale):
            found.append(
                Anomaly("document_held", visit.id, visit.name, deposit.taken_at, deposit.slot)
            )
    return found
