"""Serial relay door strike over a pty: exact bytes, timing, unplugged relay, registry wiring."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devices.base import ReaderHealth, ReaderState
from devices.registry import DeviceContext, build_adapters
from devices.relay import SerialRelay, relay_frame
from devices.strike import StrikeWrapped
from devices.supervisor import Supervisor
from service.config import ReaderConfig
from service.domain.taps import Decision, Feedback, Led, ReaderRole, Reason, Tap
from service.keyfile import KeyFile

if TYPE_CHECKING:  # helpers come as fixtures from conftest (importlib import mode)
    from conftest import PtyLink

WaitUntil = Callable[..., Awaitable[None]]
ON_1, OFF_1 = bytes.fromhex("A00101A2"), bytes.fromhex("A00100A1")


class Wire:
    """Bytes arriving at the relay board, with the time each chunk arrived."""

    def __init__(self, link: PtyLink) -> None:
        self.link = link
        self.chunks: list[tuple[float, bytes]] = []

    def poll(self) -> bytes:
        data = self.link.read_available()
        if data:
            self.chunks.append((time.monotonic(), data))
        return b"".join(c for _, c in self.chunks)

    def arrival(self, frame: bytes) -> float:
        seen = b""
        for at, chunk in self.chunks:
            seen += chunk
            if frame in seen:
                return at
        raise AssertionError(f"{frame.hex()} never arrived")


def test_frames_for_each_channel() -> None:
    assert relay_frame(1, True) == ON_1
    assert relay_frame(1, False) == OFF_1
    assert relay_frame(2, True) == bytes.fromhex("A00201A3")
    assert relay_frame(4, False) == bytes.fromhex("A00400A4")


async def test_pulse_sends_on_then_off_after_the_time(
    pty_link: PtyLink, wait_until: WaitUntil
) -> None:
    relay = SerialRelay.from_url(f"relay+serial://{pty_link.path}?channel=1", "pintu")
    wire = Wire(pty_link)
    pulse = asyncio.create_task(relay.pulse(0.3))
    try:
        await wait_until(lambda: len(wire.poll()) >= 8, what="on and off")
    finally:
        await pulse
        await relay.close()
    assert wire.poll() == ON_1 + OFF_1
    held = wire.arrival(OFF_1) - wire.arrival(ON_1)
    assert 0.28 <= held < 0.6


async def test_cancelled_pulse_still_switches_off(pty_link: PtyLink, wait_until: WaitUntil) -> None:
    relay = SerialRelay(str(pty_link.path), channel=2)
    wire = Wire(pty_link)
    pulse = asyncio.create_task(relay.pulse(30))
    await wait_until(lambda: len(wire.poll()) >= 4, what="on")
    pulse.cancel()
    await asyncio.gather(pulse, return_exceptions=True)
    await wait_until(lambda: len(wire.poll()) >= 8, what="off")
    await relay.close()
    assert wire.poll() == bytes.fromhex("A00201A3") + bytes.fromhex("A00200A2")


class Desk:
    def __init__(self) -> None:
        self.taps: list[Tap] = []
        self.decided_at: list[float] = []
        self.health: dict[str, ReaderHealth] = {}

    async def submit(self, tap: Tap) -> Decision:
        self.taps.append(tap)
        return Decision(True, Reason.ENTRY, Feedback(Led.GREEN, open_door_s=0.2))


async def test_grant_at_a_serial_reader_pulses_its_relay_strike(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    wait_until: WaitUntil,
    pty_factory: Callable[[str], PtyLink],
) -> None:
    reader_link = pty_factory("bidroom-reader0")
    relay_link = pty_factory("bidroom-relay0")
    config = ReaderConfig(
        "pintu",
        ReaderRole.DOOR_IN,
        f"serial://{reader_link.path}",
        strike=f"relay+serial://{relay_link.path}?channel=1",
    )
    ctx = DeviceContext(keys=KeyFile.open(tmp_path / "k.key"), token_key=b"k" * 32)
    [adapter] = build_adapters([config], ctx)
    assert isinstance(adapter, StrikeWrapped)
    desk, wire = Desk(), Wire(relay_link)
    sup = Supervisor(adapter, desk.submit, desk.health, min_backoff_s=0.1)
    sup.start()
    try:
        await wait_until(lambda: desk.health["pintu"].state is ReaderState.ONLINE, what="online")
        with caplog.at_level(logging.DEBUG, logger="devices.serial_line"):
            reader_link.write(b"04A23B5C\r\n")
            await wait_until(lambda: "3B5C -> grant" in caplog.text, what="decision at reader")
            assert OFF_1 not in wire.poll()  # the reader did not wait for the pulse to end
        await wait_until(lambda: wire.poll() == ON_1 + OFF_1, what="strike pulse")
        # Unplugged relay: the tap is still decided at once; only a warning is logged.
        relay_link.unplug()
        with caplog.at_level(logging.WARNING, logger="devices.strike"):
            reader_link.write(b"A1B2C3D4\r\n")
            await wait_until(lambda: len(desk.taps) == 2, within=1.0, what="second tap")
            await wait_until(lambda: "door strike failed" in caplog.text, what="warning")
        # Replugged: the next grant pulses again.
        relay_link.plug()
        wire = Wire(relay_link)
        reader_link.write(b"0A0B0C0D\r\n")
        await wait_until(lambda: wire.poll() == ON_1 + OFF_1, what="pulse after replug")
    finally:
        await sup.stop()
        reader_link.unplug()
        relay_link.unplug()
    assert [t.uid for t in desk.taps] == ["04A23B5C", "A1B2C3D4", "0A0B0C0D"]
