"""Benchmark: a busy room's year in the database (issue 11, "A year of data").

Builds a year of working days (default 40,000 visits and about 500,000 taps, the
last 52 weeks up to yesterday) through the product's rules and writer, every day
closed, signed and sealed (see ``support/year.py``), and the month before this one
alone as the reference ("the month books as fast as today"). Both are cached under
the temporary folder, keyed by the parameters. Then it prints, each with its target:

- the real ``bidroom serve`` on the year: seconds from process start to ``/readyz``
  answering 200, and its RSS then;
- ``GET /api/v1/status`` p50/p99 over ``--requests`` requests on one keep-alive
  connection, beside a minimal aiohttp handler answering the same JSON (same run);
- the month's books (PDF, XLSX) rendered from the year database and from the
  month-only one;
- ``bidroom archive verify`` of the whole year (and of the month): wall time, peak
  RSS of the CLI process (``wait4`` rusage) and its exit status.

    .venv/bin/python tests/bench/bench_year.py [--visits 40000] [--taps 500000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.year import build, config_for, config_toml, working_days

from service.reports.render import render_books
from service.store.engine import make_engine
from tests.support.daemon import bidroom_command, free_port

VERSION = 1  # bump when the builder changes what it writes
TARGET_START_S, TARGET_RSS_MB, TARGET_STATUS_P99_MS, TARGET_VERIFY_MB = 2.0, 150.0, 20.0, 200.0
TARGET_BOOKS_RATIO = 1.25  # "as fast as today": within the noise of a shared machine


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def cached(root: Path, key: str, first: date, last: date, visits: int, taps: int) -> Path:
    """The folder holding the built database and its key file (built once per key)."""
    folder = root / key
    if (folder / "built").exists():
        print(f"{key}: cached in {folder}")
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    tally = await build(folder, first, last, visits, taps)
    seconds = time.perf_counter() - t0
    size = (folder / "bidroom.db").stat().st_size / 2**20
    print(
        f"{key}: built {tally.visits:,} visits, {tally.taps:,} taps "
        f"(refused: {tally.denied or 'none'}), {tally.sealed} days signed and sealed, "
        f"{size:,.0f} MiB, in {seconds:.0f} s"
    )
    (folder / "built").write_text(json.dumps({"visits": tally.visits, "taps": tally.taps}))
    return folder


def run_copy(folder: Path, into: Path) -> Path:
    """A working copy (the daemon and the CLI may write); its TOML config."""
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(folder, into)
    config = into / "bidroom.toml"
    config.write_text(config_toml(into), encoding="utf-8")
    return config


def cli(config: Path, *args: str) -> tuple[int, float, float, str]:
    """``bidroom --config CONFIG ARGS``: exit status, wall seconds, peak RSS MB, output.

    The peak is the process's own VmHWM, read from /proc while it runs (the rusage
    of wait4 would not do: on Linux a child's ru_maxrss starts from its parent's RSS
    at fork, and this bench has just rendered a year's books)."""
    t0 = time.perf_counter()
    peak = 0.0
    with subprocess.Popen(
        [bidroom_command(), "--config", str(config), *args],
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        assert proc.stdout is not None
        status = Path(f"/proc/{proc.pid}/status")
        chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()))  # type: ignore[union-attr]
        reader.start()
        while proc.poll() is None:
            with contextlib.suppress(OSError):
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
            time.sleep(0.05)
        reader.join()
    return (
        proc.returncode,
        time.perf_counter() - t0,
        peak,
        b"".join(chunks).decode(errors="replace"),
    )


async def get_many(base: str, path: str, n: int, headers: dict[str, str]) -> list[float]:
    """``n`` sequential GETs on one keep-alive connection; latencies in ms."""
    spans: list[float] = []
    async with aiohttp.ClientSession(base, headers=headers) as http:
        for _ in range(n):
            t0 = time.perf_counter()
            async with http.get(path) as response:
                await response.read()
                assert response.status == 200, response.status
            spans.append((time.perf_counter() - t0) * 1000)
    return spans


async def wait_ready(base: str, path: str, proc: asyncio.subprocess.Process, t0: float) -> float:
    async with aiohttp.ClientSession(base) as http:
        while time.monotonic() - t0 < 120:
            assert proc.returncode is None, "the server exited before it was ready"
            try:
                async with http.get(path, timeout=aiohttp.ClientTimeout(total=2)) as r:
                    if r.status == 200:
                        return time.monotonic() - t0
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.01)
    raise AssertionError(f"{base}{path} not ready within 120 s")


async def start(config: Path) -> tuple[asyncio.subprocess.Process, str, float, float]:
    """``bidroom serve``: the process, its URL, seconds to ``/readyz`` 200, RSS then (MB)."""
    port = free_port()
    cmd = [bidroom_command(), "--config", str(config), "serve", "--port", str(port)]
    with (config.parent / "daemon.log").open("ab") as log:
        t0 = time.monotonic()
        server = await asyncio.create_subprocess_exec(
            *cmd, cwd=config.parent, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        ready = await wait_ready(base, "/readyz", server, t0)
    except BaseException:
        await stop(server)
        raise
    return server, base, ready, rss_mb(server.pid)


async def stop(server: asyncio.subprocess.Process) -> None:
    server.terminate()
    await asyncio.wait_for(server.wait(), 30)


async def empty_start(folder: Path) -> tuple[float, float]:
    """The same site on an empty (migrated) database: start seconds and RSS."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = folder / "bidroom.toml"
    config.write_text(config_toml(folder), encoding="utf-8")
    code, _, _, out = cli(config, "db", "upgrade")
    assert code == 0, out
    server, _, ready, rss = await start(config)
    await stop(server)
    return ready, rss


async def serve_figures(config: Path, requests: int) -> dict[str, float]:
    code, _, _, out = cli(config, "token", "add", "--name", "bench", "--role", "admin",
                          "--output", str(config.parent / "admin.token"))  # fmt: skip
    assert code == 0, out
    token = (config.parent / "admin.token").read_text().strip()
    server, base, ready, start_rss = await start(config)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession(base, headers=auth) as http,
            http.get("/api/v1/status") as r,
        ):
            body = await r.read()
        (config.parent / "status.json").write_bytes(body)
        await get_many(base, "/api/v1/status", 200, auth)  # warm up
        ours = await get_many(base, "/api/v1/status", requests, auth)
        after_rss = rss_mb(server.pid)
    finally:
        await stop(server)
    ref = await reference_figures(config.parent / "status.json", requests)
    empty_ready, empty_rss = await empty_start(config.parent.parent / "empty")
    return {
        "ready_s": ready,
        "rss_mb": start_rss,
        "rss_after_mb": after_rss,
        "empty_ready_s": empty_ready,
        "empty_rss_mb": empty_rss,
        "p50": statistics.median(ours),
        "p99": pct(ours, 99),
        "ref_p50": statistics.median(ref),
        "ref_p99": pct(ref, 99),
        "body_kib": len(body) / 1024,
    }


REFERENCE = """
import json, sys
from aiohttp import web
body = json.loads(open(sys.argv[2], encoding="utf-8").read())
async def status(request):
    return web.json_response(body)
app = web.Application()
app.router.add_get("/api/v1/status", status)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


async def reference_figures(body: Path, requests: int) -> list[float]:
    """A minimal aiohttp handler answering the same status JSON (encoded per request)."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", REFERENCE, str(port), str(body)
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base, "/api/v1/status", proc, time.monotonic())
        await get_many(base, "/api/v1/status", 200, {})
        return await get_many(base, "/api/v1/status", requests, {})
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)


async def books_seconds(folder: Path, month: tuple[date, date], fmt: str, runs: int) -> float:
    config = config_for(folder)
    engine = make_engine(config.database_url)
    try:
        spans = []
        for _ in range(runs):
            t0 = time.perf_counter()
            await render_books(engine, config, month[0], month[1], fmt)
            spans.append(time.perf_counter() - t0)
        return statistics.median(spans)
    finally:
        await engine.dispose()


def months(today: date) -> tuple[date, date, tuple[date, date]]:
    """The year (52 weeks up to yesterday) and the last whole month before this one."""
    last = today - timedelta(days=1)
    first = last - timedelta(days=363)
    end = today.replace(day=1) - timedelta(days=1)
    return first, last, (end.replace(day=1), end)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=40_000)
    parser.add_argument("--taps", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench-year")
    parser.add_argument("--only-verify", action="store_true", help="skip the daemon and books")
    args = parser.parse_args()
    first, last, month = months(datetime.now(ZoneInfo("Asia/Jakarta")).date())
    days_n = len(working_days(first, last))
    per_day = args.visits / days_n
    m_visits = round(per_day * len(working_days(*month)))
    m_taps = round(args.taps / args.visits * m_visits)
    key = f"v{VERSION}-{first}-{last}-{args.visits}-{args.taps}"
    year = await cached(args.cache, f"year-{key}", first, last, args.visits, args.taps)
    mkey = f"month-v{VERSION}-{month[0]:%Y-%m}-{m_visits}-{m_taps}"
    month_db = await cached(args.cache, mkey, month[0], month[1], m_visits, m_taps)
    work = args.cache / "run"
    config = run_copy(year, work / "year")
    served = {} if args.only_verify else await serve_figures(config, args.requests)
    books = (
        {}
        if args.only_verify
        else {
            (fmt, name): await books_seconds(folder, month, fmt, args.runs)
            for fmt in ("pdf", "xlsx")
            for name, folder in (("year", year), ("month", month_db))
        }
    )
    verify = {
        name: cli(run_copy(folder, work / name), "archive", "verify")
        for name, folder in (("year", year), ("month", month_db))
    }
    report(args, first, last, month, served, books, verify)


def report(
    args: argparse.Namespace,
    first: date,
    last: date,
    month: tuple[date, date],
    s: dict[str, float],
    books: dict[tuple[str, str], float],
    verify: dict[str, tuple[int, float, float, str]],
) -> None:
    print(f"the year: {first} .. {last}, {args.visits:,} visits, ~{args.taps:,} taps")
    if s:
        serve_report(args, s)
    if books:
        books_report(args, month, books)
    verify_report(verify)
    print(f"machine load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


def serve_report(args: argparse.Namespace, s: dict[str, float]) -> None:
    print(f"  start to /readyz {s['ready_s']:6.2f} s        target <= {TARGET_START_S:.0f} s: "
          f"{verdict(s['ready_s'] <= TARGET_START_S)} (the same site on an empty database: "
          f"{s['empty_ready_s']:.2f} s)")  # fmt: skip
    print(f"  RSS after start  {s['rss_mb']:6.1f} MB       target <= {TARGET_RSS_MB:.0f} MB: "
          f"{verdict(s['rss_mb'] <= TARGET_RSS_MB)} ({s['rss_after_mb']:.1f} MB after the "
          f"status requests; empty database {s['empty_rss_mb']:.1f} MB)")  # fmt: skip
    ok = s["p99"] <= TARGET_STATUS_P99_MS
    print(f"  GET /api/v1/status ({s['body_kib']:.1f} KiB), {args.requests} requests: "
          f"p50 {s['p50']:.2f} ms, p99 {s['p99']:.2f} ms  target p99 <= "
          f"{TARGET_STATUS_P99_MS:.0f} ms: {verdict(ok)}")  # fmt: skip
    print(f"    reference (minimal aiohttp handler, same JSON): p50 {s['ref_p50']:.2f} ms, "
          f"p99 {s['ref_p99']:.2f} ms; ratio p50 {s['p50'] / s['ref_p50']:.2f}x, "
          f"p99 {s['p99'] / s['ref_p99']:.2f}x")  # fmt: skip


def books_report(
    args: argparse.Namespace, month: tuple[date, date], books: dict[tuple[str, str], float]
) -> None:
    for fmt in ("pdf", "xlsx"):
        y, m = books[(fmt, "year")], books[(fmt, "month")]
        print(f"  books {fmt} of {month[0]:%Y-%m}: year db {y:5.2f} s, month-only db {m:5.2f} s "
              f"(p50 of {args.runs}), ratio {y / m:.2f}  target <= {TARGET_BOOKS_RATIO}: "
              f"{verdict(y / m <= TARGET_BOOKS_RATIO)}")  # fmt: skip


def verify_report(verify: dict[str, tuple[int, float, float, str]]) -> None:
    for name in ("year", "month"):
        code, wall, peak, out = verify[name]
        ok = peak <= TARGET_VERIFY_MB and code == 0
        tail = out.strip().splitlines()[-1:] if code else ["intact"]
        print(f"  archive verify ({name}): {wall:6.1f} s, peak RSS {peak:6.1f} MB, exit {code} "
              f"({tail[0][:80]})  target <= {TARGET_VERIFY_MB:.0f} MB and intact: "
              f"{verdict(ok)}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
