"""*Buka pintu* on real protocol peers: an OSDP door reader (libosdp's own
PeripheralDevice, Secure Channel, over a pty) gets its output 0 pulsed, and opening
the door then is no forced entry; a relay strike (a pty standing for the board's
USB serial port) is switched on and off. Nothing of our adapters is mocked."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import osdp
import pytest

from devices.base import DeviceError, DoorOutput, ReaderHealth, ReaderState
from devices.osdp import DoorEvent, build
from devices.registry import DeviceContext
from devices.relay import relay_frame
from devices.strike import wrap_strikes
from devices.supervisor import Supervisor
from service.config import ReaderConfig
from service.domain.taps import DENY, Decision, ReaderRole, Reason, Tap
from service.keyfile import KeyFile

if TYPE_CHECKING:  # helpers come as fixtures from conftest (importlib import mode)
    from conftest import PdPeer, PtyLink

WaitUntil = Callable[..., Awaitable[None]]
READER = "pintu-masuk"


class Door:
    def __init__(self) -> None:
        self.events: list[DoorEvent] = []
        self.health: dict[str, ReaderHealth] = {}

    async def submit(self, tap: Tap) -> Decision:
        return Decision(False, Reason.UNKNOWN_BADGE, DENY)

    async def on_event(self, event: DoorEvent) -> None:
        self.events.append(event)


@asynccontextmanager
async def running(adapter: Any, door: Door) -> AsyncIterator[Supervisor]:
    sup = Supervisor(adapter, door.submit, door.health, min_backoff_s=0.1, max_backoff_s=0.3)
    sup.start()
    try:
        yield sup
    finally:
        await sup.stop()


async def test_an_osdp_door_is_opened_by_hand_and_that_opening_is_not_forced(
    pty_link: PtyLink, osdp_reader: Callable[..., PdPeer], wait_until: WaitUntil, tmp_path: Any
) -> None:
    keys = KeyFile.open(tmp_path / "bidroom.key")
    keys.set_reader_key(READER, os.urandom(16))
    door = Door()
    config = ReaderConfig(READER, ReaderRole.DOOR_IN, f"osdp+serial://{pty_link.path}?addr=1")
    [adapter] = build([config], DeviceContext(keys, b"k" * 32, door.on_event))
    assert isinstance(adapter, DoorOutput) and adapter.can_unlock(READER)
    assert not adapter.can_unlock("pintu-lain")
    with pytest.raises(DeviceError):
        await adapter.unlock(READER, 3.0)  # not running: no output to drive
    peer = osdp_reader(pty_link.master, 1, keys.reader_key(READER))
    async with running(adapter, door):
        await wait_until(lambda: door.health[READER].state is ReaderState.ONLINE, what="online")
        peer.door(is_open=False)
        await adapter.unlock(READER, 3.0)
        got: list[dict[str, Any]] = []

        def output_seen() -> bool:
            got.extend(c for c in peer.drain() if c["command"] == osdp.Command.Output)
            return bool(got)

        await wait_until(output_seen, what="output command at the reader")
        assert (got[0]["output_no"], got[0]["timer_count"]) == (0, 30)  # 3 s in 100 ms units
        peer.door(is_open=True)
        peer.door(is_open=False)
        await wait_until(lambda: any(e.kind == "closed" for e in door.events), what="closed")
        with pytest.raises(LookupError):
            await adapter.unlock("pintu-lain", 3.0)
    assert "forced_open" not in [e.kind for e in door.events]


async def test_a_relay_strike_is_pulsed_by_hand(pty_link: PtyLink, wait_until: WaitUntil) -> None:
    door = Door()
    inner_config = ReaderConfig(
        READER, ReaderRole.DOOR_IN, "agent:", strike=f"relay+serial://{pty_link.path}?channel=2"
    )
    from devices.simulated import AgentReader

    adapter = wrap_strikes(AgentReader(READER), [inner_config])
    assert isinstance(adapter, DoorOutput) and adapter.can_unlock(READER)
    async with running(adapter, door):
        await adapter.unlock(READER, 0.2)
        heard = bytearray()

        def switched_off() -> bool:
            heard.extend(pty_link.read_available())
            return relay_frame(2, False) in heard

        await wait_until(switched_off, what="relay on, then off")
        assert bytes(heard).index(relay_frame(2, True)) < bytes(heard).index(relay_frame(2, False))


async def test_an_unplugged_relay_is_an_error_the_operator_sees(tmp_path: Any) -> None:
    config = ReaderConfig(
        READER, ReaderRole.DOOR_IN, "agent:", strike=f"relay+serial://{tmp_path / 'nothing'}"
    )
    from devices.simulated import AgentReader

    adapter = wrap_strikes(AgentReader(READER), [config])
    assert isinstance(adapter, DoorOutput)
    with pytest.raises(DeviceError):
        await adapter.unlock(READER, 1.0)
