"""``bidroom serve`` as systemd runs it (``Type=notify``, ``WatchdogSec=``), with a
datagram socket of the test standing in for systemd: READY=1 only once the API
answers, WATCHDOG=1 again and again while the writer works and none while it is
stuck (though the event loop still answers), STOPPING=1 at SIGTERM and exit code 0.
Then the graceful stop during a tap storm, and ``systemd-analyze verify`` of the units.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from service.sd_notify import Notifier
from tests.conftest import IN_CI
from tests.support.daemon import Daemon, free_port, run_cli, write_config

ROOT = Path(__file__).resolve().parents[2]
DOOR_IN, DOOR_OUT = "pintu-masuk", "pintu-keluar"
WATCHDOG_S = 1.0  # the test's WatchdogSec=: a beat every 0.25 s, a deadline of 0.5 s


@dataclass
class FakeSystemd:
    """The notify socket in Linux's abstract namespace (``@name``), as systemd's own is."""

    name: str = field(default_factory=lambda: f"bidroom-test-{secrets.token_hex(6)}")
    messages: list[tuple[float, dict[str, str]]] = field(default_factory=list)
    _sock: socket.socket | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def open(self) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(b"\0" + self.name.encode())
        self._sock.setblocking(False)
        asyncio.get_running_loop().add_reader(self._sock.fileno(), self._receive)

    def close(self) -> None:
        if self._sock is not None:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()

    def _receive(self) -> None:
        assert self._sock is not None
        with contextlib.suppress(BlockingIOError):
            while True:
                data = self._sock.recv(4096).decode()
                fields = dict(line.split("=", 1) for line in data.split("\n") if line)
                self.messages.append((time.monotonic(), fields))
                self._arrived.set()

    @property
    def env(self) -> dict[str, str]:
        return {"NOTIFY_SOCKET": "@" + self.name, "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6))}

    async def wait_for(self, key: str, within_s: float = 30) -> float:
        """When a message with ``key`` arrived (waiting for it if none has yet)."""
        deadline = time.monotonic() + within_s
        while True:
            for at, fields in self.messages:
                if key in fields:
                    return at
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {key} within {within_s} s: {self.messages}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def times(self, key: str, since: float = 0.0, until: float = float("inf")) -> list[float]:
        return [at for at, fields in self.messages if key in fields and since <= at <= until]


@pytest.fixture
async def systemd() -> AsyncIterator[FakeSystemd]:
    fake = FakeSystemd()
    fake.open()
    try:
        yield fake
    finally:
        fake.close()


async def site(tmp_path: Path, env: dict[str, str]) -> tuple[Daemon, str]:
    """A SQLite site with two door readers fed over the API, and a device token."""
    config = write_config(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'bidroom.db'}",
        capacity=50,
        readers={DOOR_IN: "door_in", DOOR_OUT: "door_out"},
    )
    made = await run_cli(
        config,
        *("token", "add", "--name", "doors", "--reader", DOOR_IN, "--reader", DOOR_OUT),
        *("--output", "door.token"),
    )
    assert made.returncode == 0, made.stderr
    token = (tmp_path / "door.token").read_text(encoding="utf-8").strip()
    return Daemon(config, free_port(), tmp_path / "daemon.log", env=env), token


async def tap(http: aiohttp.ClientSession, daemon: Daemon, token: str, n: int) -> int:
    async with http.post(
        f"{daemon.base}/api/v1/taps",
        json={"reader": DOOR_IN, "uid": f"04AA{n:010X}", "event_id": f"sd-{n}"},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        return response.status


async def test_ready_watchdog_and_stopping(tmp_path: Path, systemd: FakeSystemd) -> None:
    daemon, token = await site(tmp_path, systemd.env)
    try:
        await daemon.start(wait=False)
        ready_at = await systemd.wait_for("READY")
        async with aiohttp.ClientSession() as http:
            # READY=1 came only after the API answers: it answers at once.
            async with http.get(f"{daemon.base}/healthz") as response:
                assert response.status == 200, daemon.log_tail()
            starting = systemd.times("STATUS", until=ready_at)[0]
            assert starting < ready_at
            assert await tap(http, daemon, token, 1) == 200

            # The watchdog: a ping every quarter of WatchdogSec while the writer answers.
            await asyncio.sleep(2 * WATCHDOG_S)
            pings = systemd.times("WATCHDOG", since=ready_at)
            assert len(pings) >= 6, systemd.messages
            assert max(b - a for a, b in itertools.pairwise(pings)) < WATCHDOG_S

            # Another process holds the SQLite write lock: the writer is NOT stuck (it
            # waits 0.15 s, then the door fails well), so the watchdog goes on pinging.
            locker = sqlite3.connect(tmp_path / "bidroom.db", isolation_level=None, timeout=5)
            locker.execute("BEGIN EXCLUSIVE")
            held_at = time.monotonic()
            started = time.monotonic()
            assert await tap(http, daemon, token, 2) == 200  # refused: database unavailable
            answered_s = time.monotonic() - started
            # The pings go on while the lock is held (a beat every WATCHDOG_S / 4).
            deadline = time.monotonic() + 10 * WATCHDOG_S
            while len(systemd.times("WATCHDOG", since=held_at)) < 4:
                assert time.monotonic() < deadline, (
                    "the watchdog stopped although the writer answered"
                )
                await asyncio.sleep(0.05)
            locker.execute("ROLLBACK")
            locker.close()
            assert answered_s < 2, answered_s

        # SIGTERM: STOPPING=1, then a clean exit.
        code = await daemon.terminate()
        assert code == 0, daemon.log_tail()
        await systemd.wait_for("STOPPING", within_s=1)
    finally:
        await daemon.close()


async def test_a_watchdog_kill_leaves_every_stack_in_the_log(
    tmp_path: Path, systemd: FakeSystemd
) -> None:
    """systemd kills a daemon whose watchdog ran out with SIGABRT: the journal then shows
    where each thread was (the loop's, the writer's), not just "core dumped"."""
    daemon, _ = await site(tmp_path, systemd.env)
    try:
        await daemon.start()
        assert daemon._proc is not None
        daemon._proc.send_signal(signal.SIGABRT)
        await asyncio.wait_for(daemon._proc.wait(), 10)
    finally:
        await daemon.close()
    log = daemon.log_tail(400)
    assert "Fatal Python error: Aborted" in log and "Current thread" in log, log
    assert log.count("Thread 0x") >= 2  # the loop's and the worker threads' (the writer's)


async def test_a_port_in_use_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", capacity=5, readers={}
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await run_cli(config, "serve", "--port", str(port))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("bidroom: Tidak dapat") and f"Cannot listen on 127.0.0.1:{port}" in last


def test_notifier_without_systemd_and_for_another_process() -> None:
    quiet = Notifier({})
    assert not quiet.enabled and quiet.ready("x") is False and quiet.watchdog_s is None
    other = Notifier({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)})
    assert other.watchdog_s is None  # meant for another process
    mine = Notifier({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())})
    assert mine.watchdog_s == 30.0


def test_notifier_sends_one_line_status_to_a_path_socket(tmp_path: Path) -> None:
    path = tmp_path / "n.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        notifier = Notifier({"NOTIFY_SOCKET": str(path)})
        assert notifier.ready("line one\nline two")
        assert sock.recv(1024) == b"READY=1\nSTATUS=line one line two"
        notifier.close()
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody")})
    assert gone.watchdog() is False  # never raises when systemd is gone


# -- systemd-analyze verify -----------------------------------------------------------------
UNITS = sorted(p for p in (ROOT / "systemd").iterdir() if p.suffix in (".service", ".timer"))


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_analyze_verifies_the_unit(unit: Path, tmp_path: Path) -> None:
    """Fails on any warning. CI installs systemd (`.ci/run`), so there the tool is always
    present and the test always runs; elsewhere it is skipped without the tool."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if IN_CI:
            pytest.fail("systemd-analyze is missing: .ci/run installs the systemd package")
        pytest.skip("systemd-analyze is not installed")
    bidroom = Path(sys.executable).with_name("bidroom")
    for each in UNITS:  # a timer is verified beside the service it starts
        text = each.read_text(encoding="utf-8")
        # The units name where the README installs bidroom; point them at this environment's.
        text = text.replace("/opt/bidroom/bin/bidroom", str(bidroom))
        text = text.replace("%h/.local/bin/bidroom", str(bidroom))
        (tmp_path / each.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        [tool, "verify", "--man=no", str(tmp_path / unit.name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    said = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not said, said


async def test_a_stuck_writer_silences_the_watchdog(tmp_path: Path, systemd: FakeSystemd) -> None:
    """A writer whose commit never returns (a hung disk, a PostgreSQL that stopped
    answering without closing): the loop still runs, but no WATCHDOG=1 goes out and the
    STATUS line says why, so systemd restarts the daemon; once it answers, pings resume."""
    from service.daemon import Heartbeat
    from service.domain.taps import Tap
    from service.runtime import Runtime
    from service.store import writer as writer_module
    from tests.support.site import START, FakeClock, site_config

    runtime = Runtime(site_config(tmp_path), clock=FakeClock(), start_readers=False)
    await runtime.start()
    gate = asyncio.Event()
    real = writer_module.write_sync

    def stuck(conn: object, batch: object) -> None:
        asyncio.run_coroutine_threadsafe(gate.wait(), loop).result()  # the commit hangs
        real(conn, batch)  # type: ignore[arg-type]

    loop = asyncio.get_running_loop()
    try:
        beat = Heartbeat(runtime, Notifier(systemd.env))
        assert await beat.beat()
        await asyncio.sleep(0.05)  # the datagram is read by the loop
        assert systemd.times("WATCHDOG")
        writer_module.write_sync = stuck  # type: ignore[assignment]
        hanging = asyncio.create_task(
            runtime.submit(Tap("pintu-masuk", "04AA0000000001", START, "x"))
        )
        await asyncio.sleep(0.1)
        before = len(systemd.times("WATCHDOG"))
        assert not await beat.beat()
        await asyncio.sleep(0.05)
        assert len(systemd.times("WATCHDOG")) == before
        assert "writer not answering" in systemd.messages[-1][1].get("STATUS", "")
        gate.set()
        await hanging
        writer_module.write_sync = real
        assert await beat.beat()
        await asyncio.sleep(0.05)
        assert len(systemd.times("WATCHDOG")) == before + 1
    finally:
        writer_module.write_sync = real
        gate.set()
        await runtime.stop()
