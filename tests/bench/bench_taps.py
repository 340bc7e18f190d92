"""Tap decisions per second and latency, on SQLite with synchronous=FULL.

Run: .venv/bin/python tests/bench/bench_taps.py   (or `make bench`)

Prints, measured in the same run on the same disk:
- the raw sqlite3 commit rate of an equivalent write (one access-event row and one
  journal row per commit, WAL, synchronous=FULL): the ceiling for one tap per commit;
- bidroom's saturated throughput (taps submitted concurrently: group commit);
- latency p50/p99 of taps arriving at a steady 200 taps/s (open loop).
Targets (issue 2): >= 1,000 taps/s, and p99 <= 5 ms at 200 taps/s.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from service.config import parse_config
from service.domain import visits
from service.domain.identity import DocumentType
from service.domain.taps import Tap
from service.domain.tx import Tx
from service.runtime import Runtime

VISITORS = 200


def raw_sqlite_rate(folder: Path, n: int = 2000) -> float:
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE ev (id INTEGER PRIMARY KEY, at TEXT, reader TEXT, uid TEXT,"
        " granted INTEGER, reason TEXT, event_id TEXT UNIQUE)"
    )
    conn.execute(
        "CREATE TABLE journal (seq INTEGER PRIMARY KEY, at TEXT, kind TEXT,"
        " payload TEXT, prev TEXT, hash TEXT)"
    )
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO ev VALUES (?,?,?,?,?,?,?)",
            (i, "2026-11-25T02:00:00", "door", "04AABB", 1, "entry", f"e{i}"),
        )
        conn.execute(
            "INSERT INTO journal VALUES (?,?,?,?,?,?)",
            (i, "2026-11-25T02:00:00", "tap.entry", "{}" * 40, "0" * 64, "f" * 64),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def build_site(folder: Path) -> Runtime:
    config = parse_config(
        {
            "database": {"url": f"sqlite+aiosqlite:///{folder / 'bench.db'}"},
            "room": {
                "capacity": 1000,
                "opening": "00:00",
                "closing": "23:59",
                "days": [1, 2, 3, 4, 5, 6, 7],
                "deposit_slots": VISITORS,
            },
            "readers": [
                {"name": "in", "role": "door_in", "url": "sim:"},
                {"name": "out", "role": "door_out", "url": "sim:"},
            ],
        },
        folder / "bidroom.toml",
    )
    runtime = Runtime(config, start_readers=False)
    await runtime.start()
    now = datetime.now(UTC)
    for n in range(VISITORS):
        uid = f"04BE{n:010X}"

        def setup(tx: Tx, n: int = n, uid: str = uid) -> None:
            badge = visits.enroll_badge(tx, uid, f"B-{n:04d}", now, "bench")
            form = visits.Arrival(
                name=f"V{n}",
                company="PT Bench",
                doc_type=DocumentType.KTP,
                doc_masked="1571**********01",
                rules_ack=True,
                privacy_ack=True,
            )
            visit = visits.register(tx, runtime.policy, form, now, "bench")
            visits.issue_badge(tx, runtime.policy, visit, badge, now, "bench")

        await runtime.execute(setup)
    return runtime


async def throughput(runtime: Runtime, n: int = 6000, concurrency: int = 64) -> float:
    counter = itertools.count()

    async def worker(w: int) -> None:
        while (i := next(counter)) < n:
            visitor = (w * 7919 + i) % VISITORS
            reader = "in" if (i // VISITORS) % 2 == 0 else "out"
            await runtime.submit(Tap(reader, f"04BE{visitor:010X}", datetime.now(UTC), f"tp-{i}"))

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return n / (time.perf_counter() - start)


async def paced_latency(runtime: Runtime, rate: float = 200.0, n: int = 2000) -> list[float]:
    latencies: list[float] = []
    interval = 1.0 / rate
    loop = asyncio.get_running_loop()
    start = loop.time()
    pending: set[asyncio.Task[None]] = set()

    async def one(i: int) -> None:
        visitor = i % VISITORS
        reader = "in" if (i // VISITORS) % 2 == 0 else "out"
        t0 = time.perf_counter()
        await runtime.submit(Tap(reader, f"04BE{visitor:010X}", datetime.now(UTC), f"pl-{i}"))
        latencies.append((time.perf_counter() - t0) * 1000)

    for i in range(n):
        delay = start + i * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    return latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main() -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        folder = Path(tmp)
        raw = raw_sqlite_rate(folder)
        runtime = await build_site(folder)
        gc.collect()
        gc.freeze()  # the daemon's long-lived state is not garbage; keep GC pauses short
        try:
            rate = await throughput(runtime)
            commits_before = runtime.writer.commits
            lat = await paced_latency(runtime)
            commits = runtime.writer.commits - commits_before
        finally:
            await runtime.stop()
    print(f"raw sqlite3 commit rate (2 rows/commit, WAL, synchronous=FULL): {raw:8.0f} commits/s")
    print(
        f"bidroom saturated throughput (64 concurrent):                  {rate:8.0f} taps/s"
        f"  ({rate / raw:.2f} x raw)"
    )
    print(
        f"bidroom at 200 taps/s, {len(lat)} taps in {commits} commits: "
        f"p50 {statistics.median(lat):.2f} ms, p95 {pct(lat, 95):.2f} ms, "
        f"p99 {pct(lat, 99):.2f} ms, max {max(lat):.2f} ms"
    )
    print(
        f"machine load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    ok = rate >= 1000 and pct(lat, 99) <= 5.0
    print("targets (>= 1,000 taps/s; p99 <= 5 ms at 200 taps/s):", "met" if ok else "NOT met")


if __name__ == "__main__":
    asyncio.run(main())
