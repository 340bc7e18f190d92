"""USB serial relay boards as door strikes (the common CH340 "LCUS" boards).

Each command is four bytes: ``A0``, the channel (1-based), the state (``01`` on,
``00`` off) and the low byte of their sum: channel 1 on is ``A0 01 01 A2``, off
is ``A0 01 00 A1``. The boards answer nothing.

URL: ``relay+serial:///dev/bidroom-relay0?channel=1&baud=9600`` (any pyserial URL
after ``relay+``). The port is opened on the first pulse and again after any
failure, so an unplugged board costs a warning and is back on the next pulse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import serial
import serial_asyncio_fast

from devices.base import DeviceError
from devices.serial_line import int_param, split_serial_url
from service.errors import ConfigError

_LOGGER = logging.getLogger(__name__)

_IO_ERRORS = (serial.SerialException, OSError, ConnectionError, ValueError)


def relay_frame(channel: int, on: bool) -> bytes:
    """``A0 <channel> <state> <checksum>``."""
    state = 1 if on else 0
    return bytes([0xA0, channel, state, (0xA0 + channel + state) & 0xFF])


class SerialRelay:
    """One channel of a serial relay board; :meth:`pulse` opens the door for a while."""

    def __init__(
        self, port: str, *, channel: int = 1, baudrate: int = 9600, name: str | None = None
    ) -> None:
        if not 1 <= channel <= 8:
            raise ConfigError(f"relay {port}: channel must be 1 to 8, got {channel}")
        self.name = name or port
        self._port = port
        self._channel = channel
        self._baud = baudrate
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str, name: str) -> SerialRelay:
        target = split_serial_url(url, ("channel", "baud"))
        where = f"strike of reader {name}"
        return cls(
            target.port,
            channel=int_param(target, "channel", 1, where),
            baudrate=int_param(target, "baud", 9600, where),
            name=name,
        )

    async def pulse(self, seconds: float) -> None:
        """Relay on, wait ``seconds``, relay off — off even when cancelled (fail secure)."""
        async with self._lock:
            await self._set(on=True)
            try:
                await asyncio.sleep(seconds)
            finally:
                try:
                    await self._set(on=False)
                except DeviceError as exc:
                    _LOGGER.warning("%s: could not switch the strike off: %s", self.name, exc)

    async def _set(self, on: bool) -> None:
        writer = await self._open()
        try:
            writer.write(relay_frame(self._channel, on))
            await writer.drain()
        except _IO_ERRORS as exc:
            await self.close()
            raise DeviceError(f"relay {self._port}: {exc}") from exc
        _LOGGER.debug("%s: relay channel %d %s", self.name, self._channel, "on" if on else "off")

    async def _open(self) -> asyncio.StreamWriter:
        writer = self._writer
        if writer is not None and not writer.transport.is_closing():
            return writer
        await self.close()
        try:
            _, writer = await serial_asyncio_fast.open_serial_connection(
                url=self._port, baudrate=self._baud
            )
        except _IO_ERRORS as exc:
            raise DeviceError(f"cannot open relay {self._port}: {exc}") from exc
        self._writer = writer
        return writer

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(*_IO_ERRORS):
                await writer.wait_closed()
