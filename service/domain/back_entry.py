"""Back-entry: an access form filled on paper (the system was down) typed in later.

Its arrival time is the paper's, so it may lie in the past but never after the
daemon's clock; and a document that still has an open visit is usually a form typed
twice, so the clerk is asked to confirm (``confirm_open_visit``) before it is kept.
"""

from __future__ import annotations

from datetime import datetime

from service.domain.lifecycle import VisitState
from service.domain.model import Visit, Visitor
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.errors import Conflict, ValidationError
from service.i18n import _


class OpenVisit(Conflict):
    """A back-entered form for a document whose visit is still open: confirm to go on."""

    code = "open_visit"


def open_visits_of(state: RoomState, visitor: Visitor | None) -> list[Visit]:
    """The visits of ``visitor`` (the same document) that are not closed, oldest first."""
    if visitor is None:
        return []
    found = [
        v
        for v in state.visits.values()
        if v.visitor_id == visitor.id and v.state is not VisitState.CLOSED
    ]
    return sorted(found, key=lambda v: v.id)


def check(
    state: RoomState,
    policy: Policy,
    visitor: Visitor | None,
    confirmed: bool,
    at: datetime,
    now: datetime,
) -> None:
    """A paper form typed in later, dated ``at``: never after ``now`` (the daemon's
    clock), and for a ``visitor`` (the same document) whose visit is still open only
    when the clerk ``confirmed`` it."""
    if at > now:
        shown = now.astimezone(policy.tz).strftime("%d-%m-%Y %H.%M")
        raise ValidationError(
            _(
                "Waktu kedatangan data susulan tidak boleh setelah sekarang ({shown} WIB).",
                shown=shown,
            ),
            field="arrived_at",
        )
    still_open = open_visits_of(state, visitor)
    if still_open and not confirmed:
        visit = still_open[0]
        since = visit.registered_at.astimezone(policy.tz).strftime("%d-%m-%Y %H.%M")
        deposit = state.deposit_of(visit.id)
        slot = (
            f", slot {deposit.slot}" if deposit is not None and deposit.returned_at is None else ""
        )
        raise OpenVisit(
            _(
                "Dokumen ini masih tercatat pada kunjungan yang belum ditutup (kunjungan {id}, {name}, sejak {since} WIB{slot}). Pastikan lalu konfirmasi untuk tetap mencatat data susulan.",
                id=visit.id,
                name=visit.name,
                since=since,
                slot=slot,
            ),
            field="confirm_open_visit",
        )
