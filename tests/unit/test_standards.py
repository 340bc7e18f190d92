"""Service-time standards: steps 2, 3, 8 and 9 measured from the records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.domain import days, standards, visits
from service.domain.model import Visit
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.tx import Tx
from tests.unit.domain_builders import (
    DAY,
    STAFF,
    T0,
    make_policy,
    make_room,
    minutes,
    register,
    set_fields,
    visit_with_badge,
)

FIVE = timedelta(minutes=5)
EVENING = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 17:00 WIB


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def state() -> RoomState:
    return make_room()


def timing(state: RoomState, policy: Policy, step: str, visit: Visit) -> standards.Timing:
    (found,) = [
        t
        for t in standards.timings(state, policy, DAY)
        if t.step == step and t.subject == f"visit:{visit.id}"
    ]
    return found


def full_visit(state: RoomState, policy: Policy, badge_after: float, doc_after: float) -> Visit:
    """Form opened at T0 - 2 min; badge ``badge_after`` min after T0; back at T0 + 60 min."""
    visit = register(state, policy, form_started_at=T0 - minutes(2))
    visits.issue_badge(Tx(state), policy, visit, state.badges[1], T0 + minutes(badge_after), STAFF)
    visits.return_badge(Tx(state), policy, visit, T0 + minutes(60), STAFF)
    visits.return_document(Tx(state), visit, "", T0 + minutes(60 + doc_after), STAFF)
    return visit


def test_timings_of_a_quick_visit(state: RoomState, policy: Policy) -> None:
    visit = full_visit(state, policy, badge_after=1, doc_after=2)
    label = "Budi Santoso (CV Maju Jaya)"
    assert standards.timings(state, policy, DAY) == [
        standards.Timing("2", "visit:1", label, T0 - minutes(2), T0 + minutes(1), FIVE),
        standards.Timing("3", "visit:1", label, T0 + minutes(1), T0 + minutes(1), FIVE),
        standards.Timing("8", "visit:1", label, T0 + minutes(60), T0 + minutes(62), FIVE),
    ]
    assert timing(state, policy, "2", visit).duration(EVENING) == minutes(3)
    assert standards.breaches(state, policy, DAY, EVENING) == []


def test_exactly_five_minutes_is_not_a_breach(state: RoomState, policy: Policy) -> None:
    full_visit(state, policy, badge_after=3, doc_after=5)  # step 2: 5 min, step 8: 5 min
    assert standards.breaches(state, policy, DAY, EVENING) == []


def test_slow_steps_breach(state: RoomState, policy: Policy) -> None:
    full_visit(state, policy, badge_after=4, doc_after=7)
    found = standards.breaches(state, policy, DAY, EVENING)
    assert [(b.step, b.duration, b.ongoing, b.justification) for b in found] == [
        ("2", minutes(6), False, None),
        ("8", minutes(7), False, None),
    ]
    assert found[0].standard == FIVE and found[0].ended == T0 + minutes(4)


def test_step_3_measured_from_badge_to_facility(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1)
    set_fields(state, "visit", visit.id, assigned_at=T0 + minutes(9))  # as stored
    (breach,) = standards.breaches(state, policy, DAY, EVENING)
    assert (breach.step, breach.duration) == ("3", minutes(8))


def test_ongoing_breaches(state: RoomState, policy: Policy) -> None:
    waiting = register(state, policy)  # never gets a badge
    back = full_visit_without_document(state, policy)
    now = T0 + minutes(80)
    found = {(b.step, b.subject): b for b in standards.breaches(state, policy, DAY, now)}
    step2 = found[("2", f"visit:{waiting.id}")]
    assert step2.ongoing and step2.ended is None and step2.duration == minutes(80)
    step8 = found[("8", f"visit:{back.id}")]
    assert step8.ongoing and step8.duration == now - (T0 + minutes(60))
    # Not yet past the standard: no breach while it is still running.
    assert standards.breaches(state, policy, DAY, T0 + minutes(4)) == []


def full_visit_without_document(state: RoomState, policy: Policy) -> Visit:
    visit = visit_with_badge(state, policy, 2, name="Citra")
    visits.return_badge(Tx(state), policy, visit, T0 + minutes(60), STAFF)
    return visit


def test_step_9_from_close_to_signature(state: RoomState, policy: Policy) -> None:
    closed = datetime(2026, 11, 25, 9, 10, tzinfo=UTC)
    days.close_day(Tx(state), Policy(), DAY, closed, STAFF)
    (ongoing,) = standards.breaches(state, policy, DAY, closed + minutes(20))
    assert (ongoing.step, ongoing.subject, ongoing.ongoing) == ("9", "day:2026-11-25", True)
    days.sign_day(Tx(state), policy, DAY, closed + minutes(7), "head:rahmat")
    (done,) = standards.breaches(state, policy, DAY, EVENING)
    assert (done.step, done.duration, done.ongoing) == ("9", minutes(7), False)


def test_justification_is_attached(state: RoomState, policy: Policy) -> None:
    visit = full_visit(state, policy, badge_after=10, doc_after=1)
    days.justify(Tx(state), DAY, "2", f"visit:{visit.id}", "server SPSE down", T0, "officer:ani")
    days.justify(Tx(state), DAY, "8", f"visit:{visit.id}", "wrong subject", T0, "officer:ani")
    (breach,) = standards.breaches(state, policy, DAY, EVENING)
    assert (breach.step, breach.justification, breach.justified_by) == (
        "2",
        "server SPSE down",
        "officer:ani",
    )


def test_back_entered_and_other_days_are_not_measured(state: RoomState, policy: Policy) -> None:
    register(
        state,
        policy,
        rules_ack=False,
        privacy_ack=False,
        back_entered=True,
        form_started_at=T0 - minutes(300),
    )
    register(state, policy, at=T0 + timedelta(days=1), name="Besok")
    assert standards.timings(state, policy, DAY) == []
    assert standards.breaches(state, policy, DAY, EVENING) == []


def test_closed_visit_without_badge_is_not_measured(state: RoomState, policy: Policy) -> None:
    visit = register(state, policy)
    visits.force_close(Tx(state), policy, visit, "left before the badge", T0 + minutes(20), STAFF)
    assert standards.timings(state, policy, DAY) == []


def test_standards_come_from_the_policy(state: RoomState) -> None:
    policy = make_policy(standards={s: minutes(10) for s in ("2", "3", "8", "9")})
    full_visit(state, policy, badge_after=6, doc_after=9)
    assert standards.breaches(state, policy, DAY, EVENING) == []
