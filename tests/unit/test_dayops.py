"""Day close guarded by the closing time, the Head's reopen, moving the occupant of a
facility taken out of service, the roll call and the muster (pure rules, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.domain import days, facilities, facts, muster, visits
from service.domain.lifecycle import DayState
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import Conflict, NotFound, ValidationError
from tests.unit.domain_builders import (
    DAY,
    DESK_PC1,
    DESK_PC2,
    DOOR_IN,
    DOOR_OUT,
    STAFF,
    T0,
    decide,
    make_policy,
    make_room,
    minutes,
    set_fields,
    snapshot,
    uid,
    visit_with_badge,
)

HEAD = "head:rahmat"
NOON = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 12:00 WIB, before the 16:00 closing
EVENING = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # 16:30 WIB


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def state() -> RoomState:
    return make_room(pcs=3)


# --- closing the day ------------------------------------------------------------------


@pytest.mark.parametrize("reason", [None, "", "   ", "abc", " ab  "])
def test_closing_early_without_a_reason_is_refused(
    state: RoomState, policy: Policy, reason: str | None
) -> None:
    before = snapshot(state)
    tx = Tx(state)
    with pytest.raises(ValidationError) as caught:
        days.close_day(tx, policy, DAY, NOON, STAFF, reason)
    assert caught.value.field == "note"
    assert "16.00 WIB" in caught.value.message_id and "alasan" in caught.value.message_id
    assert snapshot(state) == before and tx.facts == []


def test_closing_early_with_a_reason_keeps_it(state: RoomState, policy: Policy) -> None:
    tx = Tx(state)
    days.close_day(tx, policy, DAY, NOON, STAFF, "  listrik padam  ")
    (fact,) = tx.facts
    assert isinstance(fact, facts.DayClosed) and fact.note == "listrik padam"
    record = state.days[DAY]
    assert (record.state, record.note, record.closed_by) == (
        DayState.CLOSED,
        "listrik padam",
        STAFF,
    )


def test_closing_after_the_closing_time_needs_no_reason(state: RoomState, policy: Policy) -> None:
    assert days.reason_needed(policy, DAY, NOON)
    assert not days.reason_needed(policy, DAY, EVENING)
    days.close_day(Tx(state), policy, DAY, EVENING, STAFF)
    assert state.days[DAY].state is DayState.CLOSED and state.days[DAY].note is None


def test_closing_at_the_exact_closing_time_needs_no_reason(
    state: RoomState, policy: Policy
) -> None:
    days.close_day(Tx(state), policy, DAY, policy.closing_at(DAY), STAFF)
    assert state.days[DAY].state is DayState.CLOSED


def test_a_day_the_room_does_not_open_closes_without_a_reason(policy: Policy) -> None:
    saturday = DAY.replace(day=28)
    at = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 10:00 WIB on the Saturday
    assert not days.reason_needed(policy, saturday, at)
    assert days.reason_needed(make_policy(days=(1, 2, 3, 4, 5, 6)), saturday, at)


def test_a_past_day_closes_without_a_reason(state: RoomState, policy: Policy) -> None:
    yesterday = DAY.replace(day=24)
    days.close_day(Tx(state), policy, yesterday, NOON, STAFF)
    assert state.days[yesterday].state is DayState.CLOSED


def test_a_day_to_come_cannot_be_closed(state: RoomState, policy: Policy) -> None:
    before = snapshot(state)
    with pytest.raises(Conflict, match="has not come"):
        days.close_day(Tx(state), policy, DAY.replace(day=26), EVENING, STAFF, "libur nasional")
    assert snapshot(state) == before


def test_a_second_close_says_so_plainly(state: RoomState, policy: Policy) -> None:
    days.close_day(Tx(state), policy, DAY, EVENING, STAFF)
    with pytest.raises(Conflict) as caught:
        days.close_day(Tx(state), policy, DAY, EVENING + minutes(1), STAFF)
    assert caught.value.message_id == "Hari ini sudah ditutup."
    assert "closed'" not in caught.value.message_en


# --- reopening ------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [None, "", "  ", "ok"])
def test_reopen_needs_a_reason(state: RoomState, policy: Policy, reason: str | None) -> None:
    days.close_day(Tx(state), policy, DAY, EVENING, STAFF)
    before = snapshot(state)
    tx = Tx(state)
    with pytest.raises(ValidationError) as caught:
        days.reopen_day(tx, DAY, EVENING + minutes(5), HEAD, reason)
    assert caught.value.field == "reason"
    assert snapshot(state) == before and tx.facts == []


def test_reopen_journals_the_reason(state: RoomState, policy: Policy) -> None:
    days.close_day(Tx(state), policy, DAY, EVENING, STAFF)
    tx = Tx(state)
    days.reopen_day(tx, DAY, EVENING + minutes(5), HEAD, " formulir kertas susulan ")
    (fact,) = tx.facts
    assert isinstance(fact, facts.DayReopened)
    assert (fact.reason, fact.actor) == ("formulir kertas susulan", HEAD)
    assert state.days[DAY].state is DayState.OPEN


def test_reopen_refused_for_an_open_or_signed_day(state: RoomState, policy: Policy) -> None:
    with pytest.raises(Conflict, match="not closed"):
        days.reopen_day(Tx(state), DAY, EVENING, HEAD, "formulir susulan")
    days.close_day(Tx(state), policy, DAY, EVENING, STAFF)
    days.sign_day(Tx(state), policy, DAY, EVENING + minutes(2), HEAD)
    before = snapshot(state)
    with pytest.raises(Conflict, match="amendment"):
        days.reopen_day(Tx(state), DAY, EVENING + minutes(3), HEAD, "formulir susulan")
    assert snapshot(state) == before


# --- out of service with an occupant ---------------------------------------------------


def test_free_facility_goes_out_without_a_question(state: RoomState, policy: Policy) -> None:
    tx = Tx(state)
    facilities.set_service(tx, policy, 1, True, T0, STAFF, "layar mati")
    assert state.facilities[1].out_of_service is True
    assert [f.KIND for f in tx.facts] == ["facility.service"]


def test_occupied_facility_is_refused_with_the_offer(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1, name="Budi Santoso")
    assert state.visits[visit.id].facility_id == 1
    before = snapshot(state)
    tx = Tx(state)
    with pytest.raises(facilities.FacilityOccupied) as caught:
        facilities.set_service(tx, policy, 1, True, T0 + minutes(5), STAFF, "layar mati")
    assert caught.value.alternatives == ("PC2", "PC3")
    assert caught.value.visit.id == visit.id
    assert "Budi Santoso" in caught.value.message_id and "PC2" in caught.value.message_id
    assert snapshot(state) == before and tx.facts == []


def test_no_free_facility_of_the_kind_refuses(state: RoomState, policy: Policy) -> None:
    visit_with_badge(state, policy, 1)
    visit_with_badge(state, policy, 2, name="Siti")
    set_fields(state, "facility", 3, out_of_service=True)
    before = snapshot(state)
    with pytest.raises(facilities.FacilityOccupied) as caught:
        facilities.set_service(Tx(state), policy, 1, True, T0 + minutes(5), STAFF)
    assert caught.value.alternatives == ()
    assert "tidak ada" in caught.value.message_id
    assert snapshot(state) == before


def test_move_is_one_step_and_the_session_follows(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1)
    decide(state, policy, DESK_PC1, uid(1), T0 + minutes(3))  # session starts at PC1
    usage = state.open_usage(visit.id)
    assert usage is not None and usage.facility_id == 1
    at = T0 + minutes(20)
    tx = Tx(state)
    facilities.set_service(tx, policy, 1, True, at, STAFF, "layar mati", move_to="PC3")
    assert [f.KIND for f in tx.facts] == [
        "usage.ended",
        "facility.left",
        "facility.assigned",
        "facility.service",
    ]
    moved = state.visits[visit.id]
    assert moved.facility_id == 3 and state.facilities[3].visit_id == visit.id
    old = state.facilities[1]
    assert (old.visit_id, old.out_of_service, old.service_note) == (None, True, "layar mati")
    assert state.usages[usage.id].ended_at == at
    # PC3 has a desk reader: the visitor taps in there; no session is made up for them.
    assert state.open_usage(visit.id) is None


def test_move_to_a_desk_without_a_reader_continues_the_session(
    state: RoomState, policy: Policy
) -> None:
    set_fields(state, "facility", 3, reader=None)
    visit = visit_with_badge(state, policy, 1)
    visits.staff_usage(Tx(state), policy, state.visits[visit.id], True, T0 + minutes(2), STAFF)
    facilities.set_service(Tx(state), policy, 1, True, T0 + minutes(9), STAFF, move_to="PC3")
    usage = state.open_usage(visit.id)
    assert usage is not None and (usage.facility_id, usage.started_by) == (3, "staff")


@pytest.mark.parametrize(
    ("target", "error"),
    [("PC9", NotFound), ("LD1", Conflict), ("PC1", Conflict), ("PC2", Conflict)],
)
def test_a_bad_target_changes_nothing(
    state: RoomState, policy: Policy, target: str, error: type[Exception]
) -> None:
    visit_with_badge(state, policy, 1)
    visit_with_badge(state, policy, 2, name="Siti")  # PC2 is taken
    before = snapshot(state)
    tx = Tx(state)
    with pytest.raises(error):
        facilities.set_service(tx, policy, 1, True, T0 + minutes(5), STAFF, move_to=target)
    assert snapshot(state) == before and tx.facts == []


def test_back_into_service_and_a_second_take_out_are_quiet(
    state: RoomState, policy: Policy
) -> None:
    facilities.set_service(Tx(state), policy, 2, True, T0, STAFF)
    tx = Tx(state)
    facilities.set_service(tx, policy, 2, True, T0 + minutes(1), STAFF)  # double click
    assert tx.facts == []
    facilities.set_service(Tx(state), policy, 2, False, T0 + minutes(2), STAFF)
    assert state.facilities[2].out_of_service is False


# --- roll call and muster --------------------------------------------------------------


def test_roll_call_names_door_and_desk_presence(state: RoomState, policy: Policy) -> None:
    at_door = visit_with_badge(state, policy, 1, name="Pintu")
    decide(state, policy, DOOR_IN, uid(1), T0 + minutes(2))
    desk_only = visit_with_badge(state, policy, 2, name="Meja")
    decide(state, policy, DESK_PC2, uid(2), T0 + minutes(4))  # followed someone in
    visit_with_badge(state, policy, 3, name="Belum masuk")  # has a badge, never tapped
    found = {p.visit.id: p for p in muster.inside(state)}
    assert set(found) == {at_door.id, desk_only.id}
    door = found[at_door.id]
    assert (door.door_at, door.desk, door.desk_only) == (T0 + minutes(2), None, False)
    desk = found[desk_only.id]
    assert desk.door_at is None and desk.desk_only
    assert desk.desk == muster.DeskPresence("PC2", DESK_PC2, T0 + minutes(4))
    # The door exit takes them off; ending the desk session takes the desk-only one off.
    decide(state, policy, DOOR_OUT, uid(1), T0 + minutes(30))
    decide(state, policy, DESK_PC2, uid(2), T0 + minutes(31))
    assert muster.inside(state) == []


def test_muster_lists_who_was_inside_and_marks_once(state: RoomState, policy: Policy) -> None:
    a = visit_with_badge(state, policy, 1, name="Ani")
    decide(state, policy, DOOR_IN, uid(1), T0 + minutes(2))
    b = visit_with_badge(state, policy, 2, name="Budi")
    decide(state, policy, DESK_PC2, uid(2), T0 + minutes(3))
    tx = Tx(state)
    started = muster.start(tx, T0 + minutes(10), STAFF)
    assert started.present == (a.id, b.id)
    assert [f.KIND for f in tx.facts] == ["muster.started"]
    # A double click on "start" gives the running muster, no second one.
    again = Tx(state)
    assert muster.start(again, T0 + minutes(10), STAFF) == started and again.facts == []
    # Ani runs out through the door: she stays on the list until she is marked.
    decide(state, policy, DOOR_OUT, uid(1), T0 + minutes(11))
    assert muster.roster(state, started) == [a.id, b.id]
    mark_tx = Tx(state)
    mark = muster.mark_safe(mark_tx, started.id, a.id, T0 + minutes(12), "warden:rina")
    assert (mark.visit_id, mark.by, mark.at) == (a.id, "warden:rina", T0 + minutes(12))
    assert [f.KIND for f in mark_tx.facts] == ["muster.safe"]
    twice = Tx(state)
    assert muster.mark_safe(twice, started.id, a.id, T0 + minutes(13), STAFF) == mark
    assert twice.facts == []
    assert set(muster.marks_of(state, started.id)) == {a.id}


def test_muster_refuses_strangers_and_ended_musters(state: RoomState, policy: Policy) -> None:
    a = visit_with_badge(state, policy, 1)
    decide(state, policy, DOOR_IN, uid(1), T0 + minutes(2))
    outsider = visit_with_badge(state, policy, 2, name="Di luar")
    started = muster.start(Tx(state), T0 + minutes(5), STAFF)
    before = snapshot(state)
    with pytest.raises(NotFound) as caught:
        muster.mark_safe(Tx(state), started.id, outsider.id, T0 + minutes(6), STAFF)
    assert caught.value.field == "visit_id"
    with pytest.raises(NotFound):
        muster.mark_safe(Tx(state), started.id + 1, a.id, T0 + minutes(6), STAFF)
    assert snapshot(state) == before
    ended = muster.end(Tx(state), started.id, T0 + minutes(20), STAFF)
    assert (ended.ended_at, ended.ended_by) == (T0 + minutes(20), STAFF)
    assert muster.active(state) is None and muster.latest(state) == ended
    with pytest.raises(Conflict, match="ended"):
        muster.mark_safe(Tx(state), started.id, a.id, T0 + minutes(21), STAFF)
    with pytest.raises(Conflict):
        muster.end(Tx(state), started.id, T0 + minutes(22), STAFF)


def test_who_comes_in_during_a_muster_joins_it(state: RoomState, policy: Policy) -> None:
    started = muster.start(Tx(state), T0, STAFF)
    assert started.present == ()
    late = visit_with_badge(state, policy, 1)
    decide(state, policy, DOOR_IN, uid(1), T0 + minutes(3))
    assert muster.roster(state, state.musters[started.id]) == [late.id]
    muster.mark_safe(Tx(state), started.id, late.id, T0 + minutes(4), STAFF)
    assert late.id in muster.marks_of(state, started.id)
