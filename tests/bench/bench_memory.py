"""Benchmark: the daemon's memory after start and across 100,000 taps.

The real ``bidroom serve`` on SQLite, 20 badges on admitted visits; 100,000 door
taps (in and out) over HTTP with a device token, 20 at a time. The daemon's
resident memory (VmRSS from /proc) is read after start and every 10,000 taps.
Targets (issue 10): <= 150 MB after start, and flat (within +-10 MB) across the
100,000 taps: the idempotency memory is bounded (the most recent decisions; older
replays are answered from the database's unique event_id).

    .venv/bin/python tests/bench/bench_memory.py [--taps 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_loop import prepare, write_config

from tests.support.daemon import Daemon, free_port

CONCURRENCY = 20
TARGET_START_MB = 150.0
TARGET_DRIFT_MB = 10.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def storm(base: str, token: str, uids: list[str], total: int, pid: int) -> list[float]:
    """``total`` taps, CONCURRENCY badges at a time (each badge in, out, in, ...)."""
    samples: list[float] = []
    ids = itertools.count()
    auth = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base, headers=auth) as http:

        async def badge(uid: str, share: int) -> None:
            inside = False
            for _ in range(share):
                reader = "pintu-keluar" if inside else "pintu-masuk"
                n = next(ids)
                body = {"reader": reader, "uid": uid, "event_id": f"m-{n}"}
                async with http.post("/api/v1/taps", json=body) as response:
                    data = await response.json()
                    assert response.status == 200 and data["granted"], data
                inside = not inside
                if n % 10_000 == 0:
                    samples.append(rss_mb(pid))

        share = total // len(uids)
        await asyncio.gather(*(badge(uid, share) for uid in uids[:CONCURRENCY]))
    samples.append(rss_mb(pid))
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder)
        daemon = Daemon(config, free_port(), folder / "daemon.log")
        try:
            _admin, device, uids = await prepare(config, daemon)
            assert daemon._proc is not None
            pid = daemon._proc.pid
            started = rss_mb(pid)
            t0 = time.perf_counter()
            samples = await storm(daemon.base, device, uids, args.taps, pid)
            seconds = time.perf_counter() - t0
            # The WAL starts over after each checkpoint on the writer's thread; before
            # that fix it grew without end under a steady storm (232 to 422 MB).
            wal_mb = sum(p.stat().st_size for p in folder.glob("*-wal")) / 1e6
        finally:
            await daemon.close()
    drift = max(samples) - started
    print(f"daemon RSS after start (20 visits, badges and a device token): {started:6.1f} MB")
    print(
        f"across {args.taps:,} taps over HTTP ({args.taps / seconds:,.0f} taps/s, "
        f"{CONCURRENCY} at a time): min {min(samples):6.1f} MB, max {max(samples):6.1f} MB, "
        f"end {samples[-1]:6.1f} MB (drift {drift:+.1f} MB)"
    )
    print("RSS every 10,000 taps (MB): " + " ".join(f"{s:.1f}" for s in samples))
    print(f"WAL file at the end: {wal_mb:.1f} MB (cut back to 64 MB when it starts over)")
    print(f"machine load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    ok_start, ok_flat = started <= TARGET_START_MB, abs(drift) <= TARGET_DRIFT_MB
    print(
        f"targets (<= {TARGET_START_MB:.0f} MB after start; flat within "
        f"+-{TARGET_DRIFT_MB:.0f} MB): "
        + ("met" if ok_start and ok_flat else "NOT met")
        + ("" if ok_start else f" (start {started:.1f} MB)")
        + ("" if ok_flat else f" (drift {drift:+.1f} MB)")
    )


if __name__ == "__main__":
    asyncio.run(main())
