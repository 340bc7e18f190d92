"""Enrolment by tapping on the front-desk reader: the mode, the proposed label, the tap."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.domain import enrolment
from service.domain.access import decide_tap
from service.domain.facts import BadgeEnrolArmed, BadgeEnrolDisarmed, BadgeEnrolled, TapDecided
from service.domain.lifecycle import BadgeState
from service.domain.policy import Policy, ReaderPolicy
from service.domain.taps import GRANT, ReaderRole, Reason
from service.domain.tx import Tx
from service.errors import Conflict, NotFound
from tests.unit.domain_builders import (
    DOOR_IN,
    FRONT,
    STAFF,
    T0,
    arm,
    decide,
    make_policy,
    make_room,
    minutes,
    register,
    snapshot,
    tap,
    uid,
)

NEW_UID = "04FFEE0000AA01"


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([], "K-001"),
        (["K-001", "K-002", "K-003"], "K-004"),
        (["K-001", "K-003"], "K-004"),  # after the highest, never a gap a lost one left
        (["K-009", "K-010"], "K-011"),
        (["A-1", "A-2", "K-001"], "A-3"),  # the most common shape wins
        (["Tamu", "Cadangan"], "K-001"),
        (["K-999"], "K-1000"),
    ],
)
def test_proposed_label_follows_the_pool(labels: list[str], expected: str) -> None:
    assert enrolment.propose_label(labels) == expected
    assert expected not in labels


def test_arm_then_unknown_tap_enrols_with_the_proposed_label(policy: Policy) -> None:
    state = make_room(badges=3)
    enrolment.arm(Tx(state), policy, FRONT, None, T0, "officer:admin")
    assert state.enrolling[FRONT].label is None
    tx = Tx(state)
    decision = decide_tap(tx, policy, tap(FRONT, NEW_UID, T0 + minutes(1)))
    assert decision.granted and decision.reason is Reason.BADGE_ENROLLED
    assert decision.feedback == GRANT and decision.badge_label == "K-004"
    badge = state.badge_by(NEW_UID)
    assert badge is not None and badge.label == "K-004" and badge.state is BadgeState.AVAILABLE
    assert [type(f) for f in tx.facts] == [BadgeEnrolled, BadgeEnrolDisarmed, TapDecided]
    enrolled = tx.facts[0]
    assert isinstance(enrolled, BadgeEnrolled) and enrolled.actor == "officer:admin"
    assert isinstance(tx.facts[-1], TapDecided) and tx.facts[-1].event.badge_id == badge.id
    assert state.enrolling == {}  # one badge per arming


def test_typed_label_is_used_and_a_second_unknown_tap_is_refused(policy: Policy) -> None:
    state = make_room(badges=2)
    enrolment.arm(Tx(state), policy, FRONT, " Cadangan-1 ", T0, STAFF)
    decision, _tx = decide(state, policy, FRONT, NEW_UID, T0)
    assert decision.reason is Reason.BADGE_ENROLLED
    assert state.badge_by(NEW_UID) is not None
    assert state.badge_by(NEW_UID).label == "Cadangan-1"  # type: ignore[union-attr]
    again, _tx = decide(state, policy, FRONT, "04FFEE0000AA02", T0)
    assert not again.granted and again.reason is Reason.UNKNOWN_BADGE
    assert state.badge_by("04FFEE0000AA02") is None


def test_known_badge_tapped_in_enrol_mode_is_decided_as_always(policy: Policy) -> None:
    state = make_room(badges=2)
    visit = register(state, policy)
    arm(state, FRONT, visit)
    enrolment.arm(Tx(state), policy, FRONT, None, T0, STAFF)
    decision, _tx = decide(state, policy, FRONT, uid(1), T0 + minutes(1))
    assert decision.reason is Reason.BADGE_ISSUED
    assert FRONT in state.enrolling  # still waiting for an unknown badge


def test_label_taken_after_arming_refuses_the_tap_and_keeps_the_mode(policy: Policy) -> None:
    state = make_room(badges=2)
    enrolment.arm(Tx(state), policy, FRONT, "K-900", T0, STAFF)
    from service.domain import visits

    visits.enroll_badge(Tx(state), "04FFEE0000AA09", "K-900", T0, STAFF)
    before = snapshot(state)
    decision, tx = decide(state, policy, FRONT, NEW_UID, T0)
    assert not decision.granted and decision.reason is Reason.ENROL_LABEL_TAKEN
    assert [type(f) for f in tx.facts] == [TapDecided]
    assert snapshot(state) == before


def test_unknown_badge_on_a_door_is_never_enrolled(policy: Policy) -> None:
    state = make_room(badges=2)
    enrolment.arm(Tx(state), policy, FRONT, None, T0, STAFF)
    decision, _tx = decide(state, policy, DOOR_IN, NEW_UID, T0)
    assert decision.reason is Reason.UNKNOWN_BADGE
    assert state.badge_by(NEW_UID) is None and FRONT in state.enrolling


@pytest.mark.parametrize(
    ("reader", "label", "error"),
    [
        ("nowhere", None, NotFound),
        (DOOR_IN, None, NotFound),  # no front-desk reader by that name
        (FRONT, "K-001", Conflict),
    ],
)
def test_bad_arming_changes_nothing(
    policy: Policy, reader: str, label: str | None, error: type[Exception]
) -> None:
    state = make_room(badges=2)
    before = snapshot(state)
    tx = Tx(state)
    with pytest.raises(error):
        enrolment.arm(tx, policy, reader, label, T0, STAFF)
    assert tx.facts == [] and snapshot(state) == before


def test_signed_badges_cannot_be_enrolled_by_a_plain_tap(policy: Policy) -> None:
    state = make_room(badges=1)
    signing = replace(
        policy, readers={FRONT: ReaderPolicy(FRONT, ReaderRole.FRONT_DESK, verify_token=True)}
    )
    with pytest.raises(Conflict):
        enrolment.arm(Tx(state), signing, FRONT, None, T0, STAFF)
    with pytest.raises(Conflict):
        enrolment.arm(Tx(state), replace(policy, require_token=True), FRONT, None, T0, STAFF)


def test_disarm_ends_the_mode_and_is_quiet_when_off(policy: Policy) -> None:
    state = make_room(badges=1)
    enrolment.arm(Tx(state), policy, FRONT, None, T0, STAFF)
    tx = Tx(state)
    enrolment.disarm(tx, FRONT, T0, STAFF)
    assert [type(f) for f in tx.facts] == [BadgeEnrolDisarmed] and state.enrolling == {}
    quiet = Tx(state)
    enrolment.disarm(quiet, FRONT, T0, STAFF)
    assert quiet.facts == []


def test_arming_again_replaces_the_label(policy: Policy) -> None:
    state = make_room(badges=1)
    enrolment.arm(Tx(state), policy, FRONT, "X-1", T0, STAFF)
    tx = Tx(state)
    enrolment.arm(tx, policy, FRONT, None, T0 + minutes(1), STAFF)
    assert isinstance(tx.facts[0], BadgeEnrolArmed)
    assert state.enrolling[FRONT].label is None and state.enrolling[FRONT].at == T0 + minutes(1)
