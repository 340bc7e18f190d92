"""Access decisions: one rule set for every tap, whatever reader read the card.

The reader's *role* decides what a tap means:

- ``door_in``: entry, only for a badge bound to an admitted visit (or one whose
  queue number was called), with anti-passback, room capacity and opening hours;
- ``door_out``: exit (always let out a badge of ours; an exit with no entry is
  granted and recorded as an anomaly);
- ``desk``: first tap starts the usage session at that facility, the next ends it;
- ``front_desk``: in enrol mode an unknown badge joins the pool (:mod:`enrolment`);
  otherwise binds a free badge to the visit being served; a tap of an issued
  badge is its return, except while the desk serves another visitor: then the
  return waits for the clerk, who returns that visit or ignores the tap
  (:mod:`service.domain.desk`).

Every tap, granted or not, becomes an access event with a readable reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain import desk, enrolment, queue, visits
from service.domain import facts as f
from service.domain.desk import DeskTap
from service.domain.lifecycle import BadgeState, VisitState
from service.domain.model import AccessEvent, Badge, Visit
from service.domain.policy import Policy, ReaderPolicy
from service.domain.state import RoomState
from service.domain.taps import DENY, GRANT, Decision, Feedback, Led, ReaderRole, Reason, Tap
from service.domain.tx import Tx

TAILGATING = "tailgating"
# A reader's own time is kept beside the daemon's when they differ by more than this.
REPORTED_SKEW_S = 5.0
EXIT_WITHOUT_ENTRY = "exit_without_entry"


@dataclass(frozen=True, slots=True)
class _Verdict:
    granted: bool
    reason: Reason
    visit: Visit | None = None
    slot: str | None = None
    anomaly: str | None = None


def _deny(reason: Reason, visit: Visit | None = None) -> _Verdict:
    return _Verdict(False, reason, visit)


def feedback_for(role: ReaderRole, granted: bool, policy: Policy) -> Feedback:
    if not granted:
        return DENY
    if role in (ReaderRole.DOOR_IN, ReaderRole.DOOR_OUT):
        return Feedback(Led.GREEN, beeps=1, open_door_s=policy.door_open_s)
    return GRANT


def decide_tap(tx: Tx, policy: Policy, tap: Tap, at: datetime | None = None) -> Decision:
    """Decide one tap at ``at`` (the daemon's clock; the tap's own time when not given).

    The consequences are applied to ``tx``, and the tap itself is recorded as one
    :class:`~service.domain.facts.TapDecided` fact, granted or not.
    """
    now = tap.at if at is None else at
    reader = policy.readers.get(tap.reader)
    badge = tx.state.badge_by(tap.uid)
    actor = f"reader:{tap.reader}"
    if reader is None:
        verdict = _deny(Reason.UNKNOWN_READER)
    else:
        verdict = _verdict(tx, policy, reader, badge, tap, now)
        badge = badge or tx.state.badge_by(tap.uid)  # enrolled by this very tap
    visit = verdict.visit
    event = AccessEvent(
        id=tx.next_id("access_event"),
        at=now,
        reader=tap.reader,
        role=reader.role.value if reader else "unknown",
        uid=tap.uid,
        badge_id=badge.id if badge else None,
        visit_id=visit.id if visit else None,
        granted=verdict.granted,
        reason=verdict.reason.value,
        event_id=tap.event_id,
        anomaly=verdict.anomaly,
        reported_at=tap.at if abs((tap.at - now).total_seconds()) > REPORTED_SKEW_S else None,
    )
    tx.emit(f.TapDecided(at=now, actor=actor, event=event))
    return Decision(
        granted=verdict.granted,
        reason=verdict.reason,
        feedback=feedback_for(reader.role if reader else ReaderRole.DESK, verdict.granted, policy),
        visit_id=visit.id if visit else None,
        badge_label=badge.label if badge else None,
        slot=verdict.slot,
        anomalies=(verdict.anomaly,) if verdict.anomaly else (),
    )


def _verdict(
    tx: Tx, policy: Policy, reader: ReaderPolicy, badge: Badge | None, tap: Tap, at: datetime
) -> _Verdict:
    if badge is None:
        if reader.role is ReaderRole.FRONT_DESK and reader.name in tx.state.enrolling:
            return _enrol(tx, reader, tap.uid, at)
        return _deny(Reason.UNKNOWN_BADGE)
    if badge.state is BadgeState.LOST:
        return _deny(Reason.LOST_BADGE)
    if badge.state is BadgeState.RETIRED:
        return _deny(Reason.RETIRED_BADGE)
    if (reader.verify_token or policy.require_token) and not policy.token_check(
        badge.label, badge.uid, tap.token
    ):
        return _deny(Reason.TOKEN_INVALID)
    if reader.role is ReaderRole.FRONT_DESK:
        return _front_desk(tx, policy, reader, badge, at)
    if badge.state is not BadgeState.ISSUED or badge.visit_id is None:
        return _deny(Reason.BADGE_NOT_ISSUED)
    visit = tx.state.visits[badge.visit_id]
    actor = f"reader:{reader.name}"
    if reader.role is ReaderRole.DOOR_IN:
        return _door_in(tx, policy, visit, at, actor)
    if reader.role is ReaderRole.DOOR_OUT:
        return _door_out(tx, visit, at, actor)
    return _desk(tx, policy, reader, visit, at, actor)


def _door_in(tx: Tx, policy: Policy, visit: Visit, at: datetime, actor: str) -> _Verdict:
    called = queue.called_ticket_of(tx.state, visit)
    if visit.state is not VisitState.ADMITTED and called is None:
        return _deny(Reason.NOT_ADMITTED, visit)
    if visit.inside:
        return _deny(Reason.ALREADY_INSIDE, visit)
    if not policy.is_open(at):
        return _deny(Reason.OUTSIDE_HOURS, visit)
    if tx.state.occupancy() >= policy.capacity:
        return _deny(Reason.ROOM_FULL, visit)
    if called is not None:
        queue.serve(tx, called.id, at, actor)
    tx.emit(f.VisitEntered(at=at, actor=actor, visit_id=visit.id))
    return _Verdict(True, Reason.ENTRY, tx.state.visits[visit.id])


def _door_out(tx: Tx, visit: Visit, at: datetime, actor: str) -> _Verdict:
    was_inside = visit.inside
    tx.emit(f.VisitExited(at=at, actor=actor, visit_id=visit.id))
    if not was_inside:
        return _Verdict(True, Reason.EXIT_WITHOUT_ENTRY, visit, anomaly=EXIT_WITHOUT_ENTRY)
    return _Verdict(True, Reason.EXIT, visit)


def _desk(
    tx: Tx, policy: Policy, reader: ReaderPolicy, visit: Visit, at: datetime, actor: str
) -> _Verdict:
    facility_id = tx.state.facility_by_reader.get(reader.name)
    if facility_id is None:
        return _deny(Reason.NO_FACILITY, visit)
    facility = tx.state.facilities[facility_id]
    called = queue.called_ticket_of(tx.state, visit)
    if called is not None and called.facility_id == facility.id:
        queue.serve(tx, called.id, at, actor)
        visit = tx.state.visits[visit.id]
    if visit.state is not VisitState.ADMITTED:
        return _deny(Reason.NOT_ADMITTED, visit)
    anomaly = None if visit.inside else TAILGATING
    usage = tx.state.open_usage(visit.id)
    if usage is not None:
        if usage.facility_id != facility.id:
            return _deny(Reason.WRONG_DESK, visit)
        queue.end_usage(tx, policy, visit.id, usage, at, "tap", actor)
        return _Verdict(True, Reason.USAGE_ENDED, visit)
    if visit.facility_id is None:
        if not (
            policy.desk_assigns_free
            and queue.is_free(facility, at)
            and not queue.waiting_tickets(tx.state, facility.kind)
        ):
            return _deny(Reason.WRONG_DESK, visit)
        queue.assign(tx, visit.id, facility, at, actor)
    elif visit.facility_id != facility.id:
        return _deny(Reason.WRONG_DESK, visit)
    queue.start_usage(tx, visit, tx.state.facilities[facility.id], at, "tap", actor)
    return _Verdict(True, Reason.USAGE_STARTED, visit, anomaly=anomaly)


def _front_desk(
    tx: Tx, policy: Policy, reader: ReaderPolicy, badge: Badge, at: datetime
) -> _Verdict:
    actor = f"reader:{reader.name}"
    serving = tx.state.armed.get(reader.name)
    meaning = desk.desk_tap(serving, badge)
    if meaning is DeskTap.RETURN or meaning is DeskTap.CONFIRM_RETURN:
        assert badge.visit_id is not None
        visit = tx.state.visits[badge.visit_id]
        if meaning is DeskTap.CONFIRM_RETURN:
            # The desk serves someone else: never check this badge's visit out silently;
            # the clerk's page asks to return it or to ignore the tap.
            desk.ask(tx, reader.name, visit, at, actor)
            return _deny(Reason.CONFIRM_RETURN, visit)
        deposit = visits.return_badge(tx, policy, visit, at, actor)
        return _Verdict(True, Reason.BADGE_RETURNED, visit, slot=deposit.slot if deposit else None)
    if serving is None or serving.visit_id not in tx.state.visits:
        return _deny(Reason.NO_VISIT_SERVED)
    visit = tx.state.visits[serving.visit_id]
    if visit.badge_id is not None:
        return _deny(Reason.VISIT_HAS_BADGE, visit)
    if visits.issue_problem(tx.state, policy, visit, badge) is not None:
        return _deny(Reason.VISIT_NOT_READY, visit)  # the refusal is the only record
    visits.issue_badge(tx, policy, visit, badge, at, actor)
    return _Verdict(True, Reason.BADGE_ISSUED, visit)


def _enrol(tx: Tx, reader: ReaderPolicy, uid: str, at: datetime) -> _Verdict:
    label = enrolment.label_for(tx, reader.name)
    if label is None:
        return _deny(Reason.ENROL_LABEL_TAKEN)
    enrolment.enrol_tapped(tx, reader.name, uid, label, at)
    return _Verdict(True, Reason.BADGE_ENROLLED)


def inside_now(state: RoomState) -> list[Visit]:
    """The evacuation roll call: who the door readers say is inside."""
    return sorted(
        (v for v in state.visits.values() if v.inside),
        key=lambda v: v.entered_at or v.registered_at,
    )
