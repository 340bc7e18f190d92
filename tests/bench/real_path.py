"""The real tap path for the device benches (bench_osdp.py, bench_nfc.py).

Not a benchmark itself (``make bench`` runs ``bench_*.py`` only). It gives them:

- a site on SQLite (WAL, ``synchronous=FULL``) in a temporary folder, open all day
  every day, with badges enrolled and issued to registered (admitted) visits, as
  ``bench_taps.py`` builds it, served by the real :class:`~service.runtime.Runtime`
  with its readers started (the registry, the supervisor, ``Runtime.submit``);
- :class:`Stamps`: the moments of each tap at the edges of ``Runtime.submit``
  (called, decision committed, returned), taken without changing what it does;
- the reference: a raw ``sqlite3`` durable commit of the least a tap writes (an
  access event and a journal row), timed on the same disk between the taps;
- the daemon's own logging (INFO, one-line format) into a file, as ``bidroom serve``
  writes it to journald, and the figures' formatting.
"""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.config import Config, parse_config
from service.domain import facts as f
from service.domain import visits
from service.domain.identity import DocumentType
from service.domain.taps import Decision, Tap
from service.domain.tx import Tx
from service.logs import setup_logging
from service.runtime import Runtime

TARGET_MS = 5.0  # issue 10: our share of a tap, p99


def site_config(
    folder: Path, readers: list[dict[str, Any]], visitors: int, **sections: Any
) -> Config:
    """A site in ``folder``: SQLite there, the room open all day every day."""
    data: dict[str, Any] = {
        "database": {"url": f"sqlite+aiosqlite:///{folder / 'bench.db'}"},
        "room": {
            "capacity": 1000,
            "opening": "00:00",
            "closing": "23:59",
            "days": [1, 2, 3, 4, 5, 6, 7],
            "deposit_slots": visitors,
        },
        "readers": readers,
    }
    data.update(sections)
    return parse_config(data, folder / "bidroom.toml")


async def admit(runtime: Runtime, uids: Sequence[str], labels: Sequence[str]) -> None:
    """Enrol each badge, register a visit, issue the badge to it (one commit each)."""
    now = datetime.now(UTC)
    for n, (uid, label) in enumerate(zip(uids, labels, strict=True)):

        def setup(tx: Tx, n: int = n, uid: str = uid, label: str = label) -> None:
            badge = visits.enroll_badge(tx, uid, label, now, "bench")
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


def freeze_loaded_state() -> None:
    """What ``bidroom serve`` does once started: the loaded state is no garbage."""
    gc.collect()
    gc.freeze()


@dataclass(slots=True)
class TapStamps:
    """One tap's moments on the ``clock`` of the bench (seconds)."""

    tap: Tap
    called: float
    committed: float | None = None
    returned: float | None = None
    decision: Decision | None = None
    reason: str | None = None


@dataclass
class Stamps:
    """Moments at the edges of the real ``Runtime.submit``, per tap (by event id).

    ``attach`` must run before ``runtime.start()``: the supervisor takes
    ``runtime.submit`` when it starts the readers. The wrapper awaits the real
    method and only notes the time; the commit moment comes from the writer's own
    listener (called after the commit, before the waiting tap is resumed).
    """

    clock: Callable[[], float]
    taps: dict[str, TapStamps] = field(default_factory=dict)

    def attach(self, runtime: Runtime) -> None:
        real_submit = runtime.submit

        async def submit(tap: Tap) -> Decision:
            stamps = TapStamps(tap, self.clock())
            self.taps[tap.event_id] = stamps
            decision = await real_submit(tap)
            stamps.returned = self.clock()
            stamps.decision = decision
            return decision

        runtime.submit = submit  # type: ignore[method-assign]
        runtime.writer.subscribe(self._committed)

    def _committed(self, facts: list[f.Fact]) -> None:
        at = self.clock()
        for fact in facts:
            if isinstance(fact, f.TapDecided):
                stamps = self.taps.get(fact.event.event_id)
                if stamps is not None:
                    stamps.committed = at
                    stamps.reason = fact.event.reason

    def of_reader(self, reader: str) -> list[TapStamps]:
        return [s for s in self.taps.values() if s.tap.reader == reader]


class RawCommits:
    """The reference: a raw sqlite3 durable commit of the least a tap writes.

    One access-event row and one journal row per commit, WAL, ``synchronous=FULL``,
    on the same disk as the daemon's database. ``one()`` is called between two taps
    (never while one is in flight), so the reference sees the same machine and the
    same disk at the same moments as the taps.
    """

    def __init__(self, folder: Path) -> None:
        self._conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE ev (id INTEGER PRIMARY KEY, at TEXT, reader TEXT, uid TEXT,"
            " granted INTEGER, reason TEXT, event_id TEXT UNIQUE)"
        )
        self._conn.execute(
            "CREATE TABLE journal (seq INTEGER PRIMARY KEY, at TEXT, kind TEXT,"
            " payload TEXT, prev TEXT, hash TEXT)"
        )
        self.took: list[float] = []

    def one(self) -> None:
        i = len(self.took)
        start = time.perf_counter()
        self._conn.execute("BEGIN")
        self._conn.execute(
            "INSERT INTO ev VALUES (?,?,?,?,?,?,?)",
            (i, "2026-11-25T02:00:00", "door", "04AABB", 1, "entry", f"e{i}"),
        )
        self._conn.execute(
            "INSERT INTO journal VALUES (?,?,?,?,?,?)",
            (i, "2026-11-25T02:00:00", "tap.entry", "{}" * 40, "0" * 64, "f" * 64),
        )
        self._conn.execute("COMMIT")
        self.took.append(time.perf_counter() - start)

    def close(self) -> None:
        self._conn.close()


def reference_lines(ours: Sequence[float], raw: Sequence[float]) -> str:
    return "\n".join(
        [
            "reference (same disk, one between every two taps):",
            line("raw sqlite3 commit, an event row + a journal row", raw),
            f"ours / raw commit: p50 {pct_ms(ours, 0.5) / pct_ms(raw, 0.5):.1f}x, "
            f"p99 {pct_ms(ours, 0.99) / pct_ms(raw, 0.99):.1f}x",
        ]
    )


class DaemonLog:
    """The daemon's logging (``setup_logging("INFO")``), into a file instead of stderr."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "daemon.log"
        setup_logging("INFO")
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        self._stream = self.path.open("w", encoding="utf-8")
        handler.setStream(self._stream)

    def offset(self) -> int:
        """Where the log is now: ``lines(offset)`` reads what comes after."""
        self._stream.flush()
        return self.path.stat().st_size

    def close(self) -> None:
        logging.getLogger().handlers.clear()
        self._stream.close()

    def lines(self, since: int) -> list[str]:
        with self.path.open(encoding="utf-8") as fh:
            fh.seek(since)
            return fh.read().splitlines()


def log_summary(log: DaemonLog, since: int, measured_from: int, taps: int) -> str:
    """Lines per measured tap, and every warning the daemon logged from ``since``."""
    measured = len(log.lines(measured_from))
    warnings = [
        line for line in log.lines(since) if line.startswith(("WARNING", "ERROR", "CRITICAL"))
    ]
    text = (
        f"daemon log (INFO, its one-line format, into a file): {measured} lines while "
        f"measuring, {measured / max(taps, 1):.1f} per tap; "
        f"{len(warnings)} warnings or errors in the whole run"
    )
    return "\n".join([text, *(f"  {line}" for line in warnings[:5])])


def pct_ms(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` in seconds, as milliseconds (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def line(name: str, values: Sequence[float], width: int = 48) -> str:
    return (
        f"  {name:<{width}} p50 {pct_ms(values, 0.5):7.2f}  p99 {pct_ms(values, 0.99):7.2f}  "
        f"max {max(values) * 1000:7.2f}  mean {statistics.fmean(values) * 1000:7.2f} ms"
    )


def verdict(ours: Sequence[float]) -> str:
    p99 = pct_ms(ours, 0.99)
    if p99 <= TARGET_MS:
        return f"target ours p99 <= {TARGET_MS:g} ms: met ({p99:.2f} ms)"
    return (
        f"target ours p99 <= {TARGET_MS:g} ms: NOT met, p99 {p99:.2f} ms is "
        f"{p99 - TARGET_MS:.2f} ms over"
    )


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
