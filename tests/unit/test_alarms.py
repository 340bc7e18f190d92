"""Alarm rules: which reader events raise an alarm, repeats, acknowledgement with a
note, the manual unlock's reason, and the door tiles' states. Pure: no loop, no I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.domain import alarms
from service.domain import facts as f
from service.domain.alarms import ALARM_KINDS, EVENT_KINDS, DoorMark, door_state
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import Conflict, NotFound, ValidationError
from tests.unit.domain_builders import DOOR_IN, DOOR_OUT, STAFF, T0


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


@pytest.mark.parametrize("kind", sorted(EVENT_KINDS))
def test_every_event_is_journaled_and_only_alarm_kinds_raise_an_alarm(kind: str) -> None:
    state = RoomState()
    tx = Tx(state)
    alarm = alarms.record_device_event(tx, DOOR_IN, kind, T0)
    assert isinstance(tx.facts[0], f.DeviceEventRecorded)
    assert (tx.facts[0].reader, tx.facts[0].event, tx.facts[0].actor) == (
        DOOR_IN,
        kind,
        f"reader:{DOOR_IN}",
    )
    if kind in ALARM_KINDS:
        assert alarm is not None and alarm.kind == kind and alarm.acked_at is None
        assert alarms.open_alarms(state) == [alarm]
        assert [type(x) for x in tx.facts] == [f.DeviceEventRecorded, f.AlarmRaised]
    else:
        assert alarm is None and alarms.open_alarms(state) == []
        assert len(tx.facts) == 1


def test_an_unknown_event_is_refused_and_changes_nothing() -> None:
    state = RoomState()
    tx = Tx(state)
    with pytest.raises(ValidationError) as err:
        alarms.record_device_event(tx, DOOR_IN, "exploded", T0)
    assert "tidak dikenal" in err.value.message("id")
    assert tx.facts == [] and state.alarms == {}


def test_the_same_event_again_counts_on_the_open_alarm() -> None:
    state = RoomState()
    first = alarms.record_device_event(Tx(state), DOOR_IN, "forced_open", T0)
    again = alarms.record_device_event(Tx(state), DOOR_IN, "forced_open", T0 + seconds(30))
    assert first is not None and again is not None
    assert again.id == first.id and again.repeats == 1 and again.last_at == T0 + seconds(30)
    # Another kind, or another reader, is another alarm.
    other = alarms.record_device_event(Tx(state), DOOR_IN, "tamper", T0 + seconds(31))
    elsewhere = alarms.record_device_event(Tx(state), DOOR_OUT, "forced_open", T0 + seconds(32))
    assert other is not None and elsewhere is not None
    assert len({first.id, other.id, elsewhere.id}) == 3
    assert [a.id for a in alarms.open_alarms(state)] == [first.id, other.id, elsewhere.id]


def test_acknowledged_with_a_note_it_leaves_the_open_list_and_a_new_event_raises_anew() -> None:
    state = RoomState()
    raised = alarms.record_device_event(Tx(state), DOOR_IN, "forced_open", T0)
    assert raised is not None
    tx = Tx(state)
    acked = alarms.acknowledge(
        tx, raised.id, "  Dicek satpam,   pintu ditutup ", T0 + seconds(60), STAFF
    )
    assert (acked.acked_at, acked.acked_by, acked.note) == (
        T0 + seconds(60),
        STAFF,
        "Dicek satpam, pintu ditutup",
    )
    fact = tx.facts[-1]
    assert isinstance(fact, f.AlarmAcknowledged) and fact.reader == DOOR_IN
    assert alarms.open_alarms(state) == []
    fresh = alarms.record_device_event(Tx(state), DOOR_IN, "forced_open", T0 + seconds(90))
    assert fresh is not None and fresh.id != raised.id and fresh.repeats == 0


@pytest.mark.parametrize("note", ["", "  ", "ok", "x" * (alarms.NOTE_MAX + 1)])
def test_acknowledging_needs_a_real_note(note: str) -> None:
    state = RoomState()
    raised = alarms.record_device_event(Tx(state), DOOR_IN, "tamper", T0)
    assert raised is not None
    tx = Tx(state)
    with pytest.raises(ValidationError) as err:
        alarms.acknowledge(tx, raised.id, note, T0, STAFF)
    assert err.value.field == "note"
    assert "Catatan penanganan" in err.value.message("id")
    assert tx.facts == [] and state.alarms[raised.id].acked_at is None


def test_an_alarm_is_acknowledged_once_and_an_unknown_one_is_not_found() -> None:
    state = RoomState()
    raised = alarms.record_device_event(Tx(state), DOOR_IN, "offline", T0)
    assert raised is not None
    alarms.acknowledge(Tx(state), raised.id, "Kabel dipasang lagi", T0, STAFF)
    tx = Tx(state)
    with pytest.raises(Conflict):
        alarms.acknowledge(tx, raised.id, "Kedua kali", T0, "officer:budi")
    assert state.alarms[raised.id].acked_by == STAFF and tx.facts == []
    with pytest.raises(NotFound):
        alarms.acknowledge(Tx(state), 999, "Tidak ada", T0, STAFF)


def test_a_manual_unlock_needs_a_reason_and_a_sane_time() -> None:
    state = RoomState()
    fact = alarms.unlock_door(Tx(state), DOOR_IN, "Tamu difabel", 4, T0, "officer:kepala")
    assert (fact.reader, fact.reason, fact.seconds, fact.actor) == (
        DOOR_IN,
        "Tamu difabel",
        4,
        "officer:kepala",
    )
    for reason in ("", " ", "ya"):
        with pytest.raises(ValidationError) as err:
            alarms.unlock_door(Tx(state), DOOR_IN, reason, 4, T0, "officer:kepala")
        assert err.value.field == "reason"
    for bad in (0, 0.5, alarms.UNLOCK_MAX_S + 1):
        with pytest.raises(ValidationError) as err:
            alarms.unlock_door(Tx(state), DOOR_IN, "Tamu difabel", bad, T0, "officer:kepala")
        assert err.value.field == "seconds"


# -- door tiles ------------------------------------------------------------------------
def test_an_offline_reader_is_offline_whatever_its_door_did() -> None:
    assert door_state([DoorMark("forced_open", T0)], online=False, now=T0) == "offline"
    assert door_state([], online=False, now=T0) == "offline"


def test_a_door_with_no_events_is_closed() -> None:
    assert door_state([], online=True, now=T0) == "closed"


def test_forced_and_held_stay_until_the_contact_closes() -> None:
    marks = [DoorMark("forced_open", T0), DoorMark("tamper", T0 + seconds(1))]
    assert door_state(marks, True, T0 + seconds(600)) == "forced"
    marks.append(DoorMark("held_open", T0 + seconds(30)))
    assert door_state(marks, True, T0 + seconds(600)) == "held"
    marks.append(DoorMark("closed", T0 + seconds(40)))
    assert door_state(marks, True, T0 + seconds(41)) == "closed"


def test_a_grant_or_unlock_shows_open_while_the_strike_is_released() -> None:
    marks = [DoorMark("unlocked", T0, 4.0)]
    assert door_state(marks, True, T0 + seconds(3.9)) == "open"
    assert door_state(marks, True, T0 + seconds(4)) == "closed"
    granted = [DoorMark("granted", T0, 4.0)]
    assert door_state(granted, True, T0 + seconds(1)) == "open"
    # A forced door stays forced even if someone is granted through it meanwhile.
    assert door_state([DoorMark("forced_open", T0), *granted], True, T0 + seconds(1)) == "forced"


def test_marks_count_in_time_order_not_arrival_order() -> None:
    marks = [DoorMark("closed", T0 + seconds(5)), DoorMark("forced_open", T0)]
    assert door_state(marks, True, T0 + seconds(6)) == "closed"
