"""Shared by the device tests: a pty "cable" and libosdp's PeripheralDevice as a reader.

:class:`PtyLink` is a serial cable: the adapter opens ``path``, a stable symlink
to the pty's slave end (as the udev rules give ``/dev/bidroom-osdp0``); the peer
holds the master end. ``unplug()`` closes both ends and removes the link, as
pulling a USB adapter does; ``plug()`` makes a fresh pty behind the same path.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import osdp
import pytest


class PtyLink:
    def __init__(self, directory: Path, name: str = "bidroom-tty0") -> None:
        self.path = directory / name
        self.master = -1
        self._slave = -1
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        tmp = self.path.with_name(self.path.name + ".new")
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.path)
        self.master, self._slave = master, slave

    def unplug(self) -> None:
        for fd in (self.master, self._slave):
            if fd >= 0:
                os.close(fd)
        self.master = self._slave = -1
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def read_available(self) -> bytes:
        try:
            return os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            return b""


@pytest.fixture
def pty_factory(tmp_path: Path) -> Iterator[Callable[[str], PtyLink]]:
    """``make(name)`` -> a PtyLink at ``tmp_path/name``; all unplugged at teardown."""
    links: list[PtyLink] = []

    def make(name: str) -> PtyLink:
        links.append(PtyLink(tmp_path, name))
        return links[-1]

    yield make
    for link in links:
        link.unplug()


@pytest.fixture
def pty_link(pty_factory: Callable[[str], PtyLink]) -> PtyLink:
    return pty_factory("bidroom-tty0")


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """``await wait_until(predicate, within=5.0, what="...")`` (a fixture: tests run in
    importlib mode, where conftest is not importable)."""
    return poll_until


async def poll_until(predicate: Callable[[], bool], within: float = 5.0, what: str = "") -> None:
    """Poll ``predicate`` every 10 ms; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within} s waiting for {what or predicate}")
        await asyncio.sleep(0.01)


class FdChannel(osdp.Channel):  # type: ignore[misc]
    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def read(self, max_bytes: int) -> bytes:
        try:
            return os.read(self.fd, max_bytes)
        except OSError:
            return b""

    def write(self, buf: bytes) -> int:
        try:
            return os.write(self.fd, buf)
        except OSError:
            return 0

    def flush(self) -> None:
        pass


class Rs485Bus:
    """A two-wire RS-485 line on the pty: every reader hears what the control panel
    sends; a reader's reply goes back to the control panel. ``drop()`` is one
    reader's connection to the line (a libosdp channel)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._heard: list[bytearray] = []

    def drop(self) -> Any:
        bus, heard = self, bytearray()
        self._heard.append(heard)

        class Drop:
            def read(self, max_bytes: int) -> bytes:
                with bus._lock:
                    try:
                        data = os.read(bus._fd, 4096)
                    except OSError:
                        data = b""
                    for other in bus._heard:
                        other.extend(data)
                    chunk = bytes(heard[:max_bytes])
                    del heard[:max_bytes]
                return chunk

            def write(self, buf: bytes) -> int:
                with bus._lock:
                    try:
                        return os.write(bus._fd, buf)
                    except OSError:
                        return 0

            def flush(self) -> None:
                pass

        return Drop()


class _FastPD(osdp.PeripheralDevice):  # type: ignore[misc]
    """A real reader's firmware answers within a few ms; the wrapper idles 20 ms."""

    def refresh(self, event: threading.Event, lock: threading.Lock, ctx: Any) -> None:
        while not event.is_set():
            with lock:
                ctx.refresh()
            event.wait(0.002)


READER_CAPS = osdp.PDCapabilities(
    [
        (osdp.Capability.OutputControl, 1, 1),
        (osdp.Capability.LEDControl, 1, 1),
        (osdp.Capability.AudibleControl, 1, 1),
        (osdp.Capability.ContactStatusMonitoring, 1, 4),
    ]
)


class PdPeer:
    """libosdp's PeripheralDevice acting as an OSDP door reader on ``fd``.

    ``key=None`` with ``install_mode=True`` is a factory-fresh reader (SCBK-D).
    Every command the reader receives lands in ``commands`` as (monotonic, dict).
    """

    def __init__(
        self, fd: int | Any, address: int, key: bytes | None, *, install_mode: bool = False
    ) -> None:
        flags = [osdp.LibFlag.InstallMode] if install_mode else [osdp.LibFlag.EnforceSecure]
        channel = FdChannel(fd) if isinstance(fd, int) else fd  # or a Rs485Bus drop
        info = osdp.PDInfo(address, channel, scbk=key, flags=flags)
        self.commands: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.received: list[tuple[float, dict[str, Any]]] = []
        self._pd = _FastPD(
            info, READER_CAPS, log_level=osdp.LogLevel.Emergency, command_handler=self._on_command
        )
        self._pd.start()

    def _on_command(self, command: dict[str, Any]) -> tuple[int, None]:
        self.commands.put((time.monotonic(), command))
        return 0, None

    def drain(self) -> list[dict[str, Any]]:
        while True:
            try:
                self.received.append(self.commands.get_nowait())
            except queue.Empty:
                return [c for _, c in self.received]

    def card(self, uid_hex: str) -> None:
        data = bytes.fromhex(uid_hex)
        self._pd.submit_event(
            {
                "event": osdp.Event.CardRead,
                "reader_no": 0,
                "direction": 0,
                "format": osdp.CardFormat.Unspecified,
                "length": len(data) * 8,
                "data": data,
            }
        )

    def local_status(self, tamper: bool, power_fail: bool = False) -> None:
        report = bytes([int(tamper), int(power_fail)])
        self._pd.submit_event(
            {"event": osdp.Event.Status, "type": osdp.StatusReportType.Local, "report": report}
        )

    def door(self, is_open: bool) -> None:
        report = bytes([int(is_open), 0, 0, 0])
        self._pd.submit_event(
            {"event": osdp.Event.Status, "type": osdp.StatusReportType.Input, "report": report}
        )

    def stop(self) -> None:
        if self._pd.thread is not None:
            self._pd.teardown()


@pytest.fixture
def osdp_reader() -> Iterator[Callable[..., PdPeer]]:
    """``make(fd, address, key, install_mode=False)`` -> a running PdPeer, stopped at teardown."""
    peers: list[PdPeer] = []

    def make(fd: int, address: int, key: bytes | None, install_mode: bool = False) -> PdPeer:
        peers.append(PdPeer(fd, address, key, install_mode=install_mode))
        return peers[-1]

    yield make
    for peer in peers:
        peer.stop()


@pytest.fixture
def rs485_bus(pty_link: PtyLink) -> Rs485Bus:
    """Several readers on the pty link, as on one RS-485 line."""
    return Rs485Bus(pty_link.master)
