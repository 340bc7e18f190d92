"""Latency of the agent path, the outbox and the MQTT path (run from /work/main)."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, "tests/integration/devices")
from test_agent import READER, AgentProcess, Daemon, Server
from test_mqtt import GRANTED_UID, Desk, board, next_decision, readers, tap_payload, until

from devices.agent import Outbox
from devices.base import ReaderState
from devices.printer import QueueTicketPrint, TicketPrinter
from devices.simulated import simulate_tap
from service.domain.taps import Tap


def show(name: str, xs: list[float]) -> None:
    xs = sorted(xs)
    q = statistics.quantiles(xs, n=100)
    print(
        f"{name:<34} n={len(xs):4d}  p50={q[49] * 1e3:7.2f} ms  p99={q[98] * 1e3:7.2f} ms  max={xs[-1] * 1e3:7.2f} ms"
    )


async def agent_path(tmp: Path, n: int) -> None:
    srv = Server(Daemon())
    await srv.start()
    proc = AgentProcess(srv, tmp / "o.sqlite3")
    await proc.start()
    lat = []
    for i in range(n):
        t = time.perf_counter()
        d = await simulate_tap(READER, "04A23B11223344", event_id=f"b-{i}")
        lat.append(time.perf_counter() - t)
        assert d.granted
    await proc.stop()
    await srv.stop()
    show("agent tap -> daemon -> decision", lat)


def outbox(tmp: Path, n: int) -> None:
    ob = Outbox(tmp / "ob.sqlite3")
    lat = []
    for i in range(n):
        tap = Tap(READER, "04A23B11223344", datetime.now(UTC), f"o-{i}")
        t = time.perf_counter()
        ob.add(tap)
        lat.append(time.perf_counter() - t)
    ob.close()
    show("outbox add (WAL, synchronous=FULL)", lat)


async def mqtt_path(tmp: Path, n: int) -> None:
    base = f"bench/{uuid.uuid4().hex[:8]}/readers"
    desk = Desk()
    lat = []
    async with (
        board(base, "m") as esp,
        readers(tmp, desk, base, ["m"], persistent_session=False) as run,
    ):
        await esp.publish(f"{base}/m/status", b"online", qos=1, retain=True)
        await until(lambda: run.health["m"].state is ReaderState.ONLINE)
        for i in range(n):
            t = time.perf_counter()
            await esp.publish(f"{base}/m/tap", tap_payload(GRANTED_UID, f"q-{i}"), qos=1)
            await next_decision(esp)
            lat.append(time.perf_counter() - t)
    show("mqtt tap -> decision (Mosquitto)", lat)


async def printer(n: int) -> None:
    t0 = QueueTicketPrint("PC-007", "PC Desktop", datetime.now(UTC), "LPSE Kota Jambi")
    lat = []
    async with TicketPrinter.from_url("dummy:") as p:
        for _ in range(n):
            t = time.perf_counter()
            assert await p.print_ticket(t0)
            lat.append(time.perf_counter() - t)
    show("ticket on Dummy printer", lat)


async def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        outbox(tmp, 500)
        await agent_path(tmp, 500)
        await mqtt_path(tmp, 500)
        await printer(200)


asyncio.run(main())
