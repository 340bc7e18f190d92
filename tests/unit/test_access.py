"""Access decisions: every reason reachable, with the whole relevant state after the tap.

Every tap, granted or not, must leave exactly one access event and one ``tap.*``
fact; :func:`one_tap` checks that for each case.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from service.domain import badge_token, queue, visits
from service.domain.access import EXIT_WITHOUT_ENTRY, TAILGATING, inside_now
from service.domain.facts import TapDecided
from service.domain.lifecycle import BadgeEvent, BadgeState, TicketState, VisitState
from service.domain.model import Visit
from service.domain.policy import Policy, ReaderPolicy
from service.domain.state import RoomState
from service.domain.taps import (
    DENY,
    GRANT,
    REASON_TEXT,
    Decision,
    Feedback,
    InvalidTap,
    Led,
    ReaderRole,
    Reason,
    Tap,
    normalise_uid,
    reason_text,
)
from service.domain.tx import Tx
from service.i18n import both
from tests.unit.domain_builders import (
    DESK_LOOSE,
    DESK_PC1,
    DESK_PC2,
    DOOR_IN,
    DOOR_OUT,
    FRONT,
    STAFF,
    T0,
    access_events,
    anomalies,
    arm,
    armed,
    decide,
    make_policy,
    make_room,
    minutes,
    register,
    snapshot,
    tap_facts,
    uid,
    visit_with_badge,
)

IN = T0 + minutes(5)
DOOR_GRANT = Feedback(Led.GREEN, beeps=1, open_door_s=4.0)


def one_tap(tx: Tx, decision: Decision, reason: Reason, granted: bool) -> dict[str, object]:
    assert decision.reason is reason
    assert decision.granted is granted
    events = access_events(tx)
    assert len(events) == 1
    assert tap_facts(tx) == [f"tap.{reason.value}"]
    assert isinstance(tx.facts[-1], TapDecided) and tx.facts[-1].event.reason == reason.value
    assert events[0]["reason"] == reason.value
    assert events[0]["granted"] is granted
    return events[0]


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def state() -> RoomState:
    return make_room()


@pytest.fixture
def visit(state: RoomState, policy: Policy) -> Visit:
    """Budi: badge K-001 issued, PC1 assigned, not yet inside."""
    v = visit_with_badge(state, policy, 1)
    assert v.state is VisitState.ADMITTED and v.facility_id == 1
    return v


# --- Refusals before the role matters -------------------------------------------


def test_unknown_reader_is_refused_and_changes_nothing(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1)
    before = snapshot(state)
    decision, tx = decide(state, policy, "door-nowhere", uid(1), IN)
    event = one_tap(tx, decision, Reason.UNKNOWN_READER, granted=False)
    assert event["role"] == "unknown"
    assert event["badge_id"] == 1
    assert decision.feedback == DENY
    assert snapshot(state) == before
    assert not visit.inside


def test_unknown_badge_is_refused(state: RoomState, policy: Policy) -> None:
    before = snapshot(state)
    decision, tx = decide(state, policy, DOOR_IN, "DEADBEEF", IN)
    event = one_tap(tx, decision, Reason.UNKNOWN_BADGE, granted=False)
    assert event["badge_id"] is None and event["visit_id"] is None
    assert event["role"] == "door_in" and event["uid"] == "DEADBEEF"
    assert decision.badge_label is None
    assert snapshot(state) == before


def test_lost_badge_is_refused_and_its_visit_loses_it(
    state: RoomState, policy: Policy, visit: Visit
) -> None:
    visits.badge_event(Tx(state), policy, state.badges[1], BadgeEvent.REPORT_LOST, T0, STAFF)
    assert visit.badge_id is None
    assert state.badges[1].visit_id is None
    decision, tx = decide(state, policy, DOOR_IN, uid(1), IN)
    one_tap(tx, decision, Reason.LOST_BADGE, granted=False)
    assert decision.badge_label == "K-001"
    assert not visit.inside
    assert state.badges[1].state is BadgeState.LOST


def test_retired_badge_is_refused(state: RoomState, policy: Policy) -> None:
    visits.badge_event(Tx(state), policy, state.badges[2], BadgeEvent.RETIRE, T0, STAFF)
    before = snapshot(state)
    decision, tx = decide(state, policy, FRONT, uid(2), IN)
    one_tap(tx, decision, Reason.RETIRED_BADGE, granted=False)
    assert snapshot(state) == before


KEY = bytes(range(32))


def _token_check(label: str, badge_uid: str, token: str | None) -> bool:
    return token is not None and badge_token.verify(KEY, label, badge_uid, token)


@pytest.mark.parametrize("where", ["policy", "reader"])
def test_token_is_checked_when_required(state: RoomState, where: str) -> None:
    base = make_policy()
    if where == "policy":
        policy = replace(base, require_token=True, token_check=_token_check)
    else:
        readers = dict(base.readers)
        readers[DOOR_IN] = ReaderPolicy(DOOR_IN, ReaderRole.DOOR_IN, verify_token=True)
        policy = replace(base, readers=readers, token_check=_token_check)
    visit = visit_with_badge(state, policy, 1)
    # A clone: the right UID with another badge's token, then with none.
    for token in (badge_token.sign(KEY, "K-002", uid(2)), None):
        decision, tx = decide(state, policy, DOOR_IN, uid(1), IN, token=token)
        one_tap(tx, decision, Reason.TOKEN_INVALID, granted=False)
        assert not visit.inside
    decision, tx = decide(
        state, policy, DOOR_IN, uid(1), IN, token=badge_token.sign(KEY, "K-001", uid(1))
    )
    one_tap(tx, decision, Reason.ENTRY, granted=True)
    assert visit.inside


def test_token_not_checked_on_other_readers(state: RoomState) -> None:
    base = make_policy()
    readers = dict(base.readers)
    readers[DOOR_IN] = ReaderPolicy(DOOR_IN, ReaderRole.DOOR_IN, verify_token=True)
    policy = replace(base, readers=readers, token_check=_token_check)
    visit_with_badge(state, policy, 1)
    decision, _tx = decide(state, policy, DOOR_OUT, uid(1), IN)
    assert decision.granted and decision.reason is Reason.EXIT_WITHOUT_ENTRY


@pytest.mark.parametrize("reader", [DOOR_IN, DOOR_OUT, DESK_PC1])
def test_badge_not_issued_is_refused_at_door_and_desk(
    state: RoomState, policy: Policy, reader: str
) -> None:
    before = snapshot(state)
    decision, tx = decide(state, policy, reader, uid(3), IN)
    event = one_tap(tx, decision, Reason.BADGE_NOT_ISSUED, granted=False)
    assert event["badge_id"] == 3 and event["visit_id"] is None
    assert snapshot(state) == before


# --- Door in ---------------------------------------------------------------------


def test_entry_granted_opens_the_door(state: RoomState, policy: Policy, visit: Visit) -> None:
    decision, tx = decide(state, policy, DOOR_IN, uid(1), IN)
    event = one_tap(tx, decision, Reason.ENTRY, granted=True)
    assert decision.feedback == DOOR_GRANT
    assert decision.visit_id == visit.id and decision.badge_label == "K-001"
    assert event["visit_id"] == visit.id and event["role"] == "door_in"
    assert visit.inside and visit.entered_at == IN
    assert state.occupancy() == 1
    assert inside_now(state) == [visit]


def _queued(state: RoomState, policy: Policy) -> tuple[Visit, Visit]:
    """One PC: Holder has PC1, Budi waits with ticket PC-001."""
    holder = visit_with_badge(state, policy, 6, name="Holder")
    waiting = visit_with_badge(state, policy, 1)
    assert waiting.state is VisitState.QUEUED
    return holder, waiting


def test_queued_visitor_not_admitted(policy: Policy) -> None:
    state = make_room(pcs=1)
    _holder, waiting = _queued(state, policy)
    before = snapshot(state)
    decision, tx = decide(state, policy, DOOR_IN, uid(1), IN)
    event = one_tap(tx, decision, Reason.NOT_ADMITTED, granted=False)
    assert event["visit_id"] == waiting.id
    assert snapshot(state) == before
    assert not waiting.inside


def test_called_ticket_may_enter_and_is_served(policy: Policy) -> None:
    state = make_room(pcs=1)
    holder, waiting = _queued(state, policy)
    visits.return_badge(Tx(state), policy, holder, IN, STAFF)
    calls = queue.run_due(Tx(state), policy, IN + policy.turnover_gap)
    ticket = state.tickets[waiting.ticket_id or 0]
    assert [(a.action, a.ticket_id) for a in calls] == [("call", ticket.id)]
    assert ticket.state is TicketState.CALLED
    at = IN + minutes(2)
    decision, tx = decide(state, policy, DOOR_IN, uid(1), at)
    one_tap(tx, decision, Reason.ENTRY, granted=True)
    served = state.tickets[ticket.id]
    assert served.state is TicketState.SERVED and served.served_at == at
    assert waiting.state is VisitState.ADMITTED and waiting.facility_id == 1
    assert waiting.inside
    pc1 = state.facilities[1]
    assert pc1.visit_id == waiting.id and pc1.reserved_ticket_id is None


def test_anti_passback(state: RoomState, policy: Policy, visit: Visit) -> None:
    decide(state, policy, DOOR_IN, uid(1), IN)
    before = snapshot(state)
    decision, tx = decide(state, policy, DOOR_IN, uid(1), IN + minutes(1))
    one_tap(tx, decision, Reason.ALREADY_INSIDE, granted=False)
    assert visit.entered_at == IN
    assert state.occupancy() == 1
    assert snapshot(state) == before


def test_room_full(state: RoomState) -> None:
    policy = make_policy(capacity=1)
    first = visit_with_badge(state, policy, 1)
    second = visit_with_badge(state, policy, 2, name="Citra")
    decide(state, policy, DOOR_IN, uid(1), IN)
    decision, tx = decide(state, policy, DOOR_IN, uid(2), IN)
    one_tap(tx, decision, Reason.ROOM_FULL, granted=False)
    assert first.inside and not second.inside
    assert state.occupancy() == 1
    decide(state, policy, DOOR_OUT, uid(1), IN + minutes(1))
    decision, _tx = decide(state, policy, DOOR_IN, uid(2), IN + minutes(2))
    assert decision.reason is Reason.ENTRY
    assert state.occupancy() == 1


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (datetime(2026, 11, 25, 0, 59, 59, tzinfo=UTC), False),  # Wed 07:59:59 WIB
        (datetime(2026, 11, 25, 1, 0, tzinfo=UTC), True),  # Wed 08:00 WIB
        (datetime(2026, 11, 25, 8, 59, 59, tzinfo=UTC), True),  # Wed 15:59:59 WIB
        (datetime(2026, 11, 25, 9, 0, tzinfo=UTC), False),  # Wed 16:00 WIB
        (datetime(2026, 11, 25, 12, 0, tzinfo=UTC), False),  # Wed 19:00 WIB, noon UTC
        (datetime(2026, 11, 28, 3, 0, tzinfo=UTC), False),  # Sat 10:00 WIB
        (datetime(2026, 11, 27, 3, 0, tzinfo=UTC), True),  # Fri 10:00 WIB
        (datetime(2026, 11, 29, 18, 0, tzinfo=UTC), False),  # Sun UTC, Mon 01:00 WIB
        (datetime(2026, 11, 30, 1, 30, tzinfo=UTC), True),  # Mon 08:30 WIB, Mon UTC
        (datetime(2026, 11, 28, 0, 30, tzinfo=UTC), False),  # Sat 07:30 WIB
    ],
)
def test_opening_hours_are_local_weekdays(
    state: RoomState, policy: Policy, at: datetime, open_: bool
) -> None:
    visit = visit_with_badge(state, policy, 1)
    decision, tx = decide(state, policy, DOOR_IN, uid(1), at)
    if open_:
        one_tap(tx, decision, Reason.ENTRY, granted=True)
    else:
        one_tap(tx, decision, Reason.OUTSIDE_HOURS, granted=False)
    assert visit.inside is open_


# --- Door out --------------------------------------------------------------------


def test_exit_after_entry(state: RoomState, policy: Policy, visit: Visit) -> None:
    decide(state, policy, DOOR_IN, uid(1), IN)
    at = IN + minutes(30)
    decision, tx = decide(state, policy, DOOR_OUT, uid(1), at)
    event = one_tap(tx, decision, Reason.EXIT, granted=True)
    assert event["anomaly"] is None and decision.anomalies == ()
    assert decision.feedback == DOOR_GRANT
    assert not visit.inside and visit.exited_at == at
    assert state.occupancy() == 0
    assert anomalies(state) == []


def test_exit_without_entry_is_let_out_and_flagged(
    state: RoomState, policy: Policy, visit: Visit
) -> None:
    decision, tx = decide(state, policy, DOOR_OUT, uid(1), IN)
    event = one_tap(tx, decision, Reason.EXIT_WITHOUT_ENTRY, granted=True)
    assert decision.feedback == DOOR_GRANT
    assert decision.anomalies == (EXIT_WITHOUT_ENTRY,)
    assert event["anomaly"] == EXIT_WITHOUT_ENTRY
    assert anomalies(state) == [(EXIT_WITHOUT_ENTRY, visit.id, DOOR_OUT, IN)]
    assert not visit.inside and visit.exited_at == IN
    assert state.occupancy() == 0


# --- Desk ------------------------------------------------------------------------


def test_desk_start_then_end(state: RoomState, policy: Policy, visit: Visit) -> None:
    decide(state, policy, DOOR_IN, uid(1), IN)
    start = IN + minutes(1)
    decision, tx = decide(state, policy, DESK_PC1, uid(1), start)
    one_tap(tx, decision, Reason.USAGE_STARTED, granted=True)
    assert decision.feedback == GRANT and decision.anomalies == ()
    usage = state.open_usage(visit.id)
    assert usage is not None
    assert (usage.facility_id, usage.started_at, usage.ended_at) == (1, start, None)
    end = start + minutes(40)
    decision, tx = decide(state, policy, DESK_PC1, uid(1), end)
    one_tap(tx, decision, Reason.USAGE_ENDED, granted=True)
    assert state.open_usage(visit.id) is None
    usage = state.usages[usage.id]
    assert (usage.ended_at, usage.ended_by) == (end, "tap")
    pc1 = state.facilities[1]
    assert pc1.visit_id is None and pc1.available_from == end + policy.turnover_gap
    assert visit.facility_id is None
    assert visit.inside and visit.state is VisitState.ADMITTED


def test_wrong_desk(state: RoomState, policy: Policy, visit: Visit) -> None:
    decide(state, policy, DOOR_IN, uid(1), IN)
    other = visit_with_badge(state, policy, 2, name="Citra")
    assert other.facility_id == 2
    before = snapshot(state)
    decision, tx = decide(state, policy, DESK_PC2, uid(1), IN + minutes(1))
    one_tap(tx, decision, Reason.WRONG_DESK, granted=False)
    assert snapshot(state) == before
    # With a session open at PC1, PC2 is still refused and PC1's session stays open.
    decide(state, policy, DESK_PC1, uid(1), IN + minutes(2))
    decision, tx = decide(state, policy, DESK_PC2, uid(1), IN + minutes(3))
    one_tap(tx, decision, Reason.WRONG_DESK, granted=False)
    usage = state.open_usage(visit.id)
    assert usage is not None and usage.facility_id == 1 and usage.ended_at is None


def test_desk_reader_without_facility(state: RoomState, policy: Policy, visit: Visit) -> None:
    before = snapshot(state)
    decision, tx = decide(state, policy, DESK_LOOSE, uid(1), IN)
    one_tap(tx, decision, Reason.NO_FACILITY, granted=False)
    assert snapshot(state) == before


def _walk_in(state: RoomState, policy: Policy, badge_id: int) -> Visit:
    """A visitor who needs no facility, inside the room."""
    v = visit_with_badge(state, policy, badge_id, name="Dewi", wanted_kind=None)
    assert v.state is VisitState.ADMITTED and v.facility_id is None
    decide(state, policy, DOOR_IN, uid(badge_id), IN)
    return v


def test_desk_tap_takes_a_free_facility(state: RoomState, policy: Policy) -> None:
    walk_in = _walk_in(state, policy, 3)
    at = IN + minutes(1)
    decision, tx = decide(state, policy, DESK_PC2, uid(3), at)
    one_tap(tx, decision, Reason.USAGE_STARTED, granted=True)
    assert walk_in.facility_id == 2 and state.facilities[2].visit_id == walk_in.id
    usage = state.open_usage(walk_in.id)
    assert usage is not None and usage.facility_id == 2


def test_desk_tap_does_not_take_a_free_facility_when_the_policy_says_no(
    state: RoomState,
) -> None:
    policy = make_policy(desk_assigns_free=False)
    walk_in = _walk_in(state, policy, 3)
    before = snapshot(state)
    decision, tx = decide(state, policy, DESK_PC2, uid(3), IN + minutes(1))
    one_tap(tx, decision, Reason.WRONG_DESK, granted=False)
    assert snapshot(state) == before
    assert walk_in.facility_id is None


def test_desk_tap_does_not_jump_the_queue(policy: Policy) -> None:
    state = make_room(pcs=1)
    holder, waiting = _queued(state, policy)
    walk_in = _walk_in(state, policy, 3)
    visits.return_badge(Tx(state), policy, holder, IN, STAFF)
    at = IN + policy.turnover_gap  # PC1 rested and is free, but Budi waits for it
    assert queue.is_free(state.facilities[1], at)
    decision, tx = decide(state, policy, DESK_PC1, uid(3), at)
    one_tap(tx, decision, Reason.WRONG_DESK, granted=False)
    assert walk_in.facility_id is None and state.facilities[1].visit_id is None
    assert state.tickets[waiting.ticket_id or 0].state is TicketState.WAITING


def test_desk_use_without_door_entry_is_tailgating(
    state: RoomState, policy: Policy, visit: Visit
) -> None:
    decision, tx = decide(state, policy, DESK_PC1, uid(1), IN)
    event = one_tap(tx, decision, Reason.USAGE_STARTED, granted=True)
    assert decision.anomalies == (TAILGATING,)
    assert event["anomaly"] == TAILGATING
    assert [a[:3] for a in anomalies(state)] == [(TAILGATING, visit.id, DESK_PC1)]
    assert state.open_usage(visit.id) is not None
    assert not visit.inside


# --- Front desk ------------------------------------------------------------------


def test_front_desk_issue_mode(state: RoomState, policy: Policy) -> None:
    visit = register(state, policy)
    arm(state, FRONT, visit)
    at = T0 + minutes(2)
    decision, tx = decide(state, policy, FRONT, uid(4), at)
    one_tap(tx, decision, Reason.BADGE_ISSUED, granted=True)
    assert decision.visit_id == visit.id and decision.badge_label == "K-004"
    assert [f.KIND for f in tx.facts] == [
        "badge.issued",
        "badge.disarmed",
        "visit.admitted",
        "facility.assigned",
        "tap.decided",
    ]
    badge = state.badges[4]
    assert badge.state is BadgeState.ISSUED and badge.visit_id == visit.id
    assert visit.badge_id == 4 and visit.badge_issued_at == at
    assert visit.state is VisitState.ADMITTED and visit.facility_id == 1
    assert armed(state) == {}
    # The next free badge tapped is not bound to anyone.
    decision, tx = decide(state, policy, FRONT, uid(5), at)
    one_tap(tx, decision, Reason.NO_VISIT_SERVED, granted=False)


def test_front_desk_without_armed_visit(state: RoomState, policy: Policy) -> None:
    register(state, policy)
    before = snapshot(state)
    decision, tx = decide(state, policy, FRONT, uid(4), IN)
    one_tap(tx, decision, Reason.NO_VISIT_SERVED, granted=False)
    assert snapshot(state) == before


def test_front_desk_armed_visit_already_has_a_badge(state: RoomState, policy: Policy) -> None:
    visit = register(state, policy)
    arm(state, FRONT, visit)
    visits.issue_badge(Tx(state), policy, visit, state.badges[1], T0, STAFF)
    before = snapshot(state)
    decision, tx = decide(state, policy, FRONT, uid(4), IN)
    # Issuing a badge by hand cleared the front desk's pending issue for the visit.
    one_tap(tx, decision, Reason.NO_VISIT_SERVED, granted=False)
    assert snapshot(state) == before and armed(state) == {}
    assert state.badges[4].state is BadgeState.AVAILABLE


def test_front_desk_visit_without_deposit_is_not_ready(state: RoomState, policy: Policy) -> None:
    visit = register(state, policy)
    arm(state, FRONT, visit)
    state.remove("deposit", state.deposit_of(visit.id).id)
    before = snapshot(state)
    decision, tx = decide(state, policy, FRONT, uid(4), IN)
    one_tap(tx, decision, Reason.VISIT_NOT_READY, granted=False)
    assert snapshot(state) == before


def test_front_desk_refusal_leaves_no_half_issued_badge(state: RoomState) -> None:
    policy = make_policy()
    visit = register(state, policy)
    arm(state, FRONT, visit)
    # The site drops the laptop-desk kind from its configuration while Budi waits.
    state.put("visit", replace(visit.now, wanted_kind="laptop_desk"))
    kinds = {k: v for k, v in policy.kinds.items() if k != "laptop_desk"}
    policy = replace(policy, kinds=kinds)
    decision, tx = decide(state, policy, FRONT, uid(4), IN)
    assert decision.reason is Reason.VISIT_NOT_READY and not decision.granted
    assert state.badges[4].state is BadgeState.AVAILABLE
    assert visit.badge_id is None
    assert [f.KIND for f in tx.facts] == ["tap.decided"]


def test_front_desk_return(state: RoomState, policy: Policy, visit: Visit) -> None:
    decide(state, policy, DOOR_IN, uid(1), IN)
    decide(state, policy, DESK_PC1, uid(1), IN + minutes(1))
    usage = state.open_usage(visit.id)
    assert usage is not None
    at = IN + minutes(90)
    decision, tx = decide(state, policy, FRONT, uid(1), at)
    one_tap(tx, decision, Reason.BADGE_RETURNED, granted=True)
    assert decision.slot == "L-01" and decision.feedback == GRANT
    assert [f.KIND for f in tx.facts] == [
        "usage.ended",
        "facility.left",
        "door.exited",
        "badge.returned",
        "visit.returned",
        "tap.decided",
    ]
    assert visit.state is VisitState.CLOSED
    assert visit.returned_at == at and visit.closed_at == at and not visit.forced
    assert not visit.inside and visit.exited_at == at
    assert visit.facility_id is None
    badge = state.badges[1]
    assert badge.state is BadgeState.AVAILABLE and badge.visit_id is None
    assert state.open_usage(visit.id) is None
    usage = state.usages[usage.id]
    assert (usage.ended_at, usage.ended_by) == (at, "return")
    pc1 = state.facilities[1]
    assert pc1.visit_id is None and pc1.available_from == at + policy.turnover_gap
    assert not queue.is_free(pc1, at + policy.turnover_gap - minutes(0.1))
    assert queue.is_free(pc1, at + policy.turnover_gap)
    assert state.occupancy() == 0
    deposit = state.deposit_of(visit.id)
    assert deposit is not None and deposit.returned_at is None  # the document is next


# --- The tap contract ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "uid_"),
    [
        ("04:a2:3b:1c", "04A23B1C"),
        ("04-A2-3B-1C-2D-3E-80", "04A23B1C2D3E80"),
        (" 04 a2 3b 1c ", "04A23B1C"),
        ("00112233445566778899", "00112233445566778899"),
    ],
)
def test_uids_are_normalised(raw: str, uid_: str) -> None:
    assert normalise_uid(raw) == uid_
    assert Tap(DOOR_IN, raw, T0, "e1").uid == uid_


@pytest.mark.parametrize("raw", ["", "04A23B", "04A23B1", "04A23B1G", "0011223344556677889900"])
def test_malformed_uids_are_refused(raw: str) -> None:
    with pytest.raises(InvalidTap):
        normalise_uid(raw)


def test_taps_must_be_aware_named_and_identified() -> None:
    with pytest.raises(InvalidTap, match="timezone-aware"):
        Tap(DOOR_IN, uid(1), T0.replace(tzinfo=None), "e1")
    for event_id in ("", "x" * 65):
        with pytest.raises(InvalidTap, match="event_id"):
            Tap(DOOR_IN, uid(1), T0, event_id)
    with pytest.raises(InvalidTap, match="reader"):
        Tap("", uid(1), T0, "e1")
    assert Tap(DOOR_IN, uid(1), T0, "x" * 64).event_id == "x" * 64


def test_a_tapped_uid_finds_its_badge_whatever_the_reader_spelling(
    state: RoomState, policy: Policy, visit: Visit
) -> None:
    spelled = ":".join(uid(1)[i : i + 2].lower() for i in range(0, len(uid(1)), 2))
    decision, _tx = decide(state, policy, DOOR_IN, spelled, IN)
    assert decision.reason is Reason.ENTRY and visit.inside


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_reads_in_both_languages(reason: Reason) -> None:
    indonesian, english = both(REASON_TEXT[reason])
    assert indonesian and english and indonesian != english
    assert reason_text(reason) == indonesian and reason_text(reason, "en") == english
    assert Decision(False, reason, DENY).message == indonesian


def test_issued_badge_at_a_desk_serving_someone_else_is_not_returned(
    state: RoomState, policy: Policy, visit: Visit
) -> None:
    """The clerk arms the desk for Citra but picks up Budi's badge: Budi's visit is not
    checked out behind the clerk's back (the desk asks); Citra gets the next free badge."""
    citra = register(state, policy, name="Citra")
    arm(state, FRONT, citra)
    decision, tx = decide(state, policy, FRONT, uid(1), IN)
    one_tap(tx, decision, Reason.CONFIRM_RETURN, granted=False)
    assert decision.visit_id == visit.id and decision.feedback == DENY
    assert [f.KIND for f in tx.facts] == ["desk.return_asked", "tap.decided"]
    assert state.armed[FRONT].asked_visit_id == visit.id
    assert visit.state is VisitState.ADMITTED and armed(state) == {FRONT: citra.id}
    decision, _tx = decide(state, policy, FRONT, uid(2), IN + minutes(1))
    assert (decision.reason, decision.visit_id) == (Reason.BADGE_ISSUED, citra.id)
    assert citra.badge_id == 2 and armed(state) == {}
    # With no one being served, the same tap is Budi's return.
    decision, _tx = decide(state, policy, FRONT, uid(1), IN + minutes(2))
    assert (decision.reason, decision.visit_id) == (Reason.BADGE_RETURNED, visit.id)
