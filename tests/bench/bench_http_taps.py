"""Taps over HTTP, measured from outside: ``bidroom serve`` against the minimal durable
aiohttp handler, in the same run on the same machine (issue 10).

Run: ``.venv/bin/python tests/bench/bench_http_taps.py [--duration 10] [--warmup 3]
[--rounds 1] [--generator auto|wrk|aiohttp] [--profile] [--profile-raw FILE]``   (or ``make bench``; about
75 s with the defaults, 90 s with ``--profile``)

Four servers, all pinned to one core (the load generator and this script to another),
all on 127.0.0.1:

* reference, durable — ``support/reference_server.py --commit durable``: aiohttp, the
  same JSON body parsed, one row committed per request to SQLite (WAL,
  ``synchronous=FULL``) by one writer thread the handler awaits (``run_in_executor``);
* reference, tap's rows — ``--commit rows``: the same handler committing, per request,
  the rows a door tap makes bidroom write (two journal rows, an access event, the
  visit's row) into bidroom's own tables and indexes: what our commit alone costs, with
  no rules, authentication or state (printed as information, not a target);
* reference, no commit — the same handler committing nothing: the ceiling;
* bidroom — the real ``bidroom serve`` on a site written here: room open 00:00-23:59
  every day, doors ``pintu-masuk`` (door_in) and ``pintu-keluar`` (door_out), 20
  badges issued to 20 visits, a device token from ``bidroom token add``.

Each is driven with the same load: ``POST /api/v1/taps`` with ``Authorization: Bearer``,
a unique ``event_id`` per request, each badge alternating door in / door out so every
tap is a real granted entry or exit; first a warm-up at 20 connections, then
``--duration`` seconds at 20 and at 1 connection, the four servers' runs interleaved
so the runs compared are close in time (``--rounds N`` repeats that and reports each
server's median run, for a machine that is not quiet). The generator is wrk (Debian's
``wrk``, one thread, ``support/taps.lua``) if installed, else an aiohttp client
(``support/http_load.py``); the output names it. Other processes' CPU time on the two
pinned cores is measured during every run and a disturbed run is called so.

Afterwards bidroom's database is checked: every answered tap stored (by event_id), one
journal row per access event, ``bidroom archive verify`` intact. wrk stops with taps in
flight; those are sent again with the same event_id (as a reader's outbox does), so
every tap sent is answered and the count of access events must equal the answers.

Targets (issue 10): 20 connections: bidroom / reference-durable >= 1.0 and p99 <= 25 ms;
1 connection: ratio >= 0.8; every answered tap durably committed and hash-chained.

``--profile`` adds one more 20-connection run on bidroom under ``py-spy record``
(installed into this venv for the run if missing; not a project dependency) and prints
where the tap path spends its time. Its figures are not the measured ones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.daemon import bidroom_command, free_port

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = Path(__file__).resolve().with_name("support")
DOOR_IN, DOOR_OUT = "pintu-masuk", "pintu-keluar"
BADGES = 20
CAPACITY = 30
CONNECTIONS = (20, 1)
ADMIN, PASSWORD = "admin", "rahasia-bench-panjang-1"
TAP_PATH = "/api/v1/taps"
TARGET_RATIO = {20: 1.0, 1: 0.8}
TARGET_P99_MS = {20: 25.0}
READY_S = 60.0
TICK = os.sysconf("SC_CLK_TCK")
QUIET = 0.10  # other processes' share of a pinned core above which the run is called disturbed
STOP_S = 15.0

REFERENCE_DURABLE = "reference, durable"
REFERENCE_ROWS = "reference, tap's rows"
REFERENCE_NONE = "reference, no commit"
BIDROOM = "bidroom"
SERVERS = (REFERENCE_DURABLE, REFERENCE_ROWS, REFERENCE_NONE, BIDROOM)


def badge_uid(n: int) -> str:
    return f"04B1D0{n:08X}"


def badge_label(n: int) -> str:
    return f"K-{n:03d}"


BADGE_TABLE = [(badge_uid(n), badge_label(n)) for n in range(1, BADGES + 1)]


# -- processes ------------------------------------------------------------------------
class Processes:
    """Every process the bench starts, each stopped at the end (errors and Ctrl-C too)."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        argv: Sequence[str],
        *,
        core: int | None,
        out: IO[bytes] | int | None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        pin = ["taskset", "-c", str(core)] if core is not None else []
        proc = subprocess.Popen(
            [*pin, *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out is not subprocess.PIPE else None,
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], within_s: float = STOP_S) -> int:
        """SIGTERM (a graceful stop), SIGKILL if it is still there after ``within_s``."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(within_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self._running:
            self._running.remove(proc)
        return proc.returncode

    def stop_all(self) -> None:
        for proc in reversed(self._running[:]):
            with contextlib.suppress(Exception):
                self.stop(proc, within_s=5)


def wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> float:
    """Poll ``url`` until it answers 200; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < READY_S:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}:\n{tail(log)}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(url, timeout=2) as answer,
        ):
            if answer.status == 200:
                return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {READY_S:.0f} s:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def thread_affinities(pid: int) -> tuple[int, set[int]]:
    """How many threads the process has and the union of their CPU affinities."""
    cores: set[int] = set()
    tasks = list(Path(f"/proc/{pid}/task").iterdir())
    for task in tasks:
        with contextlib.suppress(OSError):
            cores |= os.sched_getaffinity(int(task.name))
    return len(tasks), cores


def clones_so_far() -> int:
    """Processes and threads created on this machine since boot (/proc/stat)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("processes "):
            return int(line.split()[1])
    return 0


def cores_busy() -> dict[int, float]:
    """Seconds each core has run processes since boot (user, nice, system; and steal, the
    time the hypervisor gave to others). Interrupts are left out: the loopback traffic
    of the run itself is processed there (softirq), in no process's time."""
    busy: dict[int, float] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            v = [int(x) for x in values]
            busy[int(name[3:])] = (v[0] + v[1] + v[2] + v[7]) / TICK
    return busy


def cpu_times(stat: Path) -> tuple[float, float]:
    """(user, system) CPU seconds from a /proc .../stat file; (0, 0) if it is gone."""
    with contextlib.suppress(OSError):
        fields = stat.read_text().rpartition(")")[2].split()
        return int(fields[11]) / TICK, int(fields[12]) / TICK
    return 0.0, 0.0


@dataclass(frozen=True)
class ThreadCpu:
    """A process's CPU time split by thread: its main thread (the event loop), its other
    threads, and the threads that have ended (what the process total holds beyond the
    living ones)."""

    main: tuple[float, float]
    others: dict[int, tuple[float, float]]
    total: tuple[float, float]

    @classmethod
    def of(cls, pid: int) -> ThreadCpu:
        total = cpu_times(Path(f"/proc/{pid}/stat"))
        others: dict[int, tuple[float, float]] = {}
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                if int(task.name) != pid:
                    others[int(task.name)] = cpu_times(task / "stat")
        return cls(cpu_times(Path(f"/proc/{pid}/task/{pid}/stat")), others, total)


def split_cpu(before: ThreadCpu, after: ThreadCpu, taps: int) -> str:
    """CPU ms per tap: main thread, other living threads, ended threads (user+sys each)."""

    def ms(user: float, system: float) -> str:
        return f"{1000 * (user + system) / taps:.3f} ms ({1000 * system / taps:.3f} sys)"

    main = (after.main[0] - before.main[0], after.main[1] - before.main[1])
    living: list[tuple[float, float]] = []
    for tid, (user, system) in after.others.items():
        was = before.others.get(tid, (0.0, 0.0))
        living.append((user - was[0], system - was[1]))
    living_user = sum(u for u, _ in living)
    living_sys = sum(s for _, s in living)
    total = (after.total[0] - before.total[0], after.total[1] - before.total[1])
    ended = before.others.keys() - after.others.keys()
    # threads that started and ended within the run are in neither snapshot
    gone = (
        max(0.0, total[0] - main[0] - living_user),
        max(0.0, total[1] - main[1] - living_sys),
    )
    return (
        f"main thread (event loop) {ms(*main)}; its {len(after.others)} other threads "
        f"{ms(living_user, living_sys)}; threads that ended during the run"
        f"{f' ({len(ended)} of them older than the run)' if ended else ''} {ms(*gone)}"
    )


def process_cpu_s(pid: int) -> float:
    """CPU seconds the process has used (all its threads, living and ended)."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    return 0.0


def own_and_children_cpu_s() -> float:
    """CPU seconds of this script and of the children it has waited for (the generators)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- load -----------------------------------------------------------------------------
@dataclass
class Run:
    """One load run's figures, as the generator printed them."""

    server: str
    connections: int
    tag: str
    duration_s: float
    completed: int
    ok: int
    bad: int
    denied: int
    denials: dict[str, int]
    fallback: int
    unmatched: int
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    sent: list[int]
    answered: list[int]
    inside: list[int]
    clones: int = 0
    log_lines: int = 0
    server_cpu_s: float = 0.0
    cpu_split: str = ""
    others_server_core: float = 0.0  # fraction of the server's core used by other processes
    others_load_core: float = 0.0  # fraction of the generator's core used by other processes
    resent: int = 0
    resent_replayed: int = 0

    @property
    def rate(self) -> float:
        """2xx answers per second."""
        return self.ok / self.duration_s if self.duration_s else 0.0

    @property
    def cpu_ms_per_tap(self) -> float:
        return 1000 * self.server_cpu_s / self.ok if self.ok else float("nan")

    @property
    def trouble(self) -> str:
        """What went wrong in the run, if anything (empty: every tap answered 2xx, granted)."""
        parts = []
        if self.bad:
            parts.append(f"{self.bad} non-2xx answers")
        errors = {k: v for k, v in self.errors.items() if v and k != "status"}
        if errors:
            parts.append(f"socket errors {errors}")
        if self.denied:
            parts.append(f"{self.denied} taps refused {self.denials}")
        if self.unmatched:
            parts.append(f"{self.unmatched} answers naming no badge")
        if self.fallback:
            parts.append(f"{self.fallback} taps sent for a badge with a tap in flight")
        return "; ".join(parts)


class Generator:
    """wrk with taps.lua, or the aiohttp client; both print one BENCH-RESULT line."""

    def __init__(
        self, choice: str, processes: Processes, core: int | None, server_core: int | None
    ) -> None:
        wrk = shutil.which("wrk")
        if choice == "wrk" and wrk is None:
            raise SystemExit("--generator wrk: wrk is not installed (apt-get install -y wrk)")
        self.wrk = wrk if choice in ("auto", "wrk") else None
        self.processes = processes
        self.core = core
        self.server_core = server_core

    def describe(self) -> str:
        if self.wrk is not None:
            version = subprocess.run(
                [self.wrk, "--version"], capture_output=True, text=True, check=False
            ).stdout.splitlines()[0:1]
            return (
                f"wrk ({' '.join(version[0].split()[:2]) if version else self.wrk}), 1 thread, "
                f"keep-alive, Lua script {SUPPORT.relative_to(ROOT) / 'taps.lua'}"
            )
        why = "wrk not installed" if shutil.which("wrk") is None else "chosen"
        return (
            f"aiohttp client in its own process ({SUPPORT.relative_to(ROOT) / 'http_load.py'};"
            f" {why}): it costs more CPU per request than wrk, so it can cap the ceiling"
        )

    def run(
        self,
        server: str,
        server_pid: int,
        port: int,
        connections: int,
        seconds: float,
        tag: str,
        token: str,
        inside: Sequence[bool],
    ) -> Run:
        """One run; ``inside[i]``: badge i+1 is in the room (its next tap is door_out)."""
        url = f"http://127.0.0.1:{port}{TAP_PATH}"
        pairs = [
            f"{uid}={label}={'in' if where else 'out'}"
            for (uid, label), where in zip(BADGE_TABLE, inside, strict=True)
        ]
        if self.wrk is not None:
            argv = [
                self.wrk,
                "-t1",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "-s",
                str(SUPPORT / "taps.lua"),
                url,
                "--",
                tag,
                token,
                DOOR_IN,
                DOOR_OUT,
                *pairs,
            ]
        else:
            argv = [
                sys.executable,
                str(SUPPORT / "http_load.py"),
                url,
                str(connections),
                f"{seconds:g}",
                tag,
                token,
                DOOR_IN,
                DOOR_OUT,
                *pairs,
            ]
        before = clones_so_far()
        busy, server_cpu, ours = cores_busy(), process_cpu_s(server_pid), own_and_children_cpu_s()
        threads = ThreadCpu.of(server_pid)
        t0 = time.monotonic()
        proc = self.processes.start(argv, core=self.core, out=subprocess.PIPE)
        try:
            out, _ = proc.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            self.processes.stop(proc)
            raise RuntimeError(f"the load generator did not finish: {argv[:4]}") from None
        self.processes.stop(proc)
        elapsed = time.monotonic() - t0
        clones = clones_so_far() - before
        threads_after = ThreadCpu.of(server_pid)
        server_cpu = process_cpu_s(server_pid) - server_cpu
        ours = own_and_children_cpu_s() - ours
        busy = {core: s - busy.get(core, 0.0) for core, s in cores_busy().items()}
        text = out.decode(errors="replace")
        line = next((x for x in text.splitlines() if x.startswith("BENCH-RESULT ")), None)
        if proc.returncode != 0 or line is None:
            raise RuntimeError(f"the load generator failed ({proc.returncode}):\n{text}")
        data = json.loads(line.removeprefix("BENCH-RESULT "))
        data.pop("mean_ms", None)
        data["denials"] = data.get("denials") or {}
        run = Run(server=server, connections=connections, tag=tag, clones=clones, **data)
        run.server_cpu_s = server_cpu
        run.cpu_split = split_cpu(threads, threads_after, max(run.ok, 1))
        if self.server_core is not None and self.core is not None:
            run.others_server_core = max(0.0, busy[self.server_core] - server_cpu) / elapsed
            run.others_load_core = max(0.0, busy[self.core] - ours) / elapsed
        return run


def resend_cut_off(run: Run, port: int, token: str) -> None:
    """The taps wrk left in flight when it stopped, sent again with the same event_id as a
    reader's outbox does, so every tap sent is answered and each badge's state is known
    (the aiohttp generator leaves none)."""
    for b, (sent, answered) in enumerate(zip(run.sent, run.answered, strict=True)):
        if sent == answered:
            continue
        if sent != answered + 1:
            raise RuntimeError(f"run {run.tag}: badge {b + 1} has {sent - answered} unanswered")
        uid, label = BADGE_TABLE[b]
        body = {
            "reader": DOOR_OUT if run.inside[b] else DOOR_IN,
            "uid": uid,
            "event_id": f"{run.tag}-{b + 1}-{sent}",
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{TAP_PATH}",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        if answer.get("badge") != label:
            raise RuntimeError(f"resent {body['event_id']}: {answer}")
        run.answered[b] += 1
        run.resent += 1
        run.resent_replayed += bool(answer.get("replayed"))
        if answer.get("granted"):
            run.inside[b] = {"entry": 1, "exit": 0}.get(answer.get("reason"), run.inside[b])


# -- the servers ----------------------------------------------------------------------
def write_site(folder: Path) -> Path:
    """The reference servers' table of readers and badges (they answer in bidroom's shape)."""
    path = folder / "site.json"
    site = {
        "readers": [{"name": DOOR_IN, "role": "door_in"}, {"name": DOOR_OUT, "role": "door_out"}],
        "badges": [{"uid": uid, "label": label} for uid, label in BADGE_TABLE],
    }
    path.write_text(json.dumps(site), encoding="utf-8")
    return path


def write_config(folder: Path) -> Path:
    """bidroom's site: SQLite in ``folder``, open all day every day, two sim: doors."""
    text = f"""\
[database]
url = "sqlite+aiosqlite:///{folder / "bidroom.db"}"

[server]
host = "127.0.0.1"

[room]
capacity = {CAPACITY}
opening = "00:00"
closing = "23:59"
days = [1, 2, 3, 4, 5, 6, 7]

[[readers]]
name = "{DOOR_IN}"
role = "door_in"
url = "sim:"

[[readers]]
name = "{DOOR_OUT}"
role = "door_out"
url = "sim:"
"""
    path = folder / "bidroom.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One ``bidroom --config CONFIG ...`` command, as an operator types it."""
    done = subprocess.run(
        [bidroom_command(), "--config", str(config), *args],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done


async def issue_badges(base: str) -> None:
    """Log in as the admin, enrol the badges and issue each to an admitted visit."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=base, cookie_jar=jar) as http:
        csrf = ""

        async def call(path: str, body: Any, expect: int) -> Any:
            async with http.post(path, json=body, headers={"X-CSRF-Token": csrf}) as response:
                data = await response.json()
                if response.status != expect:
                    raise RuntimeError(f"POST {path}: {response.status} {data}")
                return data

        me = await call("/api/v1/login", {"username": ADMIN, "password": PASSWORD}, 200)
        csrf = me["csrf"]
        for n, (uid, label) in enumerate(BADGE_TABLE, start=1):
            await call("/api/v1/badges", {"uid": uid, "label": label}, 201)
            visit = await call(
                "/api/v1/visits",
                {
                    "name": f"Pengunjung {n}",
                    "company": f"CV Uji Beban {n}",
                    "doc_type": "passport",
                    "doc_number": f"B{2000000 + n}",
                    "rules_ack": True,
                    "privacy_ack": True,
                },
                201,
            )
            issued = await call(f"/api/v1/visits/{visit['id']}/badge", {"label": label}, 200)
            if issued["state"] != "admitted":
                raise RuntimeError(f"badge {label} not issued: {issued}")


@dataclass
class Server:
    """A running server: the reference ones answer every tap alike, bidroom keeps state."""

    name: str
    prefix: str  # of its runs' tags and so of their event ids
    proc: subprocess.Popen[bytes]
    port: int
    token: str
    log: Path
    config: Path | None = None  # bidroom's
    started_s: float = 0.0
    inside: list[bool] = field(default_factory=lambda: [False] * BADGES)
    runs: list[Run] = field(default_factory=list)

    @property
    def stateful(self) -> bool:
        return self.config is not None


def prepare_bidroom(folder: Path) -> tuple[Path, str]:
    """The config, the admin (``bidroom user add``) and the device token (``token add``)."""
    config = write_config(folder)
    (folder / "admin.pw").write_text(PASSWORD + "\n", encoding="utf-8")
    steps = [
        ("user", "add", ADMIN, "--role", "admin", "--password-file", "admin.pw"),
        (
            "token",
            "add",
            "--name",
            "bench-door",
            "--role",
            "device",
            "--output",
            "token.txt",
            "--reader",
            "pintu-masuk",
            "--reader",
            "pintu-keluar",
        ),
    ]
    for args in steps:
        done = cli(config, *args)
        if done.returncode != 0:
            raise RuntimeError(f"bidroom {' '.join(args)}: {done.returncode}\n{done.stderr}")
    token = (folder / "token.txt").read_text(encoding="utf-8").strip()
    return config, token


# -- the database check ---------------------------------------------------------------
@dataclass
class Durability:
    answered: int = 0
    stored: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    resent: int = 0
    resent_replayed: int = 0
    journal_taps: int = 0
    granted: int = 0
    verify_rc: int = -1
    verify_out: str = ""

    @property
    def intact(self) -> bool:
        return self.verify_rc == 0 and "archive intact" in self.verify_out

    @property
    def ok(self) -> bool:
        return (
            not self.missing
            and not self.unexpected
            and self.stored == self.answered
            and self.journal_taps == self.stored
            and self.intact
        )


def check_database(config: Path, runs: Sequence[Run]) -> Durability:
    """Every answered tap stored (by event_id), nothing stored that was never sent."""
    result = Durability()
    answered_ids: set[str] = set()
    sent_ids: set[str] = set()
    for run in runs:
        for b, (sent, answered) in enumerate(zip(run.sent, run.answered, strict=True), 1):
            answered_ids.update(f"{run.tag}-{b}-{n}" for n in range(1, answered + 1))
            sent_ids.update(f"{run.tag}-{b}-{n}" for n in range(1, sent + 1))
    db = sqlite3.connect(f"file:{config.parent / 'bidroom.db'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT event_id, granted FROM access_events").fetchall()
        result.journal_taps = db.execute(
            "SELECT count(*) FROM journal WHERE kind LIKE 'tap.%'"
        ).fetchone()[0]
    finally:
        db.close()
    stored = {event_id for event_id, _ in rows}
    result.answered = len(answered_ids)
    result.stored = len(rows)
    result.granted = sum(1 for _, granted in rows if granted)
    result.missing = sorted(answered_ids - stored)
    result.unexpected = sorted(stored - sent_ids) + [
        f"{k} (stored {n} times)" for k, n in Counter(e for e, _ in rows).items() if n > 1
    ]
    result.resent = sum(r.resent for r in runs)
    result.resent_replayed = sum(r.resent_replayed for r in runs)
    verify = cli(config, "archive", "verify")
    result.verify_rc = verify.returncode
    result.verify_out = (verify.stdout + verify.stderr).strip()
    return result


# -- the profile ----------------------------------------------------------------------
def py_spy() -> str | None:
    """py-spy beside this Python, installed into the venv for this run if missing."""
    beside = Path(sys.executable).with_name("py-spy")
    if not beside.exists():
        print("installing py-spy into this venv for the profile (not a project dependency)")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "py-spy"],
            check=False,
            timeout=300,
        )
    return str(beside) if beside.exists() else shutil.which("py-spy")


def function_of(frame: str) -> str:
    """``handler (service/api/app.py:88)`` -> ``handler (service/api/app.py)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def thread_kind(label: str) -> str:
    """``thread (123): Thread-727 (_connection_worker_thread)`` -> ``Thread-N (_conn...)``."""
    name = label.partition(": ")[2] or label
    return re.sub(r"\d+", "N", name)


def package_of(frame: str) -> str | None:
    """``x (sqlalchemy/engine/base.py:12)`` -> ``sqlalchemy``; bidroom's own by module."""
    where = frame.rpartition(" (")[2].rstrip(")").rsplit(":", 1)[0]
    if not where or where.startswith("<"):
        return None
    if where.startswith(("service/", "devices/", "web/")):
        return where
    return where.split("/", 1)[0].removesuffix(".py")


OURS = ("(service/", "(devices/", "(web/")
NOT_OURS = ("(service/cli.py)",)


def summarise_profile(raw: Path, top: int = 20) -> list[str]:
    """py-spy's raw (collapsed) stacks as 'top' tables."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    threads: dict[str, set[str]] = defaultdict(set)
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, *frames = stack.split(";")
        if not frames:
            continue
        samples += count
        kinds[thread_kind(thread)] += count
        threads[thread_kind(thread)].add(thread)
        own[frames[-1]] += count
        for name in {function_of(f) for f in frames}:
            total[name] += count
        for package in {package_of(f) for f in frames} - {
            None,
            "threading",
            "bidroom",
            "service/cli.py",
        }:
            packages[str(package)] += count
    if not samples:
        return ["py-spy recorded no samples"]

    def pct(n: int) -> str:
        return f"{100 * n / samples:5.1f}%"

    lines = [
        f"{samples} samples of the thread holding the GIL (so: the Python work on the core;"
        " C code that releases the GIL, such as SQLite's own work and fsync, is not in"
        f" them), seen in {sum(len(t) for t in threads.values())} threads:"
    ]
    lines += [f"  {pct(n)}  {kind} x{len(threads[kind])}" for kind, n in kinds.most_common(6)]
    lines.append(f"top {top} lines by own time (the line itself was running, or a C call on it):")
    lines += [f"  {pct(n)}  {name}" for name, n in own.most_common(top)]
    lines.append(
        f"top {top} of bidroom's functions by total time (itself and what it called; the"
        " serve command's loop, under which the main thread runs, left out):"
    )
    ours = [
        (name, n)
        for name, n in total.most_common()
        if any(o in name for o in OURS) and not name.endswith(NOT_OURS)
    ]
    lines += [f"  {pct(n)}  {name}" for name, n in ours[:top]]
    lines.append(
        "by package, bidroom's by module (a sample counts for each one on its stack; "
        "SQLAlchemy's async engine runs in greenlets whose stacks py-spy shows apart from "
        "the coroutine awaiting them, so count its cost here, not under the caller):"
    )
    lines += [f"  {pct(n)}  {name}" for name, n in packages.most_common(15)]
    return lines


def profile_bidroom(
    daemon: Server,
    generator: Generator,
    processes: Processes,
    args: argparse.Namespace,
    folder: Path,
) -> tuple[Run | None, list[str]]:
    """One more run (20 connections unless told) with py-spy recording bidroom (on the
    generator's core)."""
    spy = py_spy()
    if spy is None:
        return None, ["py-spy is not installed and could not be installed: no profile"]
    seconds = args.duration
    raw = folder / "profile.txt"
    spy_log = folder / "py-spy.log"
    with spy_log.open("wb") as log:
        recorder = processes.start(
            [
                spy,
                "record",
                "--pid",
                str(daemon.proc.pid),
                "--duration",
                f"{seconds + 2:g}",
                "--rate",
                "200",
                "--format",
                "raw",
                "--threads",
                "--gil",
                "--output",
                str(raw),
            ],
            core=generator.core,
            out=log,
        )
    time.sleep(1.0)
    if recorder.poll() is not None:
        processes.stop(recorder)
        why = tail(spy_log, 5)
        return None, [f"py-spy could not attach to bidroom (ptrace not allowed here?): {why}"]
    run = load(daemon, generator, args.profile_connections, seconds, "profile")
    with contextlib.suppress(subprocess.TimeoutExpired):
        recorder.wait(seconds + 30)
    processes.stop(recorder)
    if not raw.exists():
        return run, [f"py-spy wrote no profile ({recorder.returncode}): {tail(spy_log, 5)}"]
    kept = []
    if args.profile_raw is not None:
        shutil.copyfile(raw, args.profile_raw)
        kept = [f"py-spy's raw stacks kept in {args.profile_raw}"]
    return run, summarise_profile(raw) + kept


# -- the report -----------------------------------------------------------------------
COLUMNS = (
    f"{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'server CPU':>12}{'CPU ms/req':>12}{'others':>12}"
)
COLUMN_NOTES = (
    "  server CPU: the server process's CPU time / run time (100% = its core saturated);"
    " others: CPU used by\n  other processes (and VM steal) on the server's core / on the"
    " generator's core during the run (/proc/stat)"
)


def row(label: str, run: Run) -> str:
    others = f"{run.others_server_core:.0%}/{run.others_load_core:.0%}"
    return (
        f"  {label:<22}{run.rate:8.0f}{run.p50_ms:9.2f}{run.p99_ms:9.2f}"
        f"{run.server_cpu_s / run.duration_s:12.0%}{run.cpu_ms_per_tap:12.3f}{others:>12}"
    )


def median_run(runs: Sequence[Run]) -> Run:
    """The run with the median rate (the lower middle one for an even count)."""
    return sorted(runs, key=lambda r: r.rate)[(len(runs) - 1) // 2]


def verdicts(results: dict[tuple[str, int], Run], durability: Durability) -> list[str]:
    out = []
    for c in CONNECTIONS:
        bid, ref = results[BIDROOM, c], results[REFERENCE_DURABLE, c]
        ratio = bid.rate / ref.rate if ref.rate else 0.0
        need = TARGET_RATIO[c]
        if ratio >= need:
            out.append(f"  {c:>2} connection(s): ratio {ratio:.2f} >= {need:.1f}: met")
        else:
            out.append(
                f"  {c:>2} connection(s): ratio {ratio:.2f} >= {need:.1f}: NOT met, short by "
                f"{need - ratio:.2f} ({need * ref.rate - bid.rate:.0f} req/s more needed)"
            )
        if c in TARGET_P99_MS:
            limit = TARGET_P99_MS[c]
            if bid.p99_ms <= limit:
                out.append(
                    f"  {c:>2} connection(s): p99 {bid.p99_ms:.1f} ms <= {limit:.0f} ms: met"
                )
            else:
                out.append(
                    f"  {c:>2} connection(s): p99 {bid.p99_ms:.1f} ms <= {limit:.0f} ms: NOT met,"
                    f" {bid.p99_ms - limit:.1f} ms over"
                )
    out.append(
        "  every answered tap committed and hash-chained: "
        + ("met" if durability.ok else "NOT met (see the database check above)")
    )
    return out


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the bench like Ctrl-C does: every process it started is stopped."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def choose_cores() -> tuple[int | None, int | None, str]:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None, f"not pinned: only {len(cores)} core available to this process"
    return cores[0], cores[1], f"server on core {cores[0]}, load generator on core {cores[1]}"


def git_describe() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def start_server(
    name: str, folder: Path, site: Path, core: int | None, processes: Processes
) -> Server:
    """Start one of the four servers and wait until it answers (bidroom: set up too)."""
    port = free_port()
    log = folder / f"{name.replace(', ', '-').replace(' ', '-')}.log"
    prefix = {REFERENCE_DURABLE: "rd", REFERENCE_ROWS: "rr", REFERENCE_NONE: "rn", BIDROOM: "b"}[
        name
    ]
    config: Path | None = None
    token = "none"
    if name == BIDROOM:
        config, token = prepare_bidroom(folder)
        argv = [bidroom_command(), "--config", str(config), "serve"]
        argv += ["--host", "127.0.0.1", "--port", str(port)]
        ready_url = f"http://127.0.0.1:{port}/api/v1/openapi.json"
    else:
        commit = {REFERENCE_DURABLE: "durable", REFERENCE_ROWS: "rows"}.get(name, "none")
        argv = [sys.executable, str(SUPPORT / "reference_server.py"), "--port", str(port)]
        argv += ["--commit", commit, "--site", str(site)]
        if commit != "none":
            argv += ["--database", str(folder / f"reference-{commit}.db")]
        ready_url = f"http://127.0.0.1:{port}/health"
    with log.open("ab") as out:
        proc = processes.start(argv, core=core, out=out, cwd=folder)
    server = Server(name, prefix, proc, port, token, log, config)
    server.started_s = wait_ready(proc, ready_url, log)
    if config is not None:
        asyncio.run(issue_badges(f"http://127.0.0.1:{port}"))
    return server


def load(server: Server, generator: Generator, connections: int, seconds: float, tag: str) -> Run:
    """One run of the generator against ``server``; bidroom's unanswered taps are resent."""
    lines_before = count_lines(server.log)
    run = generator.run(
        server.name,
        server.proc.pid,
        server.port,
        connections,
        seconds,
        f"{server.prefix}{tag}",
        server.token,
        server.inside,
    )
    run.log_lines = count_lines(server.log) - lines_before
    if server.stateful:
        resend_cut_off(run, server.port, server.token)
        server.inside = [bool(x) for x in run.inside]
    server.runs.append(run)
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per server")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each (server, connections) this many times, interleaved; report the "
        "median run (for a machine that is not quiet)",
    )
    parser.add_argument("--generator", choices=["auto", "wrk", "aiohttp"], default="auto")
    parser.add_argument(
        "--profile", action="store_true", help="one more 20-connection run under py-spy"
    )
    parser.add_argument(
        "--profile-connections",
        type=int,
        default=20,
        help="with --profile: connections in the profiled run (default 20)",
    )
    parser.add_argument(
        "--profile-raw",
        type=Path,
        help="with --profile: also keep py-spy's raw collapsed stacks in this file "
        "(for flamegraph.pl, speedscope or your own sums)",
    )
    args = parser.parse_args()
    if args.profile_raw is not None:
        args.profile = True

    started = time.monotonic()
    server_core, load_core, pinning = choose_cores()
    if load_core is not None:
        os.sched_setaffinity(0, {load_core})  # this script waits beside the generator
    processes = Processes()
    generator = Generator(args.generator, processes, load_core, server_core)
    load_before = os.getloadavg()
    results: dict[tuple[str, int], list[Run]] = defaultdict(list)
    notes: list[str] = []
    profile: list[str] = []
    profiled: Run | None = None
    with (
        sigterm_as_interrupt(),
        tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp,
    ):
        folder = Path(tmp)
        site = write_site(folder)
        try:
            servers = [start_server(n, folder, site, server_core, processes) for n in SERVERS]
            for server in servers:
                load(server, generator, 20, args.warmup, "w")
            # Interleaved: the runs compared with each other are close in time.
            for round_ in range(1, args.rounds + 1):
                for c in CONNECTIONS:
                    for server in servers:
                        run = load(server, generator, c, args.duration, f"{c}r{round_}")
                        results[server.name, c].append(run)
            bidroom = servers[-1]
            if args.profile:
                profiled, profile = profile_bidroom(bidroom, generator, processes, args, folder)
            for server in servers:
                threads, cores = thread_affinities(server.proc.pid)
                notes.append(
                    f"{server.name}: {threads} threads, all on cores {sorted(cores)}; RSS "
                    f"{rss_mb(server.proc.pid):.0f} MB; answered in {server.started_s:.2f} s"
                    " after its start"
                )
            for server in servers:
                processes.stop(server.proc)
                notes += [
                    f"{server.name}, run {r.tag}: {r.trouble}" for r in server.runs if r.trouble
                ]
            notes.append(reference_rows(folder / "reference-durable.db", servers[0].runs))
            assert bidroom.config is not None
            durability = check_database(bidroom.config, bidroom.runs)
        except KeyboardInterrupt:
            print("interrupted: stopping every process the bench started", file=sys.stderr)
            raise
        finally:
            processes.stop_all()

    load_after = os.getloadavg()
    report(
        args,
        generator,
        pinning,
        results,
        durability,
        notes,
        profile,
        profiled,
        (load_before, load_after),
    )
    print(f"the bench took {time.monotonic() - started:.0f} s")
    return 0


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as f:
        return sum(1 for _ in f)


def reference_rows(database: Path, runs: Sequence[Run]) -> str:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        stored = db.execute("SELECT count(*) FROM taps").fetchone()[0]
    finally:
        db.close()
    answered = sum(r.ok for r in runs)
    return (
        f"reference, durable: {stored} rows stored for {answered} answered taps "
        f"(the rest were in flight when the generator stopped)"
    )


def report(
    args: argparse.Namespace,
    generator: Generator,
    pinning: str,
    rounds: dict[tuple[str, int], list[Run]],
    durability: Durability,
    notes: list[str],
    profile: list[str],
    profiled: Run | None,
    loads: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> None:
    results = {key: median_run(runs) for key, runs in rounds.items()}
    print(f"bidroom {git_describe()}; POST {TAP_PATH}, {BADGES} badges alternating door in/out")
    print(f"generator: {generator.describe()}")
    print(f"pinning: {pinning} (taskset); {os.cpu_count()} cores on this machine")
    print(
        f"each server: {args.warmup:g} s warm-up at 20 connections, then {args.duration:g} s "
        f"at 20 and at 1 connection{'' if args.rounds == 1 else f', {args.rounds} rounds'} "
        "(the servers' runs interleaved); SQLite WAL synchronous=FULL in "
        f"{os.environ.get('BENCH_DIR') or tempfile.gettempdir()}"
    )
    print(
        "load average (1, 5, 15 min): before "
        + ", ".join(f"{x:.2f}" for x in loads[0])
        + "; after "
        + ", ".join(f"{x:.2f}" for x in loads[1])
    )
    for c in CONNECTIONS:
        print()
        print(f"{f'{c} connection' + ('s' if c > 1 else ''):<24}{COLUMNS}")
        for server in SERVERS:
            print(row(server, results[server, c]))
        bid, ref = results[BIDROOM, c], results[REFERENCE_DURABLE, c]
        ceiling = results[REFERENCE_NONE, c]
        same = results[REFERENCE_ROWS, c]
        print(
            f"  bidroom / reference-durable: {bid.rate / ref.rate:.2f}   "
            f"(reference-durable / no-commit: {ref.rate / ceiling.rate:.2f})"
        )
        print(
            f"  bidroom / reference writing a door tap's rows: {bid.rate / same.rate:.2f}   "
            f"(that reference / reference-durable: {same.rate / ref.rate:.2f}; "
            "information, not a target)"
        )
        if args.rounds > 1:
            per_round = [
                b.rate / r.rate
                for b, r in zip(rounds[BIDROOM, c], rounds[REFERENCE_DURABLE, c], strict=True)
            ]
            print(
                "  rows above: each server's median run of "
                f"{args.rounds}; bidroom / reference-durable per round: "
                + ", ".join(f"{x:.2f}" for x in per_round)
            )
        taps = max(bid.ok, 1)
        print(
            f"  bidroom during this run: {bid.log_lines / taps:.2f} log lines per tap; "
            f"{bid.clones} threads/processes created on the machine "
            f"(reference-durable's run: {ref.clones})"
        )
        print(f"  bidroom's CPU per tap: {bid.cpu_split}")
    print(COLUMN_NOTES)
    print()
    print("bidroom's database after its runs:")
    print(
        f"  answered (2xx) taps: {durability.answered}; access events stored: "
        f"{durability.stored} ({durability.granted} granted); journal tap rows: "
        f"{durability.journal_taps}"
    )
    print(
        f"  answered but not stored: {len(durability.missing)}"
        + (f" {durability.missing[:5]}" if durability.missing else "")
        + f"; stored but never sent: {len(durability.unexpected)}"
        + (f" {durability.unexpected[:5]}" if durability.unexpected else "")
    )
    print(
        f"  taps in flight when the generator stopped, sent again with the same event_id "
        f"(a reader's outbox): {durability.resent}, of which {durability.resent_replayed} "
        "were already committed (answered 'replayed')"
    )
    verdict = durability.verify_out.splitlines()[-1:] or ["(no output)"]
    print(f"  bidroom archive verify: exit {durability.verify_rc}, {verdict[0]}")
    if notes:
        print()
        for note in notes:
            print(f"note: {note}")
    if args.profile:
        print()
        if profiled is not None:
            print(
                f"profile (py-spy record, 200 Hz, on a separate {args.profile_connections}-connection run of "
                f"{args.duration:g} s: {profiled.rate:.0f} req/s, p99 {profiled.p99_ms:.1f} ms "
                "under the profiler):"
            )
        for line in profile:
            print(line)
    print()
    print("targets (issue 10):")
    for line in verdicts(results, durability):
        print(line)
    busiest = max(max(r.others_server_core, r.others_load_core) for r in results.values())
    if busiest > QUIET:
        print(
            f"WARNING: other processes used up to {busiest:.0%} of a pinned core during the "
            "measured runs (column 'others'): these figures are disturbed; run again on a "
            "quiet machine before comparing them"
        )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
