"""The front desk's reader and the visit the clerk serves there.

A front-desk reader serves at most one visit at a time (one :class:`ArmedIssue` per
reader): the arrival page arms it for the visit whose badge is to be issued, the
return page and the visit's page serve the visit the clerk opened. What a tap of a
badge on that reader means follows from it (:func:`desk_tap`):

- a free badge goes to the served visit, if that visit waits for one;
- the served visit's own badge (or any issued badge while nobody is served) is that
  visit's return;
- the badge of *another* visit while one is served is never returned behind the
  clerk's back: the question waits on the reader's record
  (:class:`~service.domain.facts.DeskReturnAsked`) until the clerk returns that
  visit or ignores the tap (:func:`answer`). Ending the other visit in any way
  answers it too.
"""

from __future__ import annotations

import enum
from datetime import datetime

from service.domain import facts as f
from service.domain import visits
from service.domain.lifecycle import BadgeState, VisitState
from service.domain.model import ArmedIssue, Badge, Deposit, Visit
from service.domain.policy import Policy
from service.domain.tx import Tx
from service.errors import Conflict
from service.i18n import _


class DeskTap(enum.Enum):
    """What a badge tapped on a front-desk reader means, before any other check."""

    ISSUE = "issue"  # a free badge: issued to the served visit (if it waits for one)
    RETURN = "return"  # the served visit's own badge, or an issued badge with nobody served
    CONFIRM_RETURN = "confirm_return"  # another visit's badge while one is served: ask
    NOBODY_SERVED = "nobody_served"  # a free badge and no visit served


def desk_tap(serving: ArmedIssue | None, badge: Badge) -> DeskTap:
    """The meaning of ``badge`` tapped on a front-desk reader serving ``serving``."""
    if badge.state is BadgeState.ISSUED and badge.visit_id is not None:
        if serving is not None and serving.visit_id != badge.visit_id:
            return DeskTap.CONFIRM_RETURN
        return DeskTap.RETURN
    return DeskTap.NOBODY_SERVED if serving is None else DeskTap.ISSUE


def serve(tx: Tx, reader: str, visit: Visit, at: datetime, actor: str) -> None:
    """The clerk serves ``visit`` at ``reader`` (it replaces whatever the desk served)."""
    if visit.state is VisitState.CLOSED:
        raise Conflict(_("Kunjungan sudah ditutup."))
    current = tx.state.armed.get(reader)
    if current is not None and current.visit_id == visit.id:
        return  # already served here (a reload of the page): nothing to record
    tx.emit(f.DeskServing(at=at, actor=actor, reader=reader, visit_id=visit.id))


def release(tx: Tx, reader: str, visit_id: int, at: datetime, actor: str) -> None:
    """The clerk is done with ``visit_id`` at ``reader``; a desk serving another stays."""
    current = tx.state.armed.get(reader)
    if current is not None and current.visit_id == visit_id:
        tx.emit(f.BadgeIssueDisarmed(at=at, actor=actor, reader=reader))


def ask(tx: Tx, reader: str, visit: Visit, at: datetime, actor: str) -> None:
    """Keep the question "return this visit or ignore the tap" on the reader's record."""
    tx.emit(f.DeskReturnAsked(at=at, actor=actor, reader=reader, visit_id=visit.id))


def answer(
    tx: Tx,
    policy: Policy,
    reader: str,
    visit_id: int,
    returned: bool,
    at: datetime,
    actor: str,
    devices_checked: bool | None = None,
) -> Deposit | None:
    """The clerk's answer: return the asked visit (its slot comes back) or ignore the tap."""
    current = tx.state.armed.get(reader)
    if current is None or current.asked_visit_id != visit_id:
        raise Conflict(
            _("Pertanyaan ini sudah dijawab atau tidak berlaku lagi."),
        )
    if not returned:
        tx.emit(
            f.DeskReturnAnswered(
                at=at, actor=actor, reader=reader, visit_id=visit_id, returned=False
            )
        )
        return None
    # Ending the visit answers every question about it (see visits._wind_up).
    return visits.return_badge(
        tx, policy, visits.get_visit(tx, visit_id), at, actor, devices_checked
    )
