"""Tap-to-screen time: a tap posted to ``POST /api/v1/taps`` until every open status
page has the new status through Server-Sent Events.

Run: ``.venv/bin/python tests/bench/bench_sse.py [--taps 300] [--clients 20]``

The demo daemon (SQLite in a temporary folder) listens on 127.0.0.1; ``--clients``
SSE clients hold ``GET /api/v1/events`` open, as that many status boards would. One
issued badge is tapped alternately on the door-in and door-out readers, so every tap
flips the occupancy the boards show. Figures (milliseconds):

* commit  — the tap's POST until its answer (decided and committed);
* client  — tap POST sent -> one client has parsed a status event showing the new
            occupancy (one sample per client per tap);
* all     — tap POST sent -> the last of the clients has it (per tap): what the
            slowest open board waits.

Target: p99 of ``all`` at most 250 ms with 20 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, CookieJar, web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from service.demo import DEMO_PASSWORD, demo_config, demo_uid  # noqa: E402
from service.server import create_app  # noqa: E402


class Board:
    """One SSE client: remembers when each occupancy value was last shown."""

    def __init__(self) -> None:
        self.inside: int | None = None
        self.changed = asyncio.Event()
        self.seen_at: dict[int, float] = {}

    async def run(self, session: ClientSession, url: str, ready: asyncio.Event) -> None:
        async with session.get(url, timeout=ClientTimeout(total=None)) as response:
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if not line.startswith("data: "):
                    continue
                body = json.loads(line[6:])
                inside = int(body["occupancy"]["inside"])
                if inside != self.inside:
                    self.inside = inside
                    self.seen_at[inside] = time.perf_counter()
                    self.changed.set()
                ready.set()

    async def wait_for(self, inside: int, since: float) -> float:
        while not (self.inside == inside and self.seen_at.get(inside, 0.0) >= since):
            self.changed.clear()
            await self.changed.wait()
        return self.seen_at[inside] - since


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<7} n={len(ms):<5} p50={percentile(ms, 50):7.2f}  p90={percentile(ms, 90):7.2f}"
        f"  p99={percentile(ms, 99):7.2f}  max={max(ms):7.2f}  mean={statistics.fmean(ms):7.2f}"
    )


async def setup_visit(session: ClientSession, base: str) -> str:
    login = {"username": "frontoffice", "password": DEMO_PASSWORD}
    async with session.post(base + "/api/v1/login", json=login) as response:
        csrf = str((await response.json())["csrf"])
    headers = {"X-CSRF-Token": csrf}
    visit_body = {
        "name": "Bench",
        "company": "CV Bench",
        "doc_type": "sim",
        "doc_number": "000000000001",
        "rules_ack": True,
        "privacy_ack": True,
    }
    async with session.post(base + "/api/v1/visits", json=visit_body, headers=headers) as r:
        visit = await r.json()
    path = f"/api/v1/visits/{visit['id']}/badge"
    async with session.post(base + path, json={"label": "K-001"}, headers=headers) as r:
        assert r.status == 200, await r.text()
    return csrf


async def measure(base: str, taps: int, clients: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"commit": [], "client": [], "all": []}
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as session:
        csrf = await setup_visit(session, base)
        boards = [Board() for _ in range(clients)]
        readies = [asyncio.Event() for _ in boards]
        streams = [
            asyncio.create_task(b.run(session, base + "/api/v1/events", r))
            for b, r in zip(boards, readies, strict=True)
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 10)
            for n in range(taps):
                reader, expected = ("pintu-masuk", 1) if n % 2 == 0 else ("pintu-keluar", 0)
                tap = {"reader": reader, "uid": demo_uid(1), "event_id": f"bench-{n}"}
                start = time.perf_counter()
                async with session.post(
                    base + "/api/v1/taps", json=tap, headers={"X-CSRF-Token": csrf}
                ) as response:
                    decision: dict[str, Any] = await response.json()
                figures["commit"].append(time.perf_counter() - start)
                if not decision.get("granted"):
                    raise RuntimeError(f"tap {n} refused: {decision}")
                waits = await asyncio.wait_for(
                    asyncio.gather(*(b.wait_for(expected, start) for b in boards)), 5
                )
                figures["client"].extend(waits)
                figures["all"].append(max(waits))
        finally:
            for task in streams:
                task.cancel()
            await asyncio.gather(*streams, return_exceptions=True)
    return figures


async def main(taps: int, clients: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bidroom-bench-sse-") as folder:
        app = create_app(demo_config(Path(folder)), demo=True, pages=False)
        runner = web.AppRunner(app, shutdown_timeout=1.0, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            figures = await measure(base, taps, clients)
        finally:
            await runner.cleanup()
    print(f"tap-to-screen over SSE: {taps} taps, {clients} open status clients (ms)")
    for name in ("commit", "client", "all"):
        print(line(name, figures[name]))
    verdict = "OK" if percentile(figures["all"], 99) * 1000 <= 250 else "OVER TARGET"
    print(f"target p99(all) <= 250 ms: {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="tap-to-screen latency over SSE")
    parser.add_argument("--taps", type=int, default=300)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.taps, args.clients))
