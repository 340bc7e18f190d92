"""MQTT readers against the real Mosquitto broker on 127.0.0.1:1883.

A test client plays the ESP32 board: it publishes its status and taps and reads
the decisions, exactly as the firmware does.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from devices.base import ReaderHealth, ReaderState
from devices.registry import DeviceContext, build_adapters
from devices.supervisor import Supervisor
from service.config import ReaderConfig
from service.domain.taps import DENY, GRANT, Decision, ReaderRole, Reason, Tap
from service.keyfile import KeyFile

pytestmark = pytest.mark.mqtt

HOST, PORT = "127.0.0.1", 1883
GRANTED_UID = "04A23B11223344"


def _broker_up() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def base() -> str:
    """A topic base of its own for every test."""
    if not _broker_up():
        msg = f"Mosquitto is not reachable on {HOST}:{PORT}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg + " (install mosquitto to run the MQTT tests)")
    return f"test-bidroom/{uuid.uuid4().hex[:10]}/readers"


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for a health change; ReaderHealth is plain data with no event to await."""
    async with asyncio.timeout(within):
        while not check():
            await asyncio.sleep(0.01)


class Desk:
    """The runtime's side of ``submit``: grants GRANTED_UID, denies the rest."""

    def __init__(self) -> None:
        self.taps: list[Tap] = []

    async def submit(self, tap: Tap) -> Decision:
        self.taps.append(tap)
        if tap.uid == GRANTED_UID:
            return Decision(True, Reason.USAGE_STARTED, GRANT)
        return Decision(False, Reason.UNKNOWN_BADGE, DENY)


class Running:
    def __init__(self, sup: Supervisor, health: dict[str, ReaderHealth]) -> None:
        self.sup = sup
        self.health = health


@asynccontextmanager
async def readers(
    tmp_path: Path, desk: Desk, base: str, names: list[str], **options: Any
) -> AsyncIterator[Running]:
    keys = KeyFile(tmp_path / "k", secrets.token_bytes(32), {})
    ctx = DeviceContext(keys=keys, token_key=keys.derive("badge-token"))
    configs = [
        ReaderConfig(n, ReaderRole.DESK, f"mqtt://{HOST}:{PORT}/{base}/{n}", options=options)
        for n in names
    ]
    (adapter,) = build_adapters(configs, ctx)  # one broker, one adapter
    health: dict[str, ReaderHealth] = {}
    sup = Supervisor(adapter, desk.submit, health, min_backoff_s=0.05, max_backoff_s=0.2)
    sup.start()
    try:
        yield Running(sup, health)
    finally:
        await sup.stop()


@asynccontextmanager
async def board(base: str, name: str) -> AsyncIterator[aiomqtt.Client]:
    """The ESP32: last will 'offline' (retained), subscribed to its decisions."""
    status = f"{base}/{name}/status"
    will = aiomqtt.Will(status, b"offline", qos=1, retain=True)
    nodelay = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
    async with aiomqtt.Client(
        HOST, PORT, will=will, identifier=f"esp32-{uuid.uuid4().hex}", socket_options=nodelay
    ) as c:
        await c.subscribe(f"{base}/{name}/decision", qos=1)
        try:
            yield c
        finally:
            await c.publish(status, b"", qos=1, retain=True)  # clear the retained status


async def next_decision(client: aiomqtt.Client, within: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            data: dict[str, Any] = json.loads(message.payload)
            return data
    raise AssertionError("no decision")


def tap_payload(uid: str, event_id: str, at: str | None = None) -> bytes:
    body: dict[str, Any] = {"uid": uid, "event_id": event_id}
    if at is not None:
        body["at"] = at
    return json.dumps(body).encode()


async def test_tap_gets_a_decision(tmp_path: Path, base: str) -> None:
    desk = Desk()
    async with board(base, "meja-01") as esp, readers(tmp_path, desk, base, ["meja-01"]) as run:
        await esp.publish(f"{base}/meja-01/status", b"online", qos=1, retain=True)
        await until(lambda: run.health["meja-01"].state is ReaderState.ONLINE)
        at = "2026-11-25T10:05:00+07:00"
        await esp.publish(
            f"{base}/meja-01/tap", tap_payload("04:a2:3b:11:22:33:44", "m1-1", at), qos=1
        )
        decision = await next_decision(esp)
        assert decision == {
            "event_id": "m1-1",
            "granted": True,
            "reason": "usage_started",
            "message": "Penggunaan fasilitas dimulai",
            "led": "green",
            "beeps": 1,
            "open_door_s": 0.0,
        }
        await esp.publish(f"{base}/meja-01/tap", tap_payload("DEADBEEF", "m1-2"), qos=1)
        denied = await next_decision(esp)
        assert (denied["event_id"], denied["granted"], denied["led"]) == ("m1-2", False, "red")
    assert [(t.reader, t.uid, t.event_id) for t in desk.taps] == [
        ("meja-01", GRANTED_UID, "m1-1"),
        ("meja-01", "DEADBEEF", "m1-2"),
    ]
    assert desk.taps[0].at == datetime(2026, 11, 25, 3, 5, tzinfo=UTC)


async def test_one_connection_serves_two_boards(tmp_path: Path, base: str) -> None:
    desk = Desk()
    async with (
        board(base, "meja-01") as one,
        board(base, "meja-02") as two,
        readers(tmp_path, desk, base, ["meja-01", "meja-02"]) as run,
    ):
        await one.publish(f"{base}/meja-01/status", b"online", qos=1, retain=True)
        await two.publish(f"{base}/meja-02/status", b"online", qos=1, retain=True)
        await until(lambda: all(h.state is ReaderState.ONLINE for h in run.health.values()))
        await two.publish(f"{base}/meja-02/tap", tap_payload(GRANTED_UID, "two-1"), qos=1)
        assert (await next_decision(two))["event_id"] == "two-1"
        await one.publish(f"{base}/meja-01/tap", tap_payload(GRANTED_UID, "one-1"), qos=1)
        assert (await next_decision(one))["event_id"] == "one-1"
    assert [t.reader for t in desk.taps] == ["meja-02", "meja-01"]


async def test_malformed_payloads_are_ignored(tmp_path: Path, base: str) -> None:
    desk = Desk()
    async with board(base, "meja-01") as esp, readers(tmp_path, desk, base, ["meja-01"]) as run:
        await esp.publish(f"{base}/meja-01/status", b"online", qos=1, retain=True)
        await until(lambda: run.health["meja-01"].state is ReaderState.ONLINE)
        topic = f"{base}/meja-01/tap"
        for bad in (
            b"{not json",
            b"\xff\xfe",
            b"[1, 2]",
            tap_payload("not-hex!", "bad-uid"),
            json.dumps({"uid": GRANTED_UID}).encode(),  # no event_id
            tap_payload(GRANTED_UID, "naive", at="2026-11-25T10:05:00"),
        ):
            await esp.publish(topic, bad, qos=1)
        await esp.publish(topic, tap_payload(GRANTED_UID, "good-1"), qos=1)
        assert (await next_decision(esp))["event_id"] == "good-1"
        assert run.health["meja-01"].failures == 0
    assert [t.event_id for t in desk.taps] == ["good-1"]


async def test_status_and_last_will_drive_health(tmp_path: Path, base: str) -> None:
    desk = Desk()
    async with readers(tmp_path, desk, base, ["pintu-01"]) as run:
        h = run.health["pintu-01"]
        _reader, writer = await raw_board_connect(f"{base}/pintu-01/status")
        try:
            async with aiomqtt.Client(HOST, PORT) as other:
                await other.publish(f"{base}/pintu-01/status", b"online", qos=1, retain=True)
            await until(lambda: h.state is ReaderState.ONLINE)
            # The board loses power: the broker publishes its last will.
            writer.transport.abort()
            await until(lambda: h.state is ReaderState.BACKOFF)
            assert h.last_error is not None and "offline" in h.last_error
        finally:
            writer.close()
            async with aiomqtt.Client(HOST, PORT) as other:
                await other.publish(f"{base}/pintu-01/status", b"", qos=1, retain=True)
        assert h.failures == 0  # the adapter itself never failed


async def raw_board_connect(will_topic: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An MQTT 3.1.1 CONNECT with a retained last will 'offline', as ESP32 firmware sends."""

    def utf8(b: bytes) -> bytes:
        return len(b).to_bytes(2, "big") + b

    flags = 0x02 | 0x04 | 0x08 | 0x20  # clean session, will, will QoS 1, will retain
    body = utf8(b"MQTT") + bytes([4, flags]) + (60).to_bytes(2, "big")
    body += utf8(f"esp32-raw-{uuid.uuid4().hex[:8]}".encode())
    body += utf8(will_topic.encode()) + utf8(b"offline")
    assert len(body) < 128
    reader, writer = await asyncio.open_connection(HOST, PORT)
    writer.write(bytes([0x10, len(body)]) + body)
    connack = await asyncio.wait_for(reader.readexactly(4), 5)
    assert connack == b"\x20\x02\x00\x00"
    return reader, writer


async def test_supervisor_reconnects_after_connection_is_dropped(tmp_path: Path, base: str) -> None:
    desk = Desk()
    client_id = f"bidroom-test-{uuid.uuid4().hex[:8]}"
    async with (
        board(base, "meja-01") as esp,
        readers(
            tmp_path, desk, base, ["meja-01"], client_id=client_id, persistent_session=False
        ) as run,
    ):
        h = run.health["meja-01"]
        await esp.publish(f"{base}/meja-01/status", b"online", qos=1, retain=True)
        await until(lambda: h.state is ReaderState.ONLINE)
        # Another connection with the same client id: the broker drops ours.
        async with aiomqtt.Client(HOST, PORT, identifier=client_id, clean_session=True):
            pass
        await until(lambda: h.failures >= 1)
        await until(lambda: h.state is ReaderState.ONLINE)
        await esp.publish(f"{base}/meja-01/tap", tap_payload(GRANTED_UID, "after"), qos=1)
        assert (await next_decision(esp))["event_id"] == "after"
    assert [t.event_id for t in desk.taps] == ["after"]


async def test_taps_sent_while_daemon_down_are_delivered(tmp_path: Path, base: str) -> None:
    desk = Desk()
    client_id = f"bidroom-test-{uuid.uuid4().hex[:8]}"
    try:
        async with board(base, "meja-01") as esp:
            await esp.publish(f"{base}/meja-01/status", b"online", qos=1, retain=True)
            async with readers(tmp_path, desk, base, ["meja-01"], client_id=client_id) as run:
                await until(lambda: run.health["meja-01"].state is ReaderState.ONLINE)
            # The daemon is down (restarting); the board sends a tap anyway.
            at = "2026-11-25T03:05:00+00:00"
            await esp.publish(f"{base}/meja-01/tap", tap_payload(GRANTED_UID, "late", at), qos=1)
            async with readers(tmp_path, desk, base, ["meja-01"], client_id=client_id):
                decision = await next_decision(esp)
            assert decision["event_id"] == "late" and decision["granted"] is True
        assert [(t.event_id, t.at.isoformat()) for t in desk.taps] == [("late", at)]
    finally:  # discard the broker's persistent session for this client id
        async with aiomqtt.Client(HOST, PORT, identifier=client_id, clean_session=True):
            pass


async def test_unreachable_broker_is_retried_with_backoff(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    keys = KeyFile(tmp_path / "k", secrets.token_bytes(32), {})
    ctx = DeviceContext(keys=keys, token_key=keys.derive("badge-token"))
    config = ReaderConfig("meja-09", ReaderRole.DESK, f"mqtt://127.0.0.1:{closed}/x/readers/m9")
    (adapter,) = build_adapters([config], ctx)
    health: dict[str, ReaderHealth] = {}
    sup = Supervisor(adapter, Desk().submit, health, min_backoff_s=0.05, max_backoff_s=0.1)
    sup.start()
    try:
        await until(lambda: health["meja-09"].failures >= 2)
        assert health["meja-09"].state is not ReaderState.ONLINE
        assert "MQTT broker" in (health["meja-09"].last_error or "")
    finally:
        await sup.stop()
