"""OSDP door readers on an RS-485 bus, driven by libosdp's ControlPanel.

URLs: ``osdp+serial:///dev/ttyUSB0?addr=1&baud=115200`` or any pyserial URL after
``osdp+`` (``osdp+socket://127.0.0.1:9001?addr=1``). Readers whose URLs differ only
in ``addr`` share one bus: one port, one ControlPanel, one adapter.

Threading: libosdp runs its own refresh thread and calls our event handler from
it with its lock held. The handler only hands the event to the loop with
``loop.call_soon_threadsafe``; every command (LED, buzzer, strike output) is
submitted from the loop side. The serial port is read and written only by that
refresh thread (the libosdp Channel below).

Latency: libosdp polls each reader every 50 ms (``OSDP_PD_POLL_TIMEOUT_MS``, a
compile-time constant of the wheel); the Python wrapper's refresh thread idles
20 ms between refreshes, which adds up to 20 ms to every hop. We idle
``refresh_ms`` (URL parameter, default 5) instead, so a queued command leaves at
most 5 ms after we submit it.

Secure Channel is always on and enforced (SCBK-D refused). Each reader's key
comes from the key file; :func:`install_key` provisions it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import osdp

from devices.base import DeviceError, ReaderAdapter, ReaderHealth, ReaderState, TapSubmit
from devices.serial_line import PolledPort, event_id, int_param, split_serial_url
from devices.strike import Door, DoorEvent, DoorEventKind, osdp_feedback, osdp_unlock
from service.domain.taps import DENY, Decision, InvalidTap, Reason, Tap
from service.errors import ConfigError
from service.logs import redact_uid

if TYPE_CHECKING:
    from devices.context import DeviceContext
    from service.config import ReaderConfig
    from service.keyfile import KeyFile

__all__ = ["DoorEvent", "DoorEventKind", "OnDeviceEvent", "OsdpBus", "build", "install_key"]

_LOGGER = logging.getLogger(__name__)

OnDeviceEvent = Callable[[DoorEvent], Awaitable[None]]
KeyLookup = Callable[[str], bytes | None]

_CP_FLAGS = (osdp.LibFlag.EnforceSecure, osdp.LibFlag.EnableNotification)
# Longest pause between two attempts to bring an offline reader back: a reader that
# comes back is in use again within 5 s (the attempt itself takes a few refreshes).
_REVIVE_MAX_S = 4.0
# A reader refusing our Secure Channel key does so within this long of our first poll
# (libosdp takes ~8 s to give up on one that does not answer at all).
_HANDSHAKE_S = 3.0
# How long a stopping bus waits for taps in flight before cancelling them.
_GRACE_S = 1.0
_OPTIONS = frozenset({"held_open_s", "forced_window_s", "door_input"})
_NOTE_SC = osdp.EventNotification.SecureChannelStatus
_NOTE_PD = osdp.EventNotification.PeripheralDeviceStatus


def _no_key_message(reader: str) -> str:
    return (
        f"reader {reader} has no Secure Channel key installed; "
        f"run `bidroom reader install-key --reader {reader}` with the reader in install mode"
    )


class _ControlPanel(osdp.ControlPanel):  # type: ignore[misc]
    """libosdp's ControlPanel with our refresh cadence and no unbounded event queue."""

    def __init__(
        self,
        pd_info: list[Any],
        handler: Callable[[int, dict[str, Any]], None],
        refresh_s: float,
    ) -> None:
        self._handler = handler
        self._refresh_s = refresh_s
        super().__init__(pd_info, log_level=osdp.LogLevel.Warning)

    def _internal_event_handler(self, pd: int, event: dict[str, Any]) -> int:
        # Runs on libosdp's thread with its lock held: hand over, never call back in.
        self._handler(pd, event)
        return 0

    def refresh(self, event: threading.Event, lock: threading.Lock, ctx: Any) -> None:
        while not event.is_set():
            with lock:
                ctx.refresh()
            event.wait(self._refresh_s)


@dataclass(frozen=True, slots=True)
class BusReader:
    name: str
    address: int
    held_open_s: float = 30.0
    forced_window_s: float = 5.0
    door_input: int = 0

    def door(self, loop: asyncio.AbstractEventLoop, emit: Callable[..., None]) -> Door:
        return Door(self.name, loop, emit, self.held_open_s, self.forced_window_s)


def _pd_infos(channel: PolledPort, readers: Sequence[BusReader], keys: KeyLookup) -> list[Any]:
    return [
        osdp.PDInfo(r.address, channel, scbk=keys(r.name), name=r.name, flags=list(_CP_FLAGS))
        for r in readers
    ]


@dataclass(frozen=True, slots=True)
class _Slot:
    """One reader on the running bus: its config and its door supervision."""

    reader: BusReader
    door: Door


class OsdpBus:
    """One RS-485 bus (one port, one ControlPanel) serving one or more door readers."""

    def __init__(
        self,
        port: str,
        readers: Sequence[BusReader],
        keys: KeyLookup,
        *,
        baudrate: int = 115200,
        refresh_ms: float = 5.0,
        on_event: OnDeviceEvent | None = None,
    ) -> None:
        self.name = f"osdp:{port}"
        self.readers = tuple(r.name for r in readers)
        self._port = port
        self._bus = tuple(readers)
        self._keys = keys
        self._baud = baudrate
        self._refresh_s = refresh_ms / 1000
        self._on_event = on_event
        self._tasks: set[asyncio.Task[None]] = set()
        self._cp: _ControlPanel | None = None
        self._slots: dict[int, _Slot] = {}
        self._revive: dict[int, asyncio.Task[None]] = {}
        self._online: dict[int, bool] = {}  # last PD status reported, by address
        self._attempt: dict[int, float] = {}  # when we last started talking to each reader
        self._submit: TapSubmit | None = None
        self._health: Mapping[str, ReaderHealth] = {}

    def _keyed(self, health: Mapping[str, ReaderHealth]) -> list[BusReader]:
        """Readers with a key; the others are refused and say how to fix it."""
        keyed = [r for r in self._bus if self._keys(r.name) is not None]
        for r in self._bus:
            if r not in keyed:
                _LOGGER.error("%s: %s", r.name, _no_key_message(r.name))
                health[r.name].set_state(ReaderState.BACKOFF, _no_key_message(r.name))
        if not keyed:
            raise DeviceError("; ".join(_no_key_message(r.name) for r in self._bus))
        return keyed

    async def run(self, submit: TapSubmit, health: Mapping[str, ReaderHealth]) -> None:
        readers = self._keyed(health)
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[int, dict[str, Any]] | str] = asyncio.Queue()

        def post(item: tuple[int, dict[str, Any]] | str) -> None:
            with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
                loop.call_soon_threadsafe(inbox.put_nowait, item)

        # Off the loop: a socket:// port connects here, which may take seconds.
        channel = await asyncio.to_thread(PolledPort, self._port, self._baud, post)
        cp = _ControlPanel(
            _pd_infos(channel, readers, self._keys), lambda pd, ev: post((pd, ev)), self._refresh_s
        )
        self._cp, self._submit, self._health = cp, submit, health
        self._slots = {i: _Slot(r, r.door(loop, self._emit)) for i, r in enumerate(readers)}
        self._online = {}
        self._attempt = {r.address: loop.time() for r in readers}
        cp.start()
        _LOGGER.info("%s: control panel started for %s", self.name, ", ".join(self.readers))
        try:
            while True:
                item = await inbox.get()
                if isinstance(item, str):
                    raise DeviceError(item)
                self._dispatch(*item)
        finally:
            await self._close(cp, channel)

    async def _close(self, cp: _ControlPanel, channel: PolledPort) -> None:
        for slot in self._slots.values():
            slot.door.close()
            if self._online.get(slot.reader.address):  # the port is gone or we stop
                self._emit(slot.reader.name, "offline")
        revive, self._revive = list(self._revive.values()), {}
        for task in revive:
            task.cancel()
        await asyncio.gather(*revive, return_exceptions=True)
        if self._tasks:  # let taps in flight be decided and committed, briefly
            await asyncio.wait(list(self._tasks), timeout=_GRACE_S)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        cp.teardown()
        channel.close()
        self._cp = None

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _emit(self, reader: str, kind: DoorEventKind) -> None:
        event = DoorEvent(reader, kind, datetime.now(UTC))
        log = _LOGGER.warning if kind in ("tamper", "forced_open", "held_open") else _LOGGER.info
        log("%s: door event %s", reader, kind)
        if self._on_event is not None:
            self._spawn(self._deliver(event), f"door-event:{reader}")

    async def _deliver(self, event: DoorEvent) -> None:
        assert self._on_event is not None
        try:
            await self._on_event(event)
        except Exception:
            _LOGGER.exception("%s: door event handler failed", event.reader)

    def _dispatch(self, pd: int, event: dict[str, Any]) -> None:
        slot = self._slots[pd]
        health = self._health[slot.reader.name]
        health.seen()
        kind = event.get("event")
        if kind == osdp.Event.Notification:
            self._notification(slot, health, event)
        elif kind == osdp.Event.CardRead:
            self._spawn(self._tap(slot, event), f"tap:{slot.reader.name}")
        elif kind == osdp.Event.Status:
            _status_report(slot, event.get("type"), bytes(event.get("report", b"")))
        else:
            _LOGGER.debug("%s: ignored event %s", slot.reader.name, kind)

    def _notification(self, slot: _Slot, health: ReaderHealth, event: dict[str, Any]) -> None:
        name = slot.reader.name
        if event.get("type") == _NOTE_PD:
            online = bool(event.get("arg0"))
            known = self._online.get(slot.reader.address)
            self._online[slot.reader.address] = online
            if online:
                revive = self._revive.pop(slot.reader.address, None)
                if revive is not None:
                    revive.cancel()
                health.set_state(ReaderState.ONLINE)
            else:
                health.set_state(ReaderState.BACKOFF, self._why_offline(slot, known))
                if slot.reader.address not in self._revive:  # disabling reports offline too
                    task = asyncio.ensure_future(self._revive_reader(slot.reader))
                    self._revive[slot.reader.address] = task
            if online is not known:
                self._emit(name, "online" if online else "offline")
        elif event.get("type") == _NOTE_SC:
            _LOGGER.debug("%s: secure channel %s", name, "up" if event.get("arg0") else "down")

    def _why_offline(self, slot: _Slot, was_online: bool | None) -> str:
        """A reader that refuses the Secure Channel does so within the handshake, about a
        second after we start talking to it; one that does not answer at all is declared
        offline only after libosdp's ~8 s of unanswered polls."""
        started = self._attempt.get(slot.reader.address)
        quick = started is not None and asyncio.get_running_loop().time() - started < _HANDSHAKE_S
        if not was_online and quick:
            return (
                "Secure Channel key mismatch: the reader answers but refuses our key; "
                f"install it again with `bidroom reader install-key --reader {slot.reader.name}`"
            )
        return "reader not answering"

    async def _revive_reader(self, reader: BusReader) -> None:
        """libosdp waits 300 s before it retries an offline reader; we retry sooner.

        Disabling and re-enabling the PD (libosdp's hot-plug) restarts its state
        machine: 1 s after going offline, then 2, then every 4 s.
        """
        delay = 1.0
        while self._cp is not None:
            await asyncio.sleep(delay)
            cp = self._cp
            if cp is None or not cp.disable_pd(reader.address):
                return
            await asyncio.sleep(max(0.05, 4 * self._refresh_s))  # disable takes a refresh
            self._attempt[reader.address] = asyncio.get_running_loop().time()
            if not cp.enable_pd(reader.address):
                _LOGGER.warning("%s: could not re-enable the reader", reader.name)
            delay = min(_REVIVE_MAX_S, delay * 2)

    async def _tap(self, slot: _Slot, event: dict[str, Any]) -> None:
        name = slot.reader.name
        data = bytes(event.get("data", b""))
        raw = data.decode("ascii", "replace") if event.get("format") == 2 else data.hex()
        assert self._submit is not None
        try:
            tap = Tap(name, raw, datetime.now(UTC), event_id(name))
        except InvalidTap:  # the message would carry the whole UID: keep it out of the log
            _LOGGER.warning("%s: unreadable card (%d bytes of card data)", name, len(data))
            self._show(slot, Decision(False, Reason.UNKNOWN_BADGE, DENY))
            return
        try:
            decision = await self._submit(tap)
        except Exception:
            _LOGGER.exception("%s: deciding badge %s failed", name, redact_uid(tap.uid))
            self._show(slot, Decision(False, Reason.UNKNOWN_BADGE, DENY))
            return
        self._show(slot, decision)
        _LOGGER.debug(
            "%s: badge %s -> %s (%s)",
            name,
            redact_uid(tap.uid),
            "grant" if decision.granted else "deny",
            decision.reason.value,
        )

    def _show(self, slot: _Slot, decision: Decision) -> None:
        """Strike first (it is what the visitor waits for), then LED, then buzzer."""
        fb = decision.feedback
        if decision.granted:
            slot.door.granted(fb.open_door_s)
        for command in osdp_feedback(fb, decision.granted):
            self._command(slot.reader, command)

    def can_unlock(self, reader: str) -> bool:
        return reader in self.readers

    async def unlock(self, reader: str, seconds: float) -> None:
        """*Buka pintu*: pulse the reader's output 0 (its strike), as a grant would."""
        if reader not in self.readers:
            raise LookupError(reader)
        slot = next((s for s in self._slots.values() if s.reader.name == reader), None)
        cp = self._cp
        if slot is None or cp is None or not self._online.get(slot.reader.address):
            raise DeviceError(f"reader {reader} is offline")
        slot.door.granted(seconds)  # the door opening now is not forced
        if not cp.submit_command(slot.reader.address, osdp_unlock(seconds)):
            raise DeviceError(f"reader {reader} refused the output command")

    def _command(self, reader: BusReader, command: dict[str, Any]) -> None:
        cp = self._cp
        if cp is None:
            return
        if not cp.submit_command(reader.address, command):
            _LOGGER.warning("%s: reader refused command %s", reader.name, command["command"])


def _status_report(slot: _Slot, kind: object, report: bytes) -> None:
    """Local status: byte 0 tamper, byte 1 power failure. Input status: one byte per input."""
    if kind == osdp.StatusReportType.Local and len(report) >= 2:
        slot.door.local_status(tamper=bool(report[0]), power_fail=bool(report[1]))
    elif kind == osdp.StatusReportType.Input and len(report) > slot.reader.door_input:
        slot.door.contact(is_open=bool(report[slot.reader.door_input]))


async def install_key(
    url: str, addr: int, reader: str, keys: KeyFile, *, wait_s: float = 15.0
) -> bytes:
    """Give one reader (in install mode) a fresh random Secure Channel key.

    The control panel opens the Secure Channel with the public default key
    SCBK-D (libosdp's install-mode flag allows that once), sends KEYSET with the
    new key, and reconnects with it. Only once the reader has answered under the
    new key is the key stored with ``keys.set_reader_key``.
    """
    target = split_serial_url(url, ("addr", "baud", "refresh_ms"))
    baud = int_param(target, "baud", 115200, f"reader {reader}")
    new_key = secrets.token_bytes(16)
    loop = asyncio.get_running_loop()
    confirmed: asyncio.Future[None] = loop.create_future()

    def on_event(_pd: int, event: dict[str, Any]) -> None:
        # Secure Channel up with a key that is not SCBK-D (arg1 == 0): the new key works.
        if event.get("type") == _NOTE_SC and event.get("arg0") and not event.get("arg1"):
            loop.call_soon_threadsafe(_settle, confirmed)

    lost: list[str] = []
    channel = await asyncio.to_thread(PolledPort, target.port, baud, lost.append)
    flags = [osdp.LibFlag.InstallMode, osdp.LibFlag.EnableNotification]
    info = osdp.PDInfo(addr, channel, scbk=new_key, name=reader, flags=flags)
    cp = _ControlPanel([info], on_event, 0.005)
    cp.start()
    try:
        await asyncio.wait_for(confirmed, timeout=wait_s)
    except TimeoutError as exc:
        detail = f" ({lost[0]})" if lost else ""
        raise DeviceError(
            f"reader {reader} at address {addr} did not take a new key{detail}: is it in "
            "install mode (factory default key) and wired to this port?"
        ) from exc
    finally:
        cp.teardown()
        channel.close()
    keys.set_reader_key(reader, new_key)
    fingerprint = hashlib.sha256(new_key).hexdigest()[:8]
    _LOGGER.warning("%s: new Secure Channel key installed (fingerprint %s)", reader, fingerprint)
    return new_key


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _bus_reader(reader: ReaderConfig, address: int) -> BusReader:
    opts = reader.options
    unknown = set(opts) - _OPTIONS
    if unknown:
        raise ConfigError(f"reader {reader.name}: unknown OSDP option(s) {sorted(unknown)}")
    if not 0 <= address <= 126:
        raise ConfigError(f"reader {reader.name}: OSDP address must be 0 to 126, got {address}")
    return BusReader(
        reader.name,
        address,
        held_open_s=float(opts.get("held_open_s", 30.0)),
        forced_window_s=float(opts.get("forced_window_s", 5.0)),
        door_input=int(opts.get("door_input", 0)),
    )


def build(readers: Sequence[ReaderConfig], ctx: DeviceContext) -> list[ReaderAdapter]:
    """One adapter per port: readers on the same port (URL minus ``addr``) share it."""
    on_event: OnDeviceEvent | None = getattr(ctx, "on_device_event", None)
    buses: dict[str, list[tuple[BusReader, int, int]]] = {}
    for reader in readers:
        url = split_serial_url(reader.url, ("addr", "baud", "refresh_ms"))
        where = f"reader {reader.name}"
        entry = (
            _bus_reader(reader, int_param(url, "addr", 0, where)),
            int_param(url, "baud", 115200, where),
            int_param(url, "refresh_ms", 5, where),
        )
        buses.setdefault(url.port, []).append(entry)
    adapters: list[ReaderAdapter] = []
    for port, entries in buses.items():
        if len({(baud, refresh) for _, baud, refresh in entries}) > 1:
            raise ConfigError(f"OSDP readers on {port} must use the same baud and refresh_ms")
        addresses = [r.address for r, _, _ in entries]
        if len(set(addresses)) != len(addresses):
            raise ConfigError(f"OSDP readers on {port} must have different addresses")
        _, baud, refresh = entries[0]
        bus = [r for r, _, _ in entries]
        adapters.append(
            OsdpBus(
                port, bus, ctx.keys.reader_key, baudrate=baud, refresh_ms=refresh, on_event=on_event
            )
        )
    return adapters
