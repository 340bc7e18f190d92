"""Benchmark: a month of a busy room, then the month's books and visit report.

Walks a real Runtime (SQLite, injected clock) through November 2026: about 3,000
visits on the 21 working days, every visit through the front-desk, door and desk
readers. Then times each output several times and prints p50 and max.

    .venv/bin/python tests/bench/bench_reports.py [--visits 3000] [--runs 5]

Targets on the 2-core CI machine: the month's books PDF <= 3 s, CSV <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from service.reports.render import render_books, render_visit_report
from service.reports.sample import Clock, Walker, sample_config, walk_busy_day
from service.reports.verify import verify_archive
from service.runtime import Runtime

MONTH = (date(2026, 11, 1), date(2026, 11, 30))


async def build_month(folder: Path, visits: int) -> tuple[Runtime, int]:
    clock = Clock(datetime.now(UTC))
    days = [
        MONTH[0] + timedelta(days=n)
        for n in range((MONTH[1] - MONTH[0]).days + 1)
        if (MONTH[0] + timedelta(days=n)).isoweekday() <= 5
    ]
    clock.at(days[0], 7, 0)
    rt = Runtime(sample_config(folder, pcs=18, turnover_s=60), clock=clock, start_readers=False)
    await rt.start()
    walker = Walker(rt, clock)
    await walker.enroll(30)
    rng = random.Random(2026)
    taps = 0
    per_day = -(-visits // len(days))
    for n, day in enumerate(days):
        count = min(per_day, visits - n * per_day)
        if count > 0:
            taps += await walk_busy_day(walker, day, count, rng)
    return rt, taps


async def timed(label: str, runs: int, fn: Callable[[], Awaitable[bytes]]) -> None:
    spans, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        size = len(await fn())
        spans.append(time.perf_counter() - t0)
    spans.sort()
    print(
        f"{label:<32} p50 {statistics.median(spans):6.3f} s   max {spans[-1]:6.3f} s"
        f"   ({size / 1024:,.0f} KiB)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rt, taps = await build_month(Path(tmp), args.visits)
        try:
            seconds = time.perf_counter() - t0
            print(
                f"month built: {args.visits} visits, {taps} taps, "
                f"journal seq {rt.writer.head.seq}, in {seconds:.0f} s"
            )
            e, c = rt.engine, rt.config
            start, end = MONTH
            for fmt in ("pdf", "xlsx", "csv"):
                await timed(
                    f"books {fmt} (month)",
                    args.runs,
                    lambda f=fmt: render_books(e, c, start, end, f),
                )
            for fmt in ("pdf", "xlsx"):
                await timed(
                    f"visit report {fmt} (month)",
                    args.runs,
                    lambda f=fmt: render_visit_report(e, c, start, end, f),
                )
            day = date(2026, 11, 25)
            await timed(
                "books pdf (one day)", args.runs, lambda: render_books(e, c, day, day, "pdf")
            )
            t1 = time.perf_counter()
            faults = await verify_archive(e, rt.personal)
            print(
                f"{'archive verify (whole month)':<32} {time.perf_counter() - t1:6.3f} s"
                f"   ({len(faults)} faults)"
            )
        finally:
            await rt.stop()


if __name__ == "__main__":
    asyncio.run(main())
