"""The crash test: a tap storm from several readers against the real daemon process,
SIGKILLed at random moments (at least 50 times) and at idle moments, on SQLite and
on PostgreSQL.

What a reader sees must be what the database keeps:

- every tap that got an answer is in ``access_events`` exactly once, with the
  answered decision, and nothing else is there (no phantom taps);
- a tap whose request failed is resent with the SAME event_id until answered (a
  reader's outbox), and gets the committed decision back (``replayed``) or a fresh
  one; an answered tap sent again after a restart is a replay of its decision;
- nothing is half-applied: every visit's ``inside`` flag and entry/exit times are
  what its last granted door taps say, one journal row per access event, and
  ``bidroom archive verify`` finds the tables equal to the journal and the chain whole;
- each badge's taps alternate in and out, so every decision is known in advance
  (entry when outside, exit when inside): a lost or doubled tap shows as a refusal;
- occupancy before and after an idle kill is the same, in the API and the database.

``BIDROOM_CRASH_KILLS`` (default 50) and ``BIDROOM_CRASH_SEED`` change the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.support.daemon import Daemon, free_port, run_cli, write_config

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

KILLS = int(os.environ.get("BIDROOM_CRASH_KILLS", "50"))
SEED = int(os.environ.get("BIDROOM_CRASH_SEED", "20261125"))
IDLE_EVERY = 10  # an idle kill after every tenth kill during the storm
TIMEOUT_S = 100 + 4 * KILLS  # 300 s for 50 kills: a start takes ~1.5 s, ~2.2 s per kill in all
BADGES = 20
CLIENTS = 4  # each owns BADGES / CLIENTS badges, so a badge's taps never overlap
CAPACITY = 30
STORM_S = (0.0, 0.5)  # how long the storm runs on an instance before it is killed
RETRY_S = 0.05  # a reader's outbox retries this often while the daemon is down
REQUEST_S = 10.0
GIVE_UP_S = 30.0  # a tap not answered by then is a failure (the daemon is down ~2 s)
REPLAYS_PER_IDLE_KILL = 8
DOOR_IN, DOOR_OUT = "pintu-masuk", "pintu-keluar"
ZONE = ZoneInfo("Asia/Jakarta")
ADMIN, PASSWORD = "admin", "rahasia-crash-1"

pytestmark = [pytest.mark.crash]


def badge_uid(n: int) -> str:
    return f"04C4A5{n:08X}"


# -- the site -----------------------------------------------------------------------
@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'bidroom.db'}"


@pytest.fixture
async def daemon(tmp_path: Path, database_url: str) -> AsyncIterator[Daemon]:
    """The configured site, its admin, and the daemon process (killed at the end)."""
    config = write_config(
        tmp_path,
        database_url,
        capacity=CAPACITY,
        readers={DOOR_IN: "door_in", DOOR_OUT: "door_out"},
    )
    (tmp_path / "admin.pw").write_text(PASSWORD + "\n", encoding="utf-8")
    added = await run_cli(
        config, "user", "add", ADMIN, "--role", "admin", "--password-file", "admin.pw"
    )
    assert added.returncode == 0, added.stderr
    process = Daemon(config, free_port(), tmp_path / "daemon.log")
    try:
        yield process
    finally:
        await process.close()


@dataclass
class Staff:
    """A logged-in admin: the session cookie lives in the database, so it outlives kills."""

    http: aiohttp.ClientSession
    base: str
    csrf: str = ""

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        async with self.http.request(
            method, self.base + path, json=body, headers={"X-CSRF-Token": self.csrf}
        ) as response:
            data = await response.json()
            assert response.status == expect, (method, path, response.status, data)
            return data

    async def occupancy(self) -> int:
        status = await self.call("GET", "/api/v1/status")
        assert status["occupancy"]["inside"] == len(status["inside"]), status["occupancy"]
        return int(status["occupancy"]["inside"])


async def open_site(daemon: Daemon, http: aiohttp.ClientSession) -> tuple[Staff, str]:
    """Log in, make a device token, enrol the badges and issue each to an admitted visit."""
    staff = Staff(http, daemon.base)
    me = await staff.call("POST", "/api/v1/login", {"username": ADMIN, "password": PASSWORD})
    staff.csrf = me["csrf"]
    token = await staff.call(
        "POST",
        "/api/v1/tokens",
        {
            "name": "door-agent",
            "role": "device",
            "readers": [DOOR_IN, DOOR_OUT],
            "current_password": PASSWORD,
        },
        expect=201,
    )
    for n in range(1, BADGES + 1):
        await staff.call(
            "POST", "/api/v1/badges", {"uid": badge_uid(n), "label": f"K-{n:03d}"}, expect=201
        )
        visit = await staff.call(
            "POST",
            "/api/v1/visits",
            {
                "name": f"Pengunjung {n}",
                "company": f"CV Uji Tabrak {n}",
                "doc_type": "passport",
                "doc_number": f"C{1000000 + n}",
                "rules_ack": True,
                "privacy_ack": True,
            },
            expect=201,
        )
        issued = await staff.call(
            "POST", f"/api/v1/visits/{visit['id']}/badge", {"label": f"K-{n:03d}"}
        )
        assert issued["state"] == "admitted", issued
    return staff, str(token["token"])


# -- the storm --------------------------------------------------------------------------
@dataclass
class Answer:
    """A tap a reader got a decision for."""

    event_id: str
    badge: int
    reader: str
    at: datetime
    granted: bool
    reason: str
    replayed: bool
    attempts: int
    sent_to: int  # the daemon instance the tap was first sent to
    answered_by: int

    @property
    def payload(self) -> dict[str, Any]:
        return {
            "reader": self.reader,
            "uid": badge_uid(self.badge),
            "event_id": self.event_id,
            "at": self.at.isoformat(),
        }

    def __str__(self) -> str:
        return (
            f"{self.event_id} (K-{self.badge:03d} at {self.reader}, {self.at.isoformat()}: "
            f"{'granted' if self.granted else 'denied'} {self.reason}"
            f"{', replayed' if self.replayed else ''}; sent to instance {self.sent_to}, "
            f"answered by {self.answered_by} after {self.attempts} attempt(s))"
        )


def expected(reader: str, at: datetime) -> set[tuple[bool, str]]:
    """Entry when outside, exit when inside; the room closes for the minute 23:59."""
    if reader == DOOR_OUT:
        return {(True, "exit")}
    if at.astimezone(ZONE).time() >= clock_time(23, 59):
        return {(True, "entry"), (False, "outside_hours")}
    return {(True, "entry")}


@dataclass
class Storm:
    daemon: Daemon
    token: str
    answers: dict[str, Answer] = field(default_factory=dict)
    surprises: list[str] = field(default_factory=list)
    inside: dict[int, bool] = field(default_factory=dict)
    last: dict[int, Answer] = field(default_factory=dict)
    go: asyncio.Event = field(default_factory=asyncio.Event)
    parked: dict[int, asyncio.Event] = field(default_factory=dict)
    failed_requests: Counter[str] = field(default_factory=Counter)

    async def send(self, http: aiohttp.ClientSession, tap: dict[str, Any]) -> tuple[Any, int]:
        """POST the tap until it is answered, with the same event_id, as an outbox does."""
        headers = {"Authorization": f"Bearer {self.token}"}
        timeout = aiohttp.ClientTimeout(total=REQUEST_S)
        give_up = time.monotonic() + GIVE_UP_S
        for attempt in itertools.count(1):
            if time.monotonic() > give_up:
                raise AssertionError(
                    f"{tap['event_id']}: no answer after {attempt - 1} attempts in {GIVE_UP_S} s"
                )
            try:
                async with http.post(
                    f"{self.daemon.base}/api/v1/taps", json=tap, headers=headers, timeout=timeout
                ) as response:
                    if response.status == 200:
                        return await response.json(), attempt
                    body = await response.text()
                    if response.status != 503:  # 503: nothing saved, try again
                        raise AssertionError(f"{tap['event_id']}: HTTP {response.status} {body}")
                    self.failed_requests["503"] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.failed_requests[type(exc).__name__] += 1
            await asyncio.sleep(RETRY_S)
        raise AssertionError("unreachable")  # pragma: no cover

    async def client(self, number: int, badges: list[int]) -> None:
        parked = self.parked[number] = asyncio.Event()
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as http:
            for seq in itertools.count(1):
                if not self.go.is_set():
                    parked.set()
                    await self.go.wait()
                    parked.clear()
                badge = badges[seq % len(badges)]
                reader = DOOR_OUT if self.inside[badge] else DOOR_IN
                at = datetime.now(UTC)
                tap = {
                    "reader": reader,
                    "uid": badge_uid(badge),
                    "event_id": f"c{number}-{seq:06d}",
                    "at": at.isoformat(),
                }
                sent_to = self.daemon.generation
                body, attempts = await self.send(http, tap)
                answer = Answer(
                    tap["event_id"],
                    badge,
                    reader,
                    at,
                    body["granted"],
                    body["reason"],
                    body["replayed"],
                    attempts,
                    sent_to,
                    self.daemon.generation,
                )
                self.answers[answer.event_id] = answer
                if (answer.granted, answer.reason) not in expected(reader, at):
                    self.surprises.append(
                        f"unexpected decision: {answer}; the badge's tap before: "
                        f"{self.last.get(badge)}"
                    )
                self.last[badge] = answer
                if answer.replayed and attempts == 1:
                    self.surprises.append(f"replayed on its first sending: {answer}")
                if answer.granted or answer.reason == "already_inside":
                    self.inside[badge] = answer.reason in ("entry", "already_inside")

    async def replay(self, http: aiohttp.ClientSession, answer: Answer) -> None:
        """An answered tap sent again: the same decision, marked as a replay."""
        body, _ = await self.send(http, answer.payload)
        again = (body["granted"], body["reason"], body["replayed"])
        if again != (answer.granted, answer.reason, True):
            self.surprises.append(f"sent again after a restart, answered {again}: {answer}")

    def people_inside(self) -> int:
        return sum(self.inside.values())


async def watch(tasks: Iterable[asyncio.Task[None]], work: Awaitable[T]) -> T:
    """Await ``work``, failing at once if a reader task fails meanwhile."""
    job = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({job, *tasks}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not job:
                    task.result()  # raises the reader's failure
                    raise AssertionError(f"reader task {task.get_name()} stopped")
            if job in done:
                return job.result()
    finally:
        if not job.done():
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job


async def park(storm: Storm, tasks: list[asyncio.Task[None]]) -> None:
    """Stop the storm: every reader finishes its tap (answered) and waits."""
    storm.go.clear()
    await watch(tasks, asyncio.gather(*(e.wait() for e in storm.parked.values())))


# -- the database's view ------------------------------------------------------------------
async def db_occupancy(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(
            text("SELECT count(*) FROM visits WHERE inside = :yes AND state != 'closed'"),
            {"yes": True},
        )
    return int(value or 0)


async def database_faults(engine: AsyncEngine, storm: Storm) -> list[str]:
    """Everything the database says that contradicts what the readers were answered."""
    async with engine.connect() as conn:
        events = (
            await conn.execute(
                text(
                    "SELECT id, event_id, reader, granted, reason, visit_id, at "
                    "FROM access_events ORDER BY id"
                )
            )
        ).all()
        visits = (
            await conn.execute(
                text("SELECT id, inside, state, entered_at, exited_at, badge_id FROM visits")
            )
        ).all()
        journaled = await conn.scalar(text("SELECT count(*) FROM journal WHERE kind LIKE 'tap.%'"))
    faults: list[str] = []
    rows: dict[str, list[Any]] = defaultdict(list)
    for row in events:
        rows[row.event_id].append(row)
    for event_id, answer in storm.answers.items():
        found = rows.get(event_id, [])
        if len(found) != 1:
            faults.append(f"answered tap stored {len(found)} times: {answer}")
        elif (bool(found[0].granted), found[0].reason) != (answer.granted, answer.reason):
            stored = f"{'granted' if found[0].granted else 'denied'} {found[0].reason}"
            faults.append(f"stored as {stored}, answered otherwise: {answer}")
    for event_id in rows.keys() - storm.answers.keys():
        faults.append(f"stored but never answered to anyone: {event_id} {rows[event_id]}")
    if journaled != len(events):
        faults.append(f"{len(events)} access events but {journaled} tap rows in the journal")
    last: dict[int, dict[str, Any]] = defaultdict(dict)
    for row in events:  # in commit order (ids are given by the single writer)
        if row.granted and row.visit_id is not None:
            last[row.visit_id]["in" if row.reason == "entry" else "out"] = row.at
            last[row.visit_id]["last"] = row.reason
    for visit in visits:
        told = last.get(visit.id, {})
        inside = told.get("last") == "entry"
        if bool(visit.inside) != inside:
            faults.append(
                f"visit {visit.id}: inside={bool(visit.inside)}, its last granted door tap "
                f"was {told.get('last')}"
            )
        if (visit.entered_at, visit.exited_at) != (told.get("in"), told.get("out")):
            faults.append(
                f"visit {visit.id}: entered/exited {visit.entered_at}/{visit.exited_at}, "
                f"door taps say {told.get('in')}/{told.get('out')}"
            )
    inside_count = sum(1 for v in visits if v.inside and v.state != "closed")
    if inside_count != storm.people_inside():
        faults.append(
            f"{inside_count} visits inside in the database, the readers let "
            f"{storm.people_inside()} in"
        )
    return faults


# -- the test -------------------------------------------------------------------------------
@pytest.mark.timeout(TIMEOUT_S)
async def test_tap_storm_survives_sigkill(daemon: Daemon, database_url: str) -> None:
    rng = random.Random(SEED)
    t0 = time.monotonic()
    await daemon.start()
    engine = create_async_engine(database_url)
    jar = aiohttp.CookieJar(unsafe=True)  # 127.0.0.1: keep the session cookie
    tasks: list[asyncio.Task[None]] = []
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        try:
            staff, token = await open_site(daemon, http)
            setup_s = time.monotonic() - t0
            storm = Storm(daemon, token, inside=dict.fromkeys(range(1, BADGES + 1), False))
            storm.go.set()
            for c in range(CLIENTS):
                badges = list(range(1 + c, BADGES + 1, CLIENTS))
                tasks.append(asyncio.create_task(storm.client(c, badges), name=f"reader-{c}"))
            idle_kills = 0
            for kill in range(1, KILLS + 1):
                await watch(tasks, asyncio.sleep(rng.uniform(*STORM_S)))
                await daemon.kill()
                await watch(tasks, daemon.start())
                if kill % IDLE_EVERY == 0 or kill == KILLS:
                    await idle_kill(daemon, storm, staff, engine, tasks, http, rng)
                    idle_kills += 1
            await park(storm, tasks)
            await daemon.kill()
            faults = await database_faults(engine, storm)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await engine.dispose()

    verify = await run_cli(daemon.config, "archive", "verify")
    took = time.monotonic() - t0
    answers = storm.answers.values()
    resent = [a for a in answers if a.attempts > 1]
    starts = sorted(daemon.ready_s)
    _LOGGER.info(
        "crash test on %s: %d kills (%d idle), %d taps answered, %d resent (%d replayed, "
        "%d decided afresh), failed requests %s; %.1f s in all, setup %.1f s, daemon start "
        "median %.2f s, max %.2f s (%d starts)",
        engine.dialect.name,
        daemon.kills,
        idle_kills,
        len(storm.answers),
        len(resent),
        sum(a.replayed for a in resent),
        sum(not a.replayed for a in resent),
        dict(storm.failed_requests),
        took,
        setup_s,
        starts[len(starts) // 2],
        starts[-1],
        len(starts),
    )
    faults += storm.surprises
    assert faults == [], "\n".join(faults[:30]) + "\n" + daemon.log_tail()
    assert verify.returncode == 0 and "archive intact" in verify.stdout, (
        verify.stdout + verify.stderr
    )
    assert daemon.kills >= KILLS + idle_kills
    assert resent, "no kill hit a tap in flight: the storm did not overlap the kills"


async def idle_kill(
    daemon: Daemon,
    storm: Storm,
    staff: Staff,
    engine: AsyncEngine,
    tasks: list[asyncio.Task[None]],
    http: aiohttp.ClientSession,
    rng: random.Random,
) -> None:
    """Stop the storm, read occupancy, SIGKILL, restart: the same occupancy everywhere."""
    await park(storm, tasks)
    # Every answered tap is committed by now: the database must say what was answered.
    faults = await database_faults(engine, storm) + storm.surprises
    assert faults == [], "\n".join(faults[:30])
    before = await staff.occupancy()
    stored = await db_occupancy(engine)
    assert before == stored == storm.people_inside(), (
        f"before the idle kill: API {before}, database {stored}, "
        f"readers let {storm.people_inside()} in"
    )
    await daemon.kill()
    await daemon.start()
    after = await staff.occupancy()
    assert (after, await db_occupancy(engine)) == (before, before), (
        f"occupancy {before} before the idle kill, API {after} after"
    )
    answered = sorted(storm.answers.values(), key=lambda a: a.event_id)
    for answer in rng.sample(answered, min(REPLAYS_PER_IDLE_KILL, len(answered))):
        await storm.replay(http, answer)
    storm.go.set()
