"""Simple serial badge readers that print each UID in hex followed by CR/LF.

Three layers, as in zigpy-znp: :class:`LineCodec` is pure (bytes in, UIDs out,
resync after garbage), :class:`_LineProtocol` buffers bytes from the port and
never lets a consumer's exception into the transport, and :class:`SerialLineReader`
is the adapter. :func:`open_serial` is the only place an asyncio port is opened; :class:`PolledPort`
is the port of libraries that poll from their own thread (libosdp).

URLs: ``serial:///dev/ttyUSB0?baud=9600`` or any pyserial URL after ``serial+``
(``serial+socket://127.0.0.1:7000``, ``serial+rfc2217://host:4000``). Reader
options: ``debounce_s`` (default 1.0): the same UID again within that time is
one presentation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import serial
import serial_asyncio_fast

from devices.base import DeviceError, ReaderAdapter, ReaderHealth, ReaderState, TapSubmit
from service.domain.taps import InvalidTap, Tap
from service.errors import ConfigError
from service.logs import redact_uid

if TYPE_CHECKING:
    from devices.context import DeviceContext
    from service.config import ReaderConfig

_LOGGER = logging.getLogger(__name__)

# Longest line we accept: 10 UID bytes as hex plus separators; longer is junk.
MAX_LINE = 40
# Errors a port raises once its adapter is unplugged (termios.error is no OSError).
_IO_ERRORS = (serial.SerialException, OSError, termios.error)
_HEX_LINE = re.compile(rb"^[0-9A-Fa-f]{8,20}$")


@dataclass(frozen=True, slots=True)
class SerialUrl:
    """A bidroom device URL split into the pyserial URL and our own parameters."""

    port: str
    params: dict[str, str] = field(default_factory=dict)


def split_serial_url(url: str, own: Sequence[str]) -> SerialUrl:
    """``osdp+socket://h:1?addr=1`` -> port ``socket://h:1``, params ``{"addr": "1"}``.

    The scheme before the first ``+`` is ours; ``serial://`` (and a bare
    ``scheme:/dev/...``) names a local device, which pyserial takes as a path.
    Query parameters named in ``own`` are ours; the rest stay on the pyserial URL.
    """
    head, sep, rest = url.partition(":")
    if not sep:
        raise ConfigError(f"device URL {url!r} has no scheme")
    inner = head.split("+", 1)[1] + ":" + rest if "+" in head else "serial:" + rest
    base, _, query = inner.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    params = {k: v for k, v in pairs if k in own}
    extra = [(k, v) for k, v in pairs if k not in own]
    if base.startswith("serial://"):
        base = base[len("serial://") :]
    elif base.startswith("serial:"):
        base = base[len("serial:") :]
    if not base:
        raise ConfigError(f"device URL {url!r} names no port")
    if extra:
        base += "?" + urlencode(extra)
    return SerialUrl(base, params)


def int_param(url: SerialUrl, key: str, default: int, where: str) -> int:
    raw = url.params.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{where}: {key} must be a whole number, got {raw!r}") from exc


class PolledPort:
    """A pyserial port polled by a library's own I/O thread (libosdp's Channel interface).

    Reads never block. An I/O error never propagates into the library: it is
    reported once through ``on_lost`` and the port then reads and writes nothing.
    """

    # libosdp: PDs whose channels have the same id share one bus.
    id = 0

    def __init__(self, port: str, baudrate: int, on_lost: Callable[[str], None]) -> None:
        try:
            self._port = serial.serial_for_url(port, baudrate=baudrate, timeout=0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceError(f"cannot open {port}: {exc}") from exc
        self._name = port
        self._on_lost = on_lost
        self.error: str | None = None

    def _fail(self, exc: Exception) -> None:
        if self.error is None:
            self.error = f"{self._name}: {exc}"
            self._on_lost(self.error)

    def read(self, max_bytes: int) -> bytes:
        if self.error is not None:
            return b""
        try:
            return bytes(self._port.read(max_bytes))
        except _IO_ERRORS as exc:
            self._fail(exc)
            return b""

    def write(self, buf: bytes) -> int:
        if self.error is not None:
            return 0
        try:
            return int(self._port.write(buf) or 0)
        except _IO_ERRORS as exc:
            self._fail(exc)
            return 0

    def flush(self) -> None:
        if self.error is None:
            try:
                self._port.reset_input_buffer()
            except _IO_ERRORS as exc:
                self._fail(exc)

    def close(self) -> None:
        with contextlib.suppress(*_IO_ERRORS):
            self._port.close()


def event_id(reader: str) -> str:
    """Unique per presentation, also across restarts: reader name and wall-clock ns."""
    return f"{reader[:40]}-{time.time_ns()}"


class LineCodec:
    """Pure codec: feed bytes, get complete UIDs; junk and over-long lines are dropped."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._buf = bytearray()
        self._max = max_line
        self._skipping = False
        self.dropped = 0

    def feed(self, data: bytes) -> list[str]:
        uids: list[str] = []
        for byte in data:
            if byte in b"\r\n":
                self._end_line(uids)
            elif self._skipping:
                continue
            elif len(self._buf) >= self._max:
                # Over-long: skip to the next line end, then resync.
                self._buf.clear()
                self._skipping = True
                self.dropped += 1
            else:
                self._buf.append(byte)
        return uids

    def _end_line(self, uids: list[str]) -> None:
        line = bytes(self._buf).strip()
        self._buf.clear()
        if self._skipping:
            self._skipping = False
            return
        if not line:
            return
        if _HEX_LINE.match(line) and len(line) % 2 == 0:
            uids.append(line.decode("ascii").upper())
        else:
            self.dropped += 1


class _LineProtocol(asyncio.Protocol):
    """Buffers the port's bytes into UIDs; the connection's loss ends the adapter's run."""

    def __init__(self, name: str, uids: asyncio.Queue[str]) -> None:
        self._name = name
        self._codec = LineCodec()
        self._uids = uids
        self.lost: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        _LOGGER.log(5, "%s: rx %s", self._name, data.hex())
        before = self._codec.dropped
        for uid in self._codec.feed(data):
            self._uids.put_nowait(uid)
        if self._codec.dropped != before:
            _LOGGER.debug("%s: dropped a line that is not a UID", self._name)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(str(exc) if exc else "port closed")


async def open_serial(
    port: str, baudrate: int, protocol_factory: Any
) -> tuple[asyncio.Transport, Any]:
    """The one place a serial line is opened; every failure becomes a DeviceError."""
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await serial_asyncio_fast.create_serial_connection(
            loop, protocol_factory, port, baudrate=baudrate
        )
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceError(f"cannot open {port}: {exc}") from exc
    return transport, protocol


class SerialLineReader:
    """One serial reader: UID lines in, taps out; no feedback channel back to the reader."""

    def __init__(self, name: str, port: str, *, baudrate: int = 9600, debounce_s: float = 1.0):
        self.name = name
        self.readers: tuple[str, ...] = (name,)
        self._port = port
        self._baud = baudrate
        self._debounce_s = debounce_s
        self._last: tuple[str, float] | None = None

    async def run(self, submit: TapSubmit, health: Mapping[str, ReaderHealth]) -> None:
        uids: asyncio.Queue[str] = asyncio.Queue()
        transport, protocol = await open_serial(
            self._port, self._baud, lambda: _LineProtocol(self.name, uids)
        )
        assert isinstance(protocol, _LineProtocol)
        h = health[self.name]
        h.set_state(ReaderState.ONLINE)
        _LOGGER.info("%s: listening on %s", self.name, self._port)
        getter: asyncio.Task[str] | None = None
        try:
            while True:
                getter = asyncio.ensure_future(uids.get())
                await asyncio.wait({getter, protocol.lost}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    raise DeviceError(f"{self._port}: {protocol.lost.result()}")
                await self._present(getter.result(), submit, h)
        finally:
            if getter is not None:
                getter.cancel()
            transport.close()

    async def _present(self, uid: str, submit: TapSubmit, health: ReaderHealth) -> None:
        health.seen()
        now = time.monotonic()
        last = self._last
        self._last = (uid, now)
        if last is not None and last[0] == uid and now - last[1] < self._debounce_s:
            _LOGGER.debug("%s: same badge again within %.1f s, ignored", self.name, now - last[1])
            return
        try:
            tap = Tap(self.name, uid, datetime.now(UTC), event_id(self.name))
        except InvalidTap:  # the message would carry the whole UID: keep it out of the log
            _LOGGER.warning("%s: unreadable badge %s", self.name, redact_uid(uid))
            return
        decision = await submit(tap)
        _LOGGER.debug(
            "%s: badge %s -> %s (%s)",
            self.name,
            redact_uid(tap.uid),
            "grant" if decision.granted else "deny",
            decision.reason.value,
        )


def build(readers: Sequence[ReaderConfig], ctx: DeviceContext) -> list[ReaderAdapter]:
    adapters: list[ReaderAdapter] = []
    for reader in readers:
        url = split_serial_url(reader.url, ("baud",))
        where = f"reader {reader.name}"
        debounce = float(reader.options.get("debounce_s", 1.0))
        adapters.append(
            SerialLineReader(
                reader.name,
                url.port,
                baudrate=int_param(url, "baud", 9600, where),
                debounce_s=debounce,
            )
        )
    return adapters
