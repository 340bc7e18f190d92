"""OSDP door readers: our control panel against libosdp's PeripheralDevice over a pty.

The reader (PD) is libosdp's own, with Secure Channel and a per-reader key; the
cable is a pty behind a stable symlink. Nothing of our adapter is mocked.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import osdp
import pytest

from devices.base import DeviceError, ReaderHealth, ReaderState
from devices.osdp import DoorEvent, OsdpBus, build, install_key
from devices.registry import DeviceContext
from devices.supervisor import Supervisor
from service.config import ReaderConfig
from service.domain.taps import DENY, Decision, Feedback, Led, ReaderRole, Reason, Tap
from service.errors import ConfigError
from service.keyfile import KeyFile

if TYPE_CHECKING:  # helpers come as fixtures from conftest (importlib import mode)
    from conftest import PdPeer, PtyLink, Rs485Bus

WaitUntil = Callable[..., Awaitable[None]]
MakeReader = Callable[..., "PdPeer"]
READER = "pintu-masuk"
GRANT_4S = Decision(True, Reason.ENTRY, Feedback(Led.GREEN, beeps=1, open_door_s=4.0))
DENIED = Decision(False, Reason.UNKNOWN_BADGE, DENY)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [t for t in set(threading.enumerate()) - before if t.is_alive() and t.name == "cp"]
    assert not leaked, f"control panel threads left running: {leaked}"


@pytest.fixture
def keys(tmp_path: Path) -> KeyFile:
    return KeyFile.open(tmp_path / "bidroom.key")


class Door:
    """What the test controls: the reader, its submit answer, what reached submit."""

    def __init__(self, link: PtyLink, keys: KeyFile, decision: Decision) -> None:
        self.link = link
        self.keys = keys
        self.decision = decision
        self.taps: list[Tap] = []
        self.events: list[DoorEvent] = []
        self.health: dict[str, ReaderHealth] = {}

    async def submit(self, tap: Tap) -> Decision:
        self.taps.append(tap)
        return self.decision

    async def on_event(self, event: DoorEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    @property
    def state(self) -> ReaderState:
        return self.health[READER].state


def device_context(keys: KeyFile, on_event: object) -> DeviceContext:
    """DeviceContext with ``on_device_event``, before and after the daemon adds that field."""
    if "on_device_event" in DeviceContext.__dataclass_fields__:
        return DeviceContext(keys=keys, token_key=b"k" * 32, on_device_event=on_event)  # type: ignore[call-arg]
    return SimpleNamespace(keys=keys, token_key=b"k" * 32, on_device_event=on_event)  # type: ignore[return-value]


@asynccontextmanager
async def running(
    door: Door, *, held_open_s: float = 30.0, url: str | None = None
) -> AsyncIterator[Supervisor]:
    config = ReaderConfig(
        READER,
        ReaderRole.DOOR_IN,
        url or f"osdp+serial://{door.link.path}?addr=1",
        options={"held_open_s": held_open_s},
    )
    [adapter] = build([config], device_context(door.keys, door.on_event))
    sup = Supervisor(adapter, door.submit, door.health, min_backoff_s=0.1, max_backoff_s=0.3)
    sup.start()
    try:
        yield sup
    finally:
        await sup.stop()


@pytest.fixture
def door(pty_link: PtyLink, keys: KeyFile) -> Door:
    keys.set_reader_key(READER, os.urandom(16))
    return Door(pty_link, keys, GRANT_4S)


@pytest.fixture
def reader(door: Door, osdp_reader: MakeReader) -> PdPeer:
    return osdp_reader(door.link.master, 1, door.keys.reader_key(READER))


def commands_of(peer: PdPeer, kind: int) -> list[dict[str, object]]:
    return [c for c in peer.drain() if c["command"] == kind]


async def test_card_read_is_a_tap_and_a_grant_pulses_the_strike(
    door: Door, reader: PdPeer, wait_until: WaitUntil
) -> None:
    async with running(door):
        await wait_until(lambda: door.state is ReaderState.ONLINE, what="reader online")
        reader.card("04A23B5C")
        await wait_until(lambda: bool(door.taps), what="tap at submit")
        assert door.taps[0].uid == "04A23B5C"
        assert door.taps[0].reader == READER
        await wait_until(lambda: bool(commands_of(reader, osdp.Command.Buzzer)), what="beep")
    [output] = commands_of(reader, osdp.Command.Output)
    assert output["output_no"] == 0
    assert output["timer_count"] == 40  # 4.0 s in 100 ms units
    [led] = commands_of(reader, osdp.Command.LED)
    assert led["on_color"] == osdp.CommandLEDColor.Green
    assert "online" in door.kinds()


async def test_deny_shows_red_and_never_opens_the_door(
    door: Door, reader: PdPeer, wait_until: WaitUntil
) -> None:
    door.decision = DENIED
    async with running(door):
        await wait_until(lambda: door.state is ReaderState.ONLINE, what="reader online")
        reader.card("04A23B5C")
        await wait_until(lambda: bool(commands_of(reader, osdp.Command.Buzzer)), what="beeps")
    [led] = commands_of(reader, osdp.Command.LED)
    assert led["on_color"] == osdp.CommandLEDColor.Red
    assert commands_of(reader, osdp.Command.Buzzer)[0]["rep_count"] == 3
    assert commands_of(reader, osdp.Command.Output) == []


async def test_a_half_read_card_is_denied_without_a_tap(
    door: Door, reader: PdPeer, wait_until: WaitUntil, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(door):
        await wait_until(lambda: door.state is ReaderState.ONLINE, what="reader online")
        reader.card("ABCD")  # 16 bits: too short for a badge UID
        await wait_until(lambda: bool(commands_of(reader, osdp.Command.Buzzer)), what="beeps")
    assert door.taps == []
    assert commands_of(reader, osdp.Command.LED)[0]["on_color"] == osdp.CommandLEDColor.Red
    assert "ABCD" not in caplog.text  # UIDs stay out of the log


@pytest.mark.parametrize("reader_key", ["wrong", "factory-default"])
async def test_reader_with_another_key_is_refused(
    door: Door, reader_key: str, osdp_reader: MakeReader, wait_until: WaitUntil
) -> None:
    if reader_key == "wrong":
        peer = osdp_reader(door.link.master, 1, os.urandom(16))
    else:
        peer = osdp_reader(door.link.master, 1, None, install_mode=True)
    try:
        async with running(door):
            await wait_until(lambda: "offline" in door.kinds(), what="reader refused")
            peer.card("04A23B5C")
            await asyncio.sleep(0.3)
            assert door.state is not ReaderState.ONLINE
            # Named as what it is on the board, not as "not answering".
            assert "Secure Channel key mismatch" in (door.health[READER].last_error or "")
    finally:
        peer.stop()
    assert door.taps == []
    assert commands_of(peer, osdp.Command.Output) == []


async def test_reader_without_installed_key_is_not_started(
    pty_link: PtyLink, keys: KeyFile, wait_until: WaitUntil
) -> None:
    door = Door(pty_link, keys, GRANT_4S)
    async with running(door):
        await wait_until(lambda: door.state is ReaderState.BACKOFF, what="refused")
    assert "bidroom reader install-key --reader pintu-masuk" in (
        door.health[READER].last_error or ""
    )


async def test_install_key_gives_the_reader_a_key_it_then_uses(
    pty_link: PtyLink, keys: KeyFile, osdp_reader: MakeReader, wait_until: WaitUntil
) -> None:
    fresh = osdp_reader(pty_link.master, 1, None, install_mode=True)
    try:
        key = await install_key(f"osdp+serial://{pty_link.path}?addr=1", 1, READER, keys)
    finally:
        fresh.stop()
    assert keys.reader_key(READER) == key
    assert len(key) == 16
    # A reader keeps the key it was given (its own flash); ours is stored in the key file.
    assert KeyFile.open(keys.path).reader_key(READER) == key
    door = Door(pty_link, keys, GRANT_4S)
    peer = osdp_reader(pty_link.master, 1, key)
    try:
        async with running(door):
            await wait_until(lambda: door.state is ReaderState.ONLINE, what="online, new key")
            peer.card("0A0B0C0D")
            await wait_until(lambda: bool(door.taps), what="tap")
    finally:
        peer.stop()


async def test_install_key_refuses_a_reader_not_in_install_mode(
    pty_link: PtyLink, keys: KeyFile, osdp_reader: MakeReader
) -> None:
    osdp_reader(pty_link.master, 1, os.urandom(16))  # already keyed, not in install mode
    with pytest.raises(DeviceError, match="install mode"):
        await install_key(f"osdp+serial://{pty_link.path}?addr=1", 1, READER, keys, wait_s=2)
    assert keys.reader_key(READER) is None


async def test_unplug_replug_recovers_and_loses_no_tap(
    door: Door, reader: PdPeer, osdp_reader: MakeReader, wait_until: WaitUntil
) -> None:
    async with running(door):
        await wait_until(lambda: door.state is ReaderState.ONLINE, what="online")
        reader.stop()
        door.link.unplug()
        await wait_until(lambda: door.state is ReaderState.BACKOFF, what="backoff on unplug")
        await wait_until(lambda: door.kinds()[-1:] == ["offline"], what="offline event")
        door.link.plug()
        again = osdp_reader(door.link.master, 1, door.keys.reader_key(READER))
        try:
            await wait_until(lambda: door.state is ReaderState.ONLINE, what="online again")
            again.card("11223344")
            await wait_until(lambda: bool(door.taps), what="tap after replug")
        finally:
            again.stop()
    assert [t.uid for t in door.taps] == ["11223344"]


async def test_reader_that_stops_answering_is_brought_back(
    door: Door, reader: PdPeer, osdp_reader: MakeReader, wait_until: WaitUntil
) -> None:
    async with running(door) as sup:
        await wait_until(lambda: door.state is ReaderState.ONLINE, what="online")
        reader.stop()  # power cut at the reader; the bus adapter stays plugged in
        await wait_until(lambda: door.state is ReaderState.BACKOFF, within=15, what="offline")
        await wait_until(lambda: "offline" in door.kinds(), what="offline event")
        assert door.health[READER].last_error == "reader not answering"  # not a key problem
        again = osdp_reader(door.link.master, 1, door.keys.reader_key(READER))
        try:
            await wait_until(lambda: door.state is ReaderState.ONLINE, within=5, what="revived")
            again.card("55667788")
            await wait_until(lambda: bool(door.taps), what="tap")
        finally:
            again.stop()
        assert sup.health[READER].failures == 0  # the port never failed: no restart needed


async def test_tamper_and_door_contact_become_door_events(
    door: Door, reader: PdPeer, wait_until: WaitUntil
) -> None:
    async with running(door, held_open_s=0.3):
        await wait_until(lambda: door.state is ReaderState.ONLINE, what="online")
        reader.door(is_open=False)
        reader.local_status(tamper=True)
        await wait_until(lambda: "tamper" in door.kinds(), what="tamper")
        reader.door(is_open=True)  # nobody was granted: forced
        await wait_until(lambda: "forced_open" in door.kinds(), what="forced open")
        await wait_until(lambda: "held_open" in door.kinds(), what="held open")
        reader.door(is_open=False)
        await wait_until(lambda: "closed" in door.kinds(), what="closed")
        door.events.clear()
        reader.card("04A23B5C")  # granted: opening the door now is no forced entry
        await wait_until(lambda: bool(commands_of(reader, osdp.Command.Output)), what="strike")
        reader.door(is_open=True)
        reader.door(is_open=False)
        await wait_until(lambda: "closed" in door.kinds(), what="closed after grant")
    assert "forced_open" not in door.kinds()
    assert all(e.reader == READER for e in door.events)


async def test_two_readers_on_one_rs485_bus(
    pty_link: PtyLink,
    keys: KeyFile,
    rs485_bus: Rs485Bus,
    osdp_reader: MakeReader,
    wait_until: WaitUntil,
) -> None:
    keys.set_reader_key("masuk", os.urandom(16))
    keys.set_reader_key("keluar", os.urandom(16))
    inside = osdp_reader(rs485_bus.drop(), 1, keys.reader_key("masuk"))
    outside = osdp_reader(rs485_bus.drop(), 2, keys.reader_key("keluar"))
    url = f"osdp+serial://{pty_link.path}"
    readers = [
        ReaderConfig("masuk", ReaderRole.DOOR_IN, f"{url}?addr=1"),
        ReaderConfig("keluar", ReaderRole.DOOR_OUT, f"{url}?addr=2&baud=115200"),
    ]
    door = Door(pty_link, keys, GRANT_4S)
    [adapter] = build(readers, device_context(keys, door.on_event))
    sup = Supervisor(adapter, door.submit, door.health, min_backoff_s=0.1)
    sup.start()
    try:
        online = (ReaderState.ONLINE, ReaderState.ONLINE)
        await wait_until(
            lambda: (door.health["masuk"].state, door.health["keluar"].state) == online
        )
        outside.card("0A0B0C0D")
        await wait_until(lambda: bool(commands_of(outside, osdp.Command.Buzzer)), what="beep")
    finally:
        await sup.stop()
    assert [(t.reader, t.uid) for t in door.taps] == [("keluar", "0A0B0C0D")]
    assert len(commands_of(outside, osdp.Command.Output)) == 1
    assert commands_of(inside, osdp.Command.Output) == []


async def test_reader_behind_a_tcp_serial_server(
    door: Door, osdp_reader: MakeReader, wait_until: WaitUntil
) -> None:
    """``osdp+socket://``: the RS-485 line reached through a serial device server."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    port = server.getsockname()[1]
    loop = asyncio.get_running_loop()
    try:
        async with running(door, url=f"osdp+socket://127.0.0.1:{port}?addr=1"):
            conn, _ = await asyncio.wait_for(loop.sock_accept(server), 5)
            with conn:
                conn.setblocking(False)
                peer = osdp_reader(conn.fileno(), 1, door.keys.reader_key(READER))
                await wait_until(lambda: door.state is ReaderState.ONLINE, what="online")
                peer.card("04A23B5C")
                await wait_until(lambda: bool(door.taps), what="tap over TCP")
                peer.stop()
    finally:
        server.close()
    assert door.taps[0].uid == "04A23B5C"


def test_readers_on_one_port_share_one_control_panel(keys: KeyFile) -> None:
    ctx = DeviceContext(keys=keys, token_key=b"k" * 32)
    readers = [
        ReaderConfig("in", ReaderRole.DOOR_IN, "osdp+serial:///dev/bidroom-osdp0?addr=1"),
        ReaderConfig("out", ReaderRole.DOOR_OUT, "osdp+serial:///dev/bidroom-osdp0?addr=2"),
        ReaderConfig("lab", ReaderRole.DOOR_IN, "osdp+socket://127.0.0.1:9001?addr=1"),
    ]
    adapters = build(readers, ctx)
    assert sorted(a.readers for a in adapters) == [("in", "out"), ("lab",)]
    assert all(isinstance(a, OsdpBus) for a in adapters)
    with pytest.raises(ConfigError, match="different addresses"):
        build([readers[0], ReaderConfig("x", ReaderRole.DOOR_IN, readers[0].url)], ctx)
    with pytest.raises(ConfigError, match="same baud"):
        build(
            [readers[0], ReaderConfig("y", ReaderRole.DOOR_IN, readers[1].url + "&baud=9600")], ctx
        )
