"""The front desk's served visit and its question about another visitor's badge.

A tap of an issued badge at a desk serving another visit is never that visit's
silent return: the question waits on the reader's record until the clerk returns
the visit or ignores the tap; every other way of ending the visit answers it too.
"""

from __future__ import annotations

import pytest

from service.domain import desk, visits
from service.domain.desk import DeskTap, desk_tap
from service.domain.lifecycle import BadgeEvent, BadgeState, VisitState
from service.domain.model import ArmedIssue, Badge, Visit
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.taps import Reason
from service.domain.tx import Tx
from service.errors import Conflict
from tests.unit.domain_builders import (
    FRONT,
    STAFF,
    T0,
    arm,
    armed,
    decide,
    make_policy,
    make_room,
    minutes,
    register,
    snapshot,
    uid,
    visit_with_badge,
)

IN = T0 + minutes(5)
OTHER_FRONT = "front-2"


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def state() -> RoomState:
    return make_room()


@pytest.fixture
def budi(state: RoomState, policy: Policy) -> Visit:
    """Budi holds badge K-001 (admitted, PC1)."""
    return visit_with_badge(state, policy, 1, name="Budi")


@pytest.fixture
def citra(state: RoomState, policy: Policy) -> Visit:
    """Citra holds badge K-002 (admitted, PC2)."""
    return visit_with_badge(state, policy, 2, name="Citra")


def _serving(visit_id: int) -> ArmedIssue:
    return ArmedIssue(id=FRONT, visit_id=visit_id, at=T0, by=STAFF)


def _badge(state: BadgeState, visit_id: int | None) -> Badge:
    return Badge(id=1, uid=uid(1), label="K-001", state=state, visit_id=visit_id, enrolled_at=T0)


# Every cell of the table: (served visit, badge state, badge's visit) -> meaning.
CELLS = [
    (None, BadgeState.ISSUED, 7, DeskTap.RETURN),
    (7, BadgeState.ISSUED, 7, DeskTap.RETURN),
    (8, BadgeState.ISSUED, 7, DeskTap.CONFIRM_RETURN),
    (None, BadgeState.AVAILABLE, None, DeskTap.NOBODY_SERVED),
    (8, BadgeState.AVAILABLE, None, DeskTap.ISSUE),
    (None, BadgeState.LOST, None, DeskTap.NOBODY_SERVED),
    (8, BadgeState.RETIRED, None, DeskTap.ISSUE),
]


@pytest.mark.parametrize(("served", "badge_state", "holder", "meaning"), CELLS)
def test_what_a_front_desk_tap_means(
    served: int | None, badge_state: BadgeState, holder: int | None, meaning: DeskTap
) -> None:
    serving = None if served is None else _serving(served)
    assert desk_tap(serving, _badge(badge_state, holder)) is meaning


def test_a_desk_serving_a_visit_asks_before_returning_another(
    state: RoomState, policy: Policy, budi: Visit, citra: Visit
) -> None:
    desk.serve(Tx(state), FRONT, citra, T0 + minutes(3), STAFF)
    decision, _tx = decide(state, policy, FRONT, uid(1), IN)
    assert (decision.granted, decision.reason, decision.visit_id) == (
        False,
        Reason.CONFIRM_RETURN,
        budi.id,
    )
    assert budi.state is VisitState.ADMITTED and state.badges[1].state is BadgeState.ISSUED
    asked = state.armed[FRONT]
    assert (asked.visit_id, asked.asked_visit_id, asked.asked_at) == (citra.id, budi.id, IN)
    # A second tap of the same badge asks again, still nothing returned.
    decide(state, policy, FRONT, uid(1), IN + minutes(1))
    assert budi.state is VisitState.ADMITTED
    assert state.armed[FRONT].asked_at == IN + minutes(1)


def test_ignore_leaves_the_visit_open_and_the_desk_serving(
    state: RoomState, policy: Policy, budi: Visit, citra: Visit
) -> None:
    desk.serve(Tx(state), FRONT, citra, T0, STAFF)
    decide(state, policy, FRONT, uid(1), IN)
    tx = Tx(state)
    assert desk.answer(tx, policy, FRONT, budi.id, False, IN, STAFF) is None
    assert [f.KIND for f in tx.facts] == ["desk.return_answered"]
    assert budi.state is VisitState.ADMITTED and budi.badge_id == 1
    assert armed(state) == {FRONT: citra.id} and state.armed[FRONT].asked_visit_id is None
    # Answering again is refused and changes nothing.
    before = snapshot(state)
    with pytest.raises(Conflict, match="already answered"):
        desk.answer(Tx(state), policy, FRONT, budi.id, False, IN, STAFF)
    with pytest.raises(Conflict):
        desk.answer(Tx(state), policy, FRONT, budi.id, True, IN, STAFF)
    assert snapshot(state) == before


def test_return_closes_the_asked_visit_and_shows_its_slot(
    state: RoomState, policy: Policy, budi: Visit, citra: Visit
) -> None:
    desk.serve(Tx(state), FRONT, citra, T0, STAFF)
    decide(state, policy, FRONT, uid(1), IN)
    tx = Tx(state)
    deposit = desk.answer(tx, policy, FRONT, budi.id, True, IN + minutes(1), STAFF, True)
    assert deposit is not None and deposit.visit_id == budi.id and deposit.slot == "L-01"
    assert "desk.return_answered" in [f.KIND for f in tx.facts]
    assert budi.state is VisitState.CLOSED and budi.devices_checked is True
    assert state.badges[1].state is BadgeState.AVAILABLE
    # Citra is still the one served, and still open.
    assert armed(state) == {FRONT: citra.id} and state.armed[FRONT].asked_visit_id is None
    assert citra.state is VisitState.ADMITTED


def test_an_answer_about_another_visit_or_reader_is_refused(
    state: RoomState, policy: Policy, budi: Visit, citra: Visit
) -> None:
    desk.serve(Tx(state), FRONT, citra, T0, STAFF)
    decide(state, policy, FRONT, uid(1), IN)
    before = snapshot(state)
    with pytest.raises(Conflict):
        desk.answer(Tx(state), policy, FRONT, citra.id, True, IN, STAFF)
    with pytest.raises(Conflict):
        desk.answer(Tx(state), policy, OTHER_FRONT, budi.id, True, IN, STAFF)
    assert snapshot(state) == before


def test_ending_the_asked_visit_otherwise_answers_the_question(
    state: RoomState, policy: Policy, budi: Visit, citra: Visit
) -> None:
    desk.serve(Tx(state), FRONT, citra, T0, STAFF)
    decide(state, policy, FRONT, uid(1), IN)
    tx = Tx(state)
    visits.return_badge(tx, policy, budi, IN, STAFF)
    answered = [f for f in tx.facts if f.KIND == "desk.return_answered"]
    assert len(answered) == 1 and answered[0].returned is True  # type: ignore[attr-defined]
    assert state.armed[FRONT].asked_visit_id is None and armed(state) == {FRONT: citra.id}


def test_the_served_visits_own_badge_is_its_return(
    state: RoomState, policy: Policy, budi: Visit, citra: Visit
) -> None:
    desk.serve(Tx(state), FRONT, citra, T0, STAFF)
    decide(state, policy, FRONT, uid(1), IN)  # Budi's question waits
    decision, _tx = decide(state, policy, FRONT, uid(2), IN + minutes(1))
    assert (decision.reason, decision.slot) == (Reason.BADGE_RETURNED, "L-02")
    assert citra.state is VisitState.CLOSED and armed(state) == {}
    # Nobody served any more: Budi's badge now returns Budi.
    decision, _tx = decide(state, policy, FRONT, uid(1), IN + minutes(2))
    assert (decision.reason, decision.visit_id) == (Reason.BADGE_RETURNED, budi.id)


def test_serving_replaces_the_desks_visit_and_a_reload_records_nothing(
    state: RoomState, policy: Policy, budi: Visit, citra: Visit
) -> None:
    dewi = register(state, policy, name="Dewi")
    arm(state, FRONT, dewi)
    tx = Tx(state)
    desk.serve(tx, FRONT, citra, T0, STAFF)
    assert armed(state) == {FRONT: citra.id} and len(tx.facts) == 1
    again = Tx(state)
    desk.serve(again, FRONT, citra, T0 + minutes(1), STAFF)
    assert again.facts == []
    # Serving a visit with no badge yet: the next free badge tapped is its own.
    desk.serve(Tx(state), FRONT, dewi, T0 + minutes(2), STAFF)
    decision, _tx = decide(state, policy, FRONT, uid(5), IN)
    assert (decision.reason, decision.visit_id) == (Reason.BADGE_ISSUED, dewi.id)


def test_a_closed_visit_cannot_be_served(state: RoomState, policy: Policy, budi: Visit) -> None:
    visits.return_badge(Tx(state), policy, budi, IN, STAFF)
    before = snapshot(state)
    with pytest.raises(Conflict, match="closed"):
        desk.serve(Tx(state), FRONT, state.visits[budi.id], IN, STAFF)
    assert snapshot(state) == before


def test_release_ends_serving_only_the_visit_named(
    state: RoomState, policy: Policy, budi: Visit, citra: Visit
) -> None:
    desk.serve(Tx(state), FRONT, citra, T0, STAFF)
    tx = Tx(state)
    desk.release(tx, FRONT, budi.id, IN, STAFF)  # a stale page releasing an older visit
    assert tx.facts == [] and armed(state) == {FRONT: citra.id}
    desk.release(Tx(state), FRONT, citra.id, IN, STAFF)
    assert armed(state) == {}
    decision, _tx = decide(state, policy, FRONT, uid(1), IN + minutes(1))
    assert (decision.reason, decision.visit_id) == (Reason.BADGE_RETURNED, budi.id)


def test_a_lost_badge_of_the_asked_visit_leaves_the_question_to_the_clerk(
    state: RoomState, policy: Policy, budi: Visit, citra: Visit
) -> None:
    desk.serve(Tx(state), FRONT, citra, T0, STAFF)
    decide(state, policy, FRONT, uid(1), IN)
    visits.badge_event(Tx(state), policy, state.badges[1], BadgeEvent.REPORT_LOST, IN, STAFF)
    # The clerk can still ignore it; returning works too (the visit has no badge now).
    deposit = desk.answer(Tx(state), policy, FRONT, budi.id, True, IN, STAFF)
    assert deposit is not None and budi.state is VisitState.CLOSED
    assert state.armed[FRONT].asked_visit_id is None
