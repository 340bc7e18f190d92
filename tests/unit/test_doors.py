"""The readers' health becomes on/offline events once (not once per look, not twice
when the adapter reports it too); door tiles follow grants and manual unlocks."""

from __future__ import annotations

from datetime import timedelta

from devices.base import ReaderHealth, ReaderState
from devices.simulated import SimulatedReader
from service.config import ReaderConfig
from service.domain import facts as f
from service.domain.model import AccessEvent
from service.domain.taps import ReaderRole
from service.doors import STARTUP_GRACE_S, Doors
from tests.unit.domain_builders import T0

READERS = [
    ReaderConfig("pintu-masuk", ReaderRole.DOOR_IN, "sim:"),
    ReaderConfig("front", ReaderRole.FRONT_DESK, "sim:"),
]


def make() -> tuple[Doors, dict[str, ReaderHealth]]:
    health = {r.name: ReaderHealth(r.name) for r in READERS}
    return Doors(READERS, health, 4.0, T0), health


def test_readers_that_come_up_at_the_start_report_nothing() -> None:
    doors, health = make()
    assert doors.changes(T0) == []  # still connecting
    for h in health.values():
        h.set_state(ReaderState.ONLINE)
    assert doors.changes(T0) == []
    assert doors.changes(T0 + timedelta(seconds=1)) == []


def test_going_offline_and_back_is_reported_once_each() -> None:
    doors, health = make()
    health["front"].set_state(ReaderState.ONLINE)
    doors.changes(T0)
    health["front"].set_state(ReaderState.BACKOFF, "unplugged")
    assert doors.changes(T0) == [("front", "offline")]
    assert doors.note("front", "offline", T0) is True
    assert doors.changes(T0) == []  # journaled: not again at the next look
    health["front"].set_state(ReaderState.ONLINE)
    assert doors.changes(T0) == [("front", "online")]
    assert doors.note("front", "online", T0) is True
    assert doors.changes(T0) == []


def test_an_adapter_reporting_offline_itself_is_not_reported_twice() -> None:
    doors, health = make()
    health["pintu-masuk"].set_state(ReaderState.ONLINE)
    doors.changes(T0)
    assert doors.note("pintu-masuk", "offline", T0) is True  # OSDP said so first
    health["pintu-masuk"].set_state(ReaderState.BACKOFF)
    assert doors.changes(T0) == []
    assert doors.note("pintu-masuk", "offline", T0) is False


def test_a_reader_that_never_comes_up_is_offline_after_the_grace() -> None:
    doors, health = make()
    health["front"].set_state(ReaderState.BACKOFF, "no such device")
    assert doors.changes(T0 + timedelta(seconds=STARTUP_GRACE_S - 1)) == []
    assert doors.changes(T0 + timedelta(seconds=STARTUP_GRACE_S)) == [("front", "offline")]


def test_a_stopping_daemon_reports_nothing() -> None:
    doors, health = make()
    health["front"].set_state(ReaderState.ONLINE)
    doors.changes(T0)
    health["front"].set_state(ReaderState.STOPPED)
    assert doors.changes(T0) == []


def test_tiles_are_door_readers_only_and_follow_grants_and_unlocks() -> None:
    doors, health = make()
    health["pintu-masuk"].set_state(ReaderState.ONLINE)
    [tile] = doors.tiles(T0, [])
    assert (tile["reader"], tile["state"], tile["can_unlock"]) == ("pintu-masuk", "closed", False)
    event = AccessEvent(
        id=1, at=T0, reader="pintu-masuk", role="door_in", uid="04AA", badge_id=1,
        visit_id=1, granted=True, reason="entry", event_id="e1",
    )  # fmt: skip
    doors.note_facts([f.TapDecided(at=T0, actor="reader:pintu-masuk", event=event)])
    assert doors.tiles(T0 + timedelta(seconds=1), [])[0]["state"] == "open"
    assert doors.tiles(T0 + timedelta(seconds=5), [])[0]["state"] == "closed"
    unlocked = f.DoorUnlocked(
        at=T0 + timedelta(seconds=10), actor="officer:kepala", reader="pintu-masuk",
        seconds=4.0, reason="Tamu",
    )  # fmt: skip
    doors.note_facts([unlocked])
    [tile] = doors.tiles(T0 + timedelta(seconds=11), [SimulatedReader("pintu-masuk")])
    assert (tile["state"], tile["last_event"], tile["can_unlock"]) == ("open", "unlocked", True)
    doors.note("pintu-masuk", "forced_open", T0 + timedelta(seconds=20))
    assert doors.tiles(T0 + timedelta(seconds=21), [])[0]["state"] == "forced"
    health["pintu-masuk"].set_state(ReaderState.BACKOFF)
    assert doors.tiles(T0 + timedelta(seconds=21), [])[0]["state"] == "offline"
