"""Tx: changes applied at once, grouped into facts, and undone exactly by rollback."""

from __future__ import annotations

from datetime import date

import pytest

from service.domain import days, helpdesk, queue, visits
from service.domain.access import decide_tap
from service.domain.lifecycle import BadgeState, VisitState
from service.domain.model import Change
from service.domain.tx import Tx
from tests.unit.domain_builders import (
    DAY,
    DESK_PC1,
    DOOR_IN,
    DOOR_OUT,
    FRONT,
    STAFF,
    T0,
    arrival,
    decide,
    make_policy,
    make_room,
    minutes,
    register,
    snapshot,
    tap,
    uid,
    visit_with_badge,
)


def test_create_applies_at_once_and_records_every_field() -> None:
    state = make_room()
    tx = Tx(state)
    badge = tx.create("badge", {"uid": "04AABBCCDD", "label": "K-050", "enrolled_at": T0})
    assert badge.id == 7 and state.badge_by("04AABBCCDD") is badge
    assert state.next_ids["badge"] == 8
    assert tx.dirty
    fact = tx.fact("badge.enrolled", T0, STAFF)
    assert not tx.dirty
    (change,) = fact.changes
    assert change == Change(
        "badge",
        7,
        {
            "uid": "04AABBCCDD",
            "label": "K-050",
            "state": BadgeState.AVAILABLE,
            "visit_id": None,
            "enrolled_at": T0,
            "note": None,
        },
        new=True,
    )


def test_update_records_only_what_changed() -> None:
    state = make_room()
    tx = Tx(state)
    tx.update("badge", 1, note=None, label="K-001")  # nothing changes
    assert not tx.dirty
    tx.update("badge", 1, note="retak", label="K-001")
    (change,) = tx.fact("badge.noted", T0, STAFF).changes
    assert change == Change("badge", 1, {"note": "retak"})


def test_facts_group_the_changes_made_since_the_last_fact() -> None:
    policy, state = make_policy(), make_room()
    visit = register(state, policy)
    tx = Tx(state)
    visits.issue_badge(tx, policy, visit, state.badges[1], T0, STAFF)
    issued, assigned = tx.facts
    assert issued.kind == "badge.issued"
    assert {(c.entity, c.id) for c in issued.changes} == {("badge", 1), ("visit", visit.id)}
    assert assigned.kind == "facility.assigned"
    assert {(c.entity, c.id) for c in assigned.changes} == {("visit", visit.id), ("facility", 1)}
    assert all(f.at == T0 and f.actor == STAFF for f in tx.facts)


def test_access_events_are_written_never_kept() -> None:
    policy, state = make_policy(), make_room()
    tx = Tx(state)
    decide_tap(tx, policy, tap(DOOR_IN, uid(1), T0))
    assert "access_event" not in state.tables
    (fact,) = tx.facts
    (change,) = fact.changes
    assert (change.entity, change.new, change.values["reason"]) == (
        "access_event",
        True,
        "badge_not_issued",
    )


def test_rollback_restores_everything_after_a_busy_unit() -> None:
    """One Tx through most rules, then rollback: every field, index and counter is back."""
    policy, state = make_policy(), make_room(pcs=1)
    sitting = visit_with_badge(state, policy, 1)
    decide(state, policy, DOOR_IN, uid(1), T0 + minutes(2))
    waiting = visit_with_badge(state, policy, 2, name="Citra")
    armed = register(state, policy, name="Dewi")
    visits.arm_issue(Tx(state), FRONT, armed)
    helpdesk.open_request(Tx(state), sitting.id, None, "staff", "login", "x", T0, STAFF)
    before = snapshot(state, event_ids=True)
    undone: list[str] = []

    tx = Tx(state)
    tx.on_rollback(lambda: undone.append("first"))
    tx.on_rollback(lambda: undone.append("second"))
    decide_tap(tx, policy, tap(DESK_PC1, uid(1), T0 + minutes(3)))  # open usage
    decide_tap(tx, policy, tap(DOOR_OUT, uid(2), T0 + minutes(3)))  # an anomaly
    visits.register(tx, policy, arrival(name="Eka"), T0 + minutes(4), STAFF)  # new ids
    decide_tap(tx, policy, tap(FRONT, uid(3), T0 + minutes(4)))  # armed issue used
    decide_tap(tx, policy, tap(FRONT, uid(1), T0 + minutes(5)))  # return: closes usage
    visits.return_document(tx, sitting, "", T0 + minutes(6), STAFF)
    queue.run_due(tx, policy, T0 + minutes(7))  # calls Citra
    visits.enroll_badge(tx, "04FFEEDDCC", "K-099", T0, STAFF)
    helpdesk.resolve(tx, 1, None, "reset password", T0 + minutes(8), STAFF)
    days.close_day(tx, DAY, T0 + minutes(9), STAFF)
    # All of that really happened in the state...
    assert sitting.state is VisitState.CLOSED and waiting.ticket_id is not None
    assert state.tickets[waiting.ticket_id].called_at == T0 + minutes(7)
    assert state.armed_issue == {} and len(state.tap_anomalies) == 1
    assert state.badge_by("04FFEEDDCC") is not None and DAY in state.days
    assert tx.facts

    tx.rollback()
    assert snapshot(state, event_ids=True) == before
    assert undone == ["second", "first"]
    assert tx.facts == [] and not tx.dirty
    assert state.open_usage(sitting.id) is None
    deposit = state.deposit_of(sitting.id)
    assert deposit is not None and deposit.returned_at is None
    assert state.badge_by("04FFEEDDCC") is None
    assert state.armed_issue == {FRONT: armed.id}
    assert state.occupancy() == 1


def test_rollback_restores_indexes_of_updated_rows() -> None:
    policy, state = make_policy(), make_room()
    visit = visit_with_badge(state, policy, 1)
    decide(state, policy, DESK_PC1, uid(1), T0 + minutes(2))
    usage = state.open_usage(visit.id)
    assert usage is not None
    tx = Tx(state)
    tx.update("usage", usage.id, ended_at=T0 + minutes(3))
    tx.update("badge", 1, uid="04000000000000")
    assert state.open_usage(visit.id) is None and state.badge_by(uid(1)) is None
    tx.rollback()
    assert state.open_usage(visit.id) is usage
    assert state.badge_by(uid(1)) is state.badges[1]
    assert "04000000000000" not in state.badge_by_uid


@pytest.mark.parametrize("key", [None, date(2026, 11, 25)])
def test_rollback_of_a_create(key: date | None) -> None:
    state = make_room()
    before = snapshot(state, event_ids=True)
    tx = Tx(state)
    if key is None:
        tx.create(
            "visitor",
            {"name": "A", "company": "B", "doc_type": "ktp", "doc_masked": "*", "created_at": T0},
        )
    else:
        tx.create("day", {}, key=key)
    tx.rollback()
    assert snapshot(state, event_ids=True) == before


def test_rollback_to_a_savepoint_keeps_what_came_before() -> None:
    policy, state = make_policy(), make_room()
    visit = visit_with_badge(state, policy, 1)
    undone: list[str] = []
    tx = Tx(state)
    tx.on_rollback(lambda: undone.append("before"))
    decide_tap(tx, policy, tap(DOOR_OUT, uid(1), T0 + minutes(2)))  # anomaly, kept
    after_first = snapshot(state, event_ids=True)
    point = tx.savepoint()

    tx.on_rollback(lambda: undone.append("after"))
    decide_tap(tx, policy, tap(DESK_PC1, uid(1), T0 + minutes(3)))  # usage + tailgating
    visits.register(tx, policy, arrival(name="Eka"), T0 + minutes(3), STAFF)
    state.armed_issue[FRONT] = visit.id
    tx.update("badge", 2, note="pending at the rollback")
    assert len(tx.facts) == 3 and len(state.tap_anomalies) == 2

    tx.rollback_to(point)
    assert snapshot(state, event_ids=True) == after_first
    assert undone == ["after"]
    assert [f.kind for f in tx.facts] == ["tap.exit_without_entry"]
    assert not tx.dirty
    # A full rollback still undoes the part before the savepoint too.
    tx.rollback()
    assert undone == ["after", "before"]
    assert state.tap_anomalies == []
    assert not visit.inside and visit.exited_at is None


def test_rollback_to_keeps_changes_pending_at_the_savepoint() -> None:
    policy, state = make_policy(), make_room()
    tx = Tx(state)
    tx.update("badge", 2, note="retak")  # not yet in a fact
    point = tx.savepoint()
    decide_tap(tx, policy, tap(DOOR_IN, uid(1), T0))  # its fact takes every pending change
    tx.rollback_to(point)
    assert state.badges[2].note == "retak"  # still applied, so it must still be recorded
    assert tx.dirty
    (change,) = tx.fact("badge.noted", T0, STAFF).changes
    assert change == Change("badge", 2, {"note": "retak"})
