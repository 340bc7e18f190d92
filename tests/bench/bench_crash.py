"""Benchmark: the crash test raised to 200 SIGKILLs, on SQLite and on PostgreSQL.

The test suite runs ``tests/integration/test_crash.py`` with 50 kills per engine (a
few minutes); this runs the very same test, unchanged, with ``BIDROOM_CRASH_KILLS``
(default 200) and prints its own summary line per engine: kills (and idle kills),
taps answered, taps resent after a kill (replayed or decided afresh), daemon start
times, and whether every answered tap is in the database exactly once with the
answered decision, nothing half-applied, and ``archive verify`` intact.

    .venv/bin/python tests/bench/bench_crash.py [--kills 200] [--seed N] [--engine sqlite]

It takes about 2.2 s per kill and engine (15 minutes for the default). PostgreSQL
must be on 127.0.0.1:5432 (trust auth, database ``test``); without it that engine is
reported as skipped.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"crash test on .*")


def run(engine: str, kills: int, seed: int | None) -> bool:
    env = dict(os.environ, BIDROOM_CRASH_KILLS=str(kills))
    if seed is not None:
        env["BIDROOM_CRASH_SEED"] = str(seed)
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "log_cli=true",
            "--log-cli-level=INFO",
            "-rs",
            f"tests/integration/test_crash.py::test_tap_storm_survives_sigkill[{engine}]",
        ],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.monotonic() - started
    out = done.stdout + done.stderr
    summary = SUMMARY.search(out)
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if " skipped" in last and " passed" not in last:
        reason = [line for line in out.splitlines() if line.startswith("SKIPPED")]
        print(f"{engine:10s} skipped: {' '.join(reason) or last}")
        return True
    ok = done.returncode == 0
    print(
        f"{engine:10s} {'PASSED' if ok else 'FAILED'} in {took:.0f} s: "
        + (summary.group(0) if summary else "(no summary line)")
    )
    if not ok:
        print("\n".join(out.splitlines()[-40:]))
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    engines = args.engine or ["sqlite", "postgresql"]
    print(f"crash test with {args.kills} SIGKILLs per engine (target: no fault, verify intact)")
    results = [run(engine, args.kills, args.seed) for engine in engines]
    print(f"machine load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("target met" if all(results) else "target NOT met")
    if not all(results):
        sys.exit(1)


if __name__ == "__main__":
    main()
