"""The real ``bidroom serve`` process for tests that kill it: its own folder and
configuration, started with the installed ``bidroom`` command on a free port of
127.0.0.1, killed with SIGKILL and started again, every start timed and logged."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

READY_POLL_S = 0.02


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bidroom_command() -> str:
    """The ``bidroom`` console script of the environment running the tests."""
    beside = Path(sys.executable).with_name("bidroom")
    if beside.exists():
        return str(beside)
    found = shutil.which("bidroom")
    if found is None:
        raise RuntimeError("the bidroom command is not installed (run make test or make demo once)")
    return found


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def write_config(
    folder: Path,
    database_url: str,
    *,
    capacity: int,
    readers: dict[str, str],
) -> Path:
    """A site open all day every day (the test never depends on the clock), the given
    readers (name -> role) fed over the API (``agent:``), 127.0.0.1 only."""
    lines = [
        "[database]",
        f"url = {_toml(database_url)}",
        "",
        "[server]",
        'host = "127.0.0.1"',
        "",
        "[room]",
        f"capacity = {capacity}",
        'opening = "00:00"',
        'closing = "23:59"',
        f"days = {_toml([1, 2, 3, 4, 5, 6, 7])}",
    ]
    for name, role in readers.items():
        lines += ["", "[[readers]]", f"name = {_toml(name)}", f"role = {_toml(role)}"]
        lines.append('url = "agent:"')
    path = folder / "bidroom.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True, slots=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


async def run_cli(config: Path, *args: str, within_s: float = 60) -> CliResult:
    """One ``bidroom --config CONFIG ...`` command, as an operator types it."""
    proc = await asyncio.create_subprocess_exec(
        bidroom_command(),
        "--config",
        str(config),
        *args,
        cwd=config.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())


@dataclass
class Daemon:
    """``bidroom --config CONFIG serve --host 127.0.0.1 --port PORT``, restartable.

    Every instance's stderr is appended to ``log`` after a header naming the
    instance; ``generation`` counts the starts, ``ready_s`` holds how long each
    start took until the API answered.
    """

    config: Path
    port: int
    log: Path
    generation: int = 0
    kills: int = 0
    ready_s: list[float] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # added to the environment
    _proc: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self, ready_within_s: float = 60, *, wait: bool = True) -> float:
        """Start an instance and wait until the API answers (unless ``wait`` is false);
        the seconds it took."""
        assert not self.running, "the previous instance is still running"
        self.generation += 1
        started = time.monotonic()
        with self.log.open("ab") as log:
            log.write(f"--- instance {self.generation} (after {self.kills} kills) ---\n".encode())
            log.flush()
            self._proc = await asyncio.create_subprocess_exec(
                bidroom_command(),
                "--config",
                str(self.config),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                cwd=self.config.parent,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            )
        if not wait:
            return 0.0
        await self._wait_ready(ready_within_s)
        took = time.monotonic() - started
        self.ready_s.append(took)
        return took

    async def _wait_ready(self, within_s: float) -> None:
        deadline = time.monotonic() + within_s
        url = f"{self.base}/api/v1/openapi.json"
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if not self.running:
                    raise AssertionError(
                        f"bidroom exited with {self._proc and self._proc.returncode} "
                        f"before answering:\n{self.log_tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(READY_POLL_S)
        raise AssertionError(f"bidroom did not answer within {within_s} s:\n{self.log_tail()}")

    async def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed."""
        proc, self._proc = self._proc, None
        assert proc is not None and proc.returncode is None, "bidroom died on its own"
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        self.kills += 1

    async def terminate(self, within_s: float = 30) -> int:
        """SIGTERM, as ``systemctl stop`` sends it; the exit code."""
        proc, self._proc = self._proc, None
        assert proc is not None and proc.returncode is None, "bidroom died on its own"
        proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(proc.wait(), within_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"bidroom did not stop within {within_s} s") from None

    async def close(self) -> None:
        """The finaliser: whatever state the test left it in, no process stays behind."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
