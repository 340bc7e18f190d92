"""The remote reader agent against a real aiohttp server on 127.0.0.1.

Most tests run against a small aiohttp app implementing the tap contract (bearer
token, idempotent by ``event_id``, 422 for a malformed tap, 503 while unavailable,
heartbeat 204), which can lose a response or refuse on demand; the last test runs
against the real daemon (``service.api.create_app``). The agent's local reader is
a ``sim:`` reader, presented badges with ``simulate_tap``.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from devices.agent import AgentTimings, Outbox, run_agent
from devices.base import ReaderState
from devices.simulated import is_running, simulate_tap
from service.api.app import RUNTIME
from service.auth import Role
from service.config import Config, ReaderConfig, SecurityConfig
from service.domain.taps import Led, ReaderRole, Reason
from service.runtime import Runtime
from service.server import create_app
from service.store.tables import AccessEventRow
from service.tokens import create_token

TOKEN = "s3cret-agent-token"
READER = "meja-pc-01"
UID = "04A23B11223344"
REJECTED_UID = "DEADBEEF"  # the daemon answers 422 for this one
FAST = AgentTimings(heartbeat_s=0.2, answer_timeout_s=2.0, min_backoff_s=0.05, max_backoff_s=0.1)
T0 = datetime(2026, 11, 25, 3, 5, tzinfo=UTC)


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for state the test can only poll (server records, outbox rows)."""
    async with asyncio.timeout(within):
        while not check():
            await asyncio.sleep(0.01)


class Daemon:
    """The daemon side of the tap contract, idempotent by event_id."""

    def __init__(self) -> None:
        self.committed: list[dict[str, Any]] = []
        self.decisions: dict[str, dict[str, Any]] = {}
        self.attempts: collections.Counter[str] = collections.Counter()
        self.heartbeats = 0
        self.lose_response_once: set[str] = set()
        self.unavailable = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v1/taps", self.tap)
        app.router.add_post("/api/v1/readers/{name}/heartbeat", self.heartbeat)
        return app

    async def tap(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        event_id = body["event_id"]
        self.attempts[event_id] += 1
        if self.unavailable:
            return web.json_response({"error": "unavailable"}, status=503)
        if body["uid"] == REJECTED_UID:
            return web.json_response({"error": "invalid"}, status=422)
        if body["reader"] != READER:
            return web.json_response({"error": "not_found"}, status=404)
        if event_id in self.decisions:
            return web.json_response({**self.decisions[event_id], "replayed": True})
        self.committed.append(body)
        self.decisions[event_id] = {
            "granted": True,
            "reason": "usage_started",
            "message": "Penggunaan fasilitas dimulai",
            "feedback": {"led": "green", "beeps": 1, "open_door_s": 0.0},
            "visit_id": len(self.committed),
            "slot": None,
            "replayed": False,
        }
        if event_id in self.lose_response_once:
            self.lose_response_once.discard(event_id)
            assert request.transport is not None
            request.transport.abort()  # committed, but the answer never arrives
        return web.json_response(self.decisions[event_id])

    async def heartbeat(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401)
        assert request.match_info["name"] == READER
        self.heartbeats += 1
        return web.Response(status=204)

    def committed_ids(self) -> list[str]:
        return [t["event_id"] for t in self.committed]


class Server:
    """The daemon on a fixed loopback port that can be stopped and started again."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        runner = web.AppRunner(self.daemon.app(), handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True).start()
        self._runner = runner

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


class AgentProcess:
    """``run_agent`` as a task, as the CLI runs it."""

    def __init__(self, server: Server, outbox: Path) -> None:
        self.server, self.outbox = server, outbox
        self.token = TOKEN
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            run_agent("sim:", self.server.url, self.token + "\n", READER, self.outbox,
                      stop=self._stop, timings=FAST)
        )  # fmt: skip
        await until(lambda: is_running(READER))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            self._stop.set()
            await asyncio.wait_for(task, 5)

    def rows(self) -> list[tuple[str, str]]:
        store = Outbox(self.outbox)
        try:
            return [(r.tap.event_id, r.state) for r in store.rows()]
        finally:
            store.close()


@pytest.fixture
async def daemon() -> Daemon:
    return Daemon()


@pytest.fixture
async def server(daemon: Daemon) -> AsyncIterator[Server]:
    srv = Server(daemon)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def agent(server: Server, tmp_path: Path) -> AsyncIterator[AgentProcess]:
    proc = AgentProcess(server, tmp_path / "state" / "outbox.sqlite3")
    await proc.start()
    yield proc
    await proc.stop()


async def tap(n: int, uid: str = UID) -> Any:
    return await simulate_tap(READER, uid, at=T0 + timedelta(minutes=n), event_id=f"e-{n}")


async def test_taps_arrive_in_order_with_original_times(
    agent: AgentProcess, daemon: Daemon
) -> None:
    decisions = [await tap(n) for n in (1, 2, 3)]
    assert [d.granted for d in decisions] == [True, True, True]
    assert [d.visit_id for d in decisions] == [1, 2, 3]
    assert decisions[0].reason is Reason.USAGE_STARTED
    assert decisions[0].feedback.led is Led.GREEN
    assert [(t["event_id"], t["reader"], t["uid"], t["at"]) for t in daemon.committed] == [
        (f"e-{n}", READER, UID, (T0 + timedelta(minutes=n)).isoformat()) for n in (1, 2, 3)
    ]
    assert agent.rows() == [("e-1", "sent"), ("e-2", "sent"), ("e-3", "sent")]


async def test_heartbeats_carry_the_token(agent: AgentProcess, daemon: Daemon) -> None:
    await until(lambda: daemon.heartbeats >= 2)


async def test_daemon_down_keeps_taps_and_replays_them_in_order(
    agent: AgentProcess, server: Server, daemon: Daemon
) -> None:
    assert (await tap(1)).granted
    await server.stop()
    started = time.monotonic()
    offline = [await tap(n) for n in (2, 3, 4)]
    assert all(d.feedback.led is Led.AMBER and not d.granted for d in offline)
    assert time.monotonic() - started < 3 * FAST.answer_timeout_s
    assert agent.rows() == [("e-1", "sent"), ("e-2", "pending"), ("e-3", "pending"),
                            ("e-4", "pending")]  # fmt: skip
    assert daemon.committed_ids() == ["e-1"]
    await server.start()
    await until(lambda: len(daemon.committed) == 4)
    assert daemon.committed_ids() == ["e-1", "e-2", "e-3", "e-4"]
    assert [t["at"] for t in daemon.committed] == [
        (T0 + timedelta(minutes=n)).isoformat() for n in (1, 2, 3, 4)
    ]
    await until(lambda: all(state == "sent" for _, state in agent.rows()))
    # Online again: the reader gets the daemon's decision, not amber.
    assert (await tap(5)).feedback.led is Led.GREEN


async def test_503_keeps_the_tap_until_the_daemon_recovers(
    agent: AgentProcess, daemon: Daemon
) -> None:
    daemon.unavailable = True
    assert (await tap(1)).feedback.led is Led.AMBER
    await until(lambda: daemon.attempts["e-1"] >= 2)  # retried with backoff
    daemon.unavailable = False
    await until(lambda: daemon.committed_ids() == ["e-1"])
    await until(lambda: agent.rows() == [("e-1", "sent")])


async def test_lost_response_is_replayed_without_duplicate(
    agent: AgentProcess, daemon: Daemon
) -> None:
    daemon.lose_response_once.add("e-1")
    first = await tap(1)
    assert first.feedback.led is Led.AMBER  # the reader could not know it was granted
    await until(lambda: agent.rows() == [("e-1", "sent")])
    assert daemon.attempts["e-1"] == 2
    assert daemon.committed_ids() == ["e-1"]
    assert (await tap(2)).granted
    assert daemon.committed_ids() == ["e-1", "e-2"]


async def test_422_is_dropped_and_not_retried(agent: AgentProcess, daemon: Daemon) -> None:
    rejected = await tap(1, uid=REJECTED_UID)
    assert not rejected.granted and rejected.feedback.led is Led.RED
    assert (await tap(2)).granted  # the queue is not blocked behind it
    # Several backoff periods (max 0.1 s) later it has still been tried once only.
    await asyncio.sleep(0.3)
    assert daemon.attempts["e-1"] == 1
    assert daemon.committed_ids() == ["e-2"]
    assert agent.rows() == [("e-1", "failed"), ("e-2", "sent")]


async def test_restart_with_stored_taps_replays_them(
    server: Server, daemon: Daemon, tmp_path: Path
) -> None:
    await server.stop()
    proc = AgentProcess(server, tmp_path / "outbox.sqlite3")
    await proc.start()
    try:
        assert (await tap(1)).feedback.led is Led.AMBER
        assert (await tap(2)).feedback.led is Led.AMBER
    finally:
        await proc.stop()
    assert proc.rows() == [("e-1", "pending"), ("e-2", "pending")]
    await server.start()
    await proc.start()  # a fresh agent on the same outbox
    try:
        await until(lambda: daemon.committed_ids() == ["e-1", "e-2"])
        await until(lambda: proc.rows() == [("e-1", "sent"), ("e-2", "sent")])
    finally:
        await proc.stop()
    assert daemon.attempts == {"e-1": 1, "e-2": 1}


async def test_same_event_id_from_the_reader_is_sent_once(
    agent: AgentProcess, daemon: Daemon
) -> None:
    first = await tap(1)
    again = await tap(1)  # the local reader repeats itself
    assert first == again
    assert daemon.attempts["e-1"] == 1
    assert daemon.committed_ids() == ["e-1"]


# -- against the real daemon (service.api.create_app) ------------------------------


class RealDaemon:
    """``bidroom serve`` in-process: the real app, SQLite in tmp, an ``agent:`` reader."""

    def __init__(self, tmp_path: Path) -> None:
        self.config = Config(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bidroom.db'}",
            readers=(ReaderConfig(READER, ReaderRole.DESK, "agent:", options={"check_s": 0.05}),),
            security=SecurityConfig(key_file=tmp_path / "bidroom.key"),
        )
        self.server = Server(Daemon())  # only for its free port and URL
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None

    @property
    def runtime(self) -> Runtime:
        assert self.app is not None
        return self.app[RUNTIME]

    async def start(self) -> None:
        self.app = create_app(self.config, pages=False)
        runner = web.AppRunner(self.app, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.server.port, reuse_address=True).start()
        self._runner = runner

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def events(self) -> list[tuple[str, datetime, datetime | None, str]]:
        """Each tap: event id, the daemon's time, the reader's own time (kept when it differs)."""
        async with self.runtime.engine.connect() as conn:
            rows = await conn.execute(
                select(
                    AccessEventRow.event_id,
                    AccessEventRow.at,
                    AccessEventRow.reported_at,
                    AccessEventRow.reason,
                ).order_by(AccessEventRow.id)
            )
            return [(e, at, reported, r) for e, at, reported, r in rows]


async def test_agent_against_the_real_daemon(tmp_path: Path) -> None:
    real = RealDaemon(tmp_path)
    await real.start()
    proc = AgentProcess(real.server, tmp_path / "outbox.sqlite3")
    try:
        token = await create_token(
            real.runtime.engine, "agent", Role.DEVICE, datetime.now(UTC), readers=[READER]
        )
        proc.token = token
        await proc.start()
        # Heartbeats reach the daemon: its agent: reader turns online.
        await until(lambda: real.runtime.health[READER].state is ReaderState.ONLINE)
        now = datetime.now(UTC).replace(microsecond=0)
        first = await simulate_tap(READER, UID, at=now - timedelta(seconds=30), event_id="r-1")
        assert first.reason is Reason.UNKNOWN_BADGE and first.feedback.led is Led.RED
        await real.stop()
        stored = await simulate_tap(READER, UID, at=now - timedelta(seconds=20), event_id="r-2")
        assert stored.feedback.led is Led.AMBER
        await real.start()
        await until(lambda: proc.rows() == [("r-1", "sent"), ("r-2", "sent")])
        again = await simulate_tap(READER, UID, at=now - timedelta(seconds=30), event_id="r-1")
        assert again == first
        # Decided on the daemon's clock; the reader's own (earlier) time is kept beside it.
        events = await real.events()
        assert [(e, reported, r) for e, _, reported, r in events] == [
            ("r-1", now - timedelta(seconds=30), "unknown_badge"),
            ("r-2", now - timedelta(seconds=20), "unknown_badge"),
        ]
        assert all(now <= at <= datetime.now(UTC) for _, at, _, _ in events)
    finally:
        await proc.stop()
        await real.stop()
