"""``sim:`` and ``agent:`` readers under the real supervisor."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devices.base import ReaderHealth, ReaderState
from devices.registry import DeviceContext, build_adapters
from devices.simulated import NOT_HEARD, simulate_tap
from devices.supervisor import Supervisor
from service.config import ReaderConfig
from service.domain.taps import GRANT, Decision, ReaderRole, Reason, Tap
from service.keyfile import KeyFile

Start = Callable[[list["ReaderConfig"], "Desk"], dict[str, ReaderHealth]]


def context(tmp_path: Path) -> DeviceContext:
    keys = KeyFile(tmp_path / "bidroom.key", secrets.token_bytes(32), {})
    return DeviceContext(keys=keys, token_key=keys.derive("badge-token"))


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for a health change; ReaderHealth is plain data with no event to await."""
    async with asyncio.timeout(within):
        while not check():
            await asyncio.sleep(0.01)


class Desk:
    """The runtime's side of ``submit``: records taps, grants every one."""

    def __init__(self) -> None:
        self.taps: list[Tap] = []

    async def submit(self, tap: Tap) -> Decision:
        self.taps.append(tap)
        return Decision(True, Reason.USAGE_STARTED, GRANT, visit_id=len(self.taps))


@pytest.fixture
async def run_readers(tmp_path: Path) -> AsyncIterator[Start]:
    supervisors: list[Supervisor] = []

    def start(readers: list[ReaderConfig], desk: Desk) -> dict[str, ReaderHealth]:
        health: dict[str, ReaderHealth] = {}
        for adapter in build_adapters(readers, context(tmp_path)):
            sup = Supervisor(adapter, desk.submit, health, min_backoff_s=0.05)
            sup.start()
            supervisors.append(sup)
        return health

    yield start
    for sup in supervisors:
        await sup.stop()


async def test_sim_reader_online_and_taps_reach_submit(run_readers: Start) -> None:
    desk = Desk()
    health = run_readers(
        [
            ReaderConfig("demo-pintu", ReaderRole.DOOR_IN, "sim:"),
            ReaderConfig("demo-meja", ReaderRole.DESK, "sim:"),
        ],
        desk,
    )
    await until(lambda: all(h.state is ReaderState.ONLINE for h in health.values()))
    at = datetime(2026, 11, 25, 3, 5, tzinfo=UTC)
    decision = await simulate_tap("demo-meja", "04:a2:3b:11:22:33:44", at=at, event_id="e-1")
    assert decision.granted and decision.reason is Reason.USAGE_STARTED
    assert [(t.reader, t.uid, t.at, t.event_id) for t in desk.taps] == [
        ("demo-meja", "04A23B11223344", at, "e-1")
    ]
    await simulate_tap("demo-pintu", "04A23B11223344")
    assert desk.taps[1].reader == "demo-pintu"
    assert desk.taps[1].event_id != desk.taps[0].event_id
    assert health["demo-meja"].last_seen is not None


async def test_stopped_sim_reader_refuses_taps(run_readers: Start) -> None:
    with pytest.raises(LookupError):
        await simulate_tap("nobody", "04A23B11")


async def test_sim_reader_stops_with_supervisor(tmp_path: Path) -> None:
    desk = Desk()
    health: dict[str, ReaderHealth] = {}
    (adapter,) = build_adapters([ReaderConfig("demo", ReaderRole.DESK, "sim:")], context(tmp_path))
    sup = Supervisor(adapter, desk.submit, health)
    sup.start()
    await until(lambda: health["demo"].state is ReaderState.ONLINE)
    await sup.stop()
    assert health["demo"].state is ReaderState.STOPPED
    with pytest.raises(LookupError):
        await simulate_tap("demo", "04A23B11")


async def test_agent_reader_follows_heartbeats(run_readers: Start) -> None:
    desk = Desk()
    reader = ReaderConfig(
        "meja-pc-01",
        ReaderRole.DESK,
        "agent:",
        options={"check_s": 0.02, "offline_after_s": 60},
    )
    health = run_readers([reader], desk)
    h = health["meja-pc-01"]
    # Never heard from: offline with a reason the status page can show.
    await until(lambda: h.state is ReaderState.BACKOFF)
    assert h.last_error == NOT_HEARD
    # A heartbeat arrives over the API.
    h.seen()
    await until(lambda: h.state is ReaderState.ONLINE)
    # 61 s of silence.
    h.last_seen = datetime.now(UTC) - timedelta(seconds=61)
    await until(lambda: h.state is ReaderState.BACKOFF)
    assert h.last_error == NOT_HEARD
    assert desk.taps == []


async def test_agent_reader_keeps_the_real_last_seen(run_readers: Start) -> None:
    reader = ReaderConfig("meja-02", ReaderRole.DESK, "agent:", options={"check_s": 0.02})
    health = run_readers([reader], Desk())
    h = health["meja-02"]
    await until(lambda: h.state is ReaderState.BACKOFF)
    heard = datetime.now(UTC) - timedelta(seconds=59)
    h.last_seen = heard
    await until(lambda: h.state is ReaderState.ONLINE)
    assert h.last_seen == heard
    # ...and so it goes offline a second later, not a minute later.
    await until(lambda: h.state is ReaderState.BACKOFF, within=3)
