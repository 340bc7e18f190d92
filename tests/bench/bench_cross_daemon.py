"""Benchmark: two daemons on one PostgreSQL database (a door controller, a front desk).

Two real ``bidroom serve`` processes on the same fresh PostgreSQL database. Daemon A
takes door taps over HTTP (a device token); an SSE client watches the status board
of A and of B. For each tap (one every 50 ms, a badge in, out, in, ...) it measures
how long after A answered the tap (committed) the board of A, and the board of B,
show the new occupancy: B hears A's commit by LISTEN/NOTIFY and reloads. Then both
daemons take door taps at once (20 connections each, disjoint badges) for a while:
each one's taps/s, the combined figure, against A alone in the same run.

Target (issue 11): a tap on one daemon shows on the other's board within 100 ms p99.

    .venv/bin/python tests/bench/bench_cross_daemon.py [--taps 300] [--seconds 10]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, database ``test``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_loop import prepare, write_config

from tests.support.daemon import Daemon, free_port

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
TARGET_MS = 100.0
PACE_S = 0.05
CONNECTIONS = 20


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Board:
    """An SSE client on one daemon's status stream: when each occupancy was first seen."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.seen: list[tuple[float, int]] = []
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        while not self.seen:
            await asyncio.sleep(0.01)

    async def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with (
            aiohttp.ClientSession(self.base, headers=headers, timeout=timeout) as http,
            http.get("/api/v1/events") as response,
        ):
            async for raw in response.content:
                line = raw.decode().strip()
                if line.startswith("data:"):
                    body = json.loads(line[5:])
                    inside = body.get("occupancy", {}).get("inside")
                    if inside is not None and (not self.seen or self.seen[-1][1] != inside):
                        self.seen.append((time.perf_counter(), inside))
                        self.changed.set()

    async def until(self, inside: int, since: int, within_s: float = 5.0) -> float | None:
        """The time the board first showed ``inside`` at or after index ``since``."""
        deadline = time.perf_counter() + within_s
        while True:
            for at, value in self.seen[since:]:
                if value == inside:
                    return at
            if time.perf_counter() > deadline:
                return None
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 0.5)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await self._task


async def delays(
    a: Daemon, device: str, uid: str, boards: dict[str, Board], taps: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in boards}
    missed: dict[str, int] = dict.fromkeys(boards, 0)
    auth = {"Authorization": f"Bearer {device}"}
    inside = False
    base_inside = boards["A"].seen[-1][1]
    async with aiohttp.ClientSession(a.base, headers=auth) as http:
        for n in range(taps):
            marks = {name: len(b.seen) for name, b in boards.items()}
            reader = "pintu-keluar" if inside else "pintu-masuk"
            body = {"reader": reader, "uid": uid, "event_id": f"x-{n}"}
            async with http.post("/api/v1/taps", json=body) as response:
                data = await response.json()
                answered = time.perf_counter()
            assert response.status == 200 and data["granted"], data
            inside = not inside
            want = base_inside + (1 if inside else 0)
            for name, board in boards.items():
                at = await board.until(want, marks[name])
                if at is None:
                    missed[name] += 1
                else:
                    out[name].append((at - answered) * 1000)
            await asyncio.sleep(PACE_S)
    for name, count in missed.items():
        if count:
            print(f"  board {name}: {count} taps never shown within 5 s")
    return out


async def storm(base: str, device: str, uids: list[str], seconds: float, tag: str) -> int:
    done = 0
    ids = itertools.count()
    stop = time.perf_counter() + seconds
    auth = {"Authorization": f"Bearer {device}"}
    async with aiohttp.ClientSession(base, headers=auth) as http:

        async def one(uid: str) -> None:
            nonlocal done
            inside = False
            while time.perf_counter() < stop:
                reader = "pintu-keluar" if inside else "pintu-masuk"
                body = {"reader": reader, "uid": uid, "event_id": f"{tag}-{next(ids)}"}
                async with http.post("/api/v1/taps", json=body) as response:
                    data = await response.json()
                assert response.status == 200, data
                inside = not inside if data["granted"] else inside
                done += 1

        await asyncio.gather(*(one(uid) for uid in uids))
    return done


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    name = f"bidroom_bench_{os.getpid()}"
    admin_conn = await asyncpg.connect(database="test", **PG)
    await admin_conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            config = write_config(folder)
            text = config.read_text().splitlines()
            config.write_text("\n".join(f'url = "{url}"' if t.startswith("url") else t
                                        for t in text) + "\n")  # fmt: skip
            a = Daemon(config, free_port(), folder / "a.log")
            b = Daemon(config, free_port(), folder / "b.log")
            try:
                admin, device, uids = await prepare(config, a)
                await b.start()
                boards = {"A": Board(a.base, admin), "B": Board(b.base, admin)}
                for board in boards.values():
                    await board.start()
                got = await delays(a, device, uids[0], boards, args.taps)
                for board in boards.values():
                    await board.stop()
                half = len(uids) // 2
                alone = await storm(a.base, device, uids[1:half], args.seconds, "alone")
                both = await asyncio.gather(
                    storm(a.base, device, uids[1:half], args.seconds, "a"),
                    storm(b.base, device, uids[half:], args.seconds, "b"),
                )
            finally:
                await a.close()
                await b.close()
    finally:
        await admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin_conn.close()
    print(f"two daemons on one PostgreSQL; {args.taps} door taps on A, one every 50 ms")
    for board, values in got.items():
        print(
            f"  tap answered at A -> board of {board} shows it: n={len(values)} "
            f"p50 {statistics.median(values):6.1f} ms  p99 {pct(values, 99):6.1f} ms  "
            f"max {max(values):6.1f} ms"
        )
    p99 = pct(got["B"], 99)
    print(
        f"door taps for {args.seconds:.0f} s, {half - 1} badges per daemon: A alone "
        f"{alone / args.seconds:,.0f} taps/s; both at once A {both[0] / args.seconds:,.0f} + "
        f"B {both[1] / args.seconds:,.0f} = {sum(both) / args.seconds:,.0f} taps/s "
        f"({sum(both) / max(alone, 1):.2f}x A alone)"
    )
    print(f"machine load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(
        f"target (the other daemon's board within {TARGET_MS:.0f} ms p99): "
        + ("met" if p99 <= TARGET_MS else f"NOT met (p99 {p99:.1f} ms)")
    )


if __name__ == "__main__":
    asyncio.run(main())
