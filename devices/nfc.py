"""NFC readers driven by nfcpy: USB (Sony RC-S380, SCL3711, ACR122U), PN532 on a tty, udp.

URL ``nfc:<nfcpy path>``: ``nfc:usb:054c:06c3`` (Sony RC-S380), ``nfc:usb:04e6:5591``
(SCL3711), ``nfc:usb:072f:2200`` (ACR122U), ``nfc:tty:USB0:pn532``,
``nfc:udp:127.0.0.1:54321`` (nfcpy's simulated reader).
Options (extra keys of ``[[readers]]``): see :class:`NfcOptions`.

nfcpy is blocking, so each reader gets ONE worker thread. It polls for ISO 14443-A
badges (NTAG21x), reads the UID and the signed NDEF token
(:mod:`service.domain.badge_token`), hands the tap to the loop with
``loop.call_soon_threadsafe`` and waits (bounded) for the decision so the reader
can beep; then nfcpy waits until the badge leaves the field, so a badge held on
the reader is one tap. The domain, not this module, judges the token.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

import ndef
import nfc
import nfc.clf
import nfc.tag

from devices.base import DeviceError, ReaderAdapter, ReaderHealth, TapSubmit
from devices.context import DeviceContext
from devices.worker import OPENED, TapBridge, join_worker, run_worker
from service.config import ReaderConfig
from service.domain import badge_token
from service.domain.taps import Decision, Tap
from service.errors import ConfigError
from service.logs import redact_uid

_LOGGER = logging.getLogger(__name__)

PATH_KINDS = ("usb", "tty", "com", "udp")
PROBE_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class NfcOptions:
    # Pause between two polls of the field.
    poll_interval_s: float = 0.1
    # How long the reader waits for the decision before giving up on feedback.
    decision_timeout_s: float = 5.0
    # The same badge seen again this soon after it left the field is the same
    # presentation (a flaky presence check must not make a second tap).
    repeat_guard_s: float = 1.0

    @classmethod
    def from_config(cls, reader: ReaderConfig, defaults: NfcOptions | None = None) -> NfcOptions:
        unknown = set(reader.options) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"reader {reader.name}: unknown option(s) {sorted(unknown)}")
        try:
            values = {k: float(v) for k, v in reader.options.items()}
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"reader {reader.name}: reader options must be numbers") from exc
        if any(v < 0 for v in values.values()):
            raise ConfigError(f"reader {reader.name}: reader options must not be negative")
        return replace(defaults or cls(), **values)


@dataclass(frozen=True, slots=True)
class TapTiming:
    """perf_counter() stamps of one tap: nfcpy handed us the tag, token read, decided."""

    tag_at: float
    token_at: float
    decided_at: float


def nfcpy_path(url: str) -> str:
    """``nfc:usb:072f:2200`` -> ``usb:072f:2200``; ConfigError if it is no nfcpy path."""
    scheme, _, path = url.partition(":")
    if scheme.lower() != "nfc" or path.split(":", 1)[0] not in PATH_KINDS:
        raise ConfigError(
            f"NFC reader URL must be nfc:<{'|'.join(PATH_KINDS)}>:..., got {url!r} "
            "(e.g. nfc:usb:054c:06c3, nfc:tty:USB0:pn532, nfc:udp:127.0.0.1:54321)"
        )
    return path


class _UdpProbe:
    """Is anybody listening on the udp driver's peer address? (The driver never says.)

    A connected UDP socket learns from the ICMP "port unreachable" that nothing is
    bound there: the next call on it fails with ECONNREFUSED. The probe datagram is
    empty, which the peer (nfcpy's listen side or the tag emulator) ignores.
    """

    def __init__(self, path: str) -> None:
        parts = path.split(":")
        host = parts[1] if len(parts) > 1 and parts[1] else "localhost"
        port = int(parts[2]) if len(parts) > 2 and parts[2] else 54321
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.connect((socket.gethostbyname(host), port))
        self._sock.setblocking(False)
        self.next_at = 0.0  # monotonic time of the next periodic probe

    def alive(self, wait_s: float = 0.0) -> bool:
        if self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED:
            return False
        try:
            self._sock.send(b"")
            if wait_s:
                time.sleep(wait_s)
            return self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != errno.ECONNREFUSED
        except ConnectionRefusedError:
            return False

    def close(self) -> None:
        self._sock.close()


def open_frontend(name: str, path: str) -> tuple[Any, _UdpProbe | None]:
    """Open nfcpy's ContactlessFrontend on ``path``; DeviceError if there is no reader."""
    try:
        probe = _UdpProbe(path) if path.startswith("udp") else None
    except (OSError, ValueError) as exc:
        raise DeviceError(f"{name}: bad udp reader address {path}: {exc}") from exc
    if probe is not None and not probe.alive(wait_s=0.05):
        probe.close()
        raise DeviceError(f"{name}: nothing answers on {path}")
    clf = nfc.ContactlessFrontend()
    try:
        opened = clf.open(path)
    except (OSError, ValueError) as exc:
        opened = False
        _LOGGER.debug("%s: open %s failed: %s", name, path, exc)
    if not opened:
        clf.close()
        if probe is not None:
            probe.close()
        raise DeviceError(f"{name}: no NFC reader at {path}")
    return clf, probe


def tag_uid(tag: Any) -> str:
    return bytes(tag.identifier).hex().upper()


def read_token(name: str, tag: Any) -> str | None:
    """The first ``BR1.`` text record of the badge's NDEF message, if any."""
    try:
        message = tag.ndef
        records = list(message.records) if message is not None else []
    except (nfc.tag.TagCommandError, nfc.clf.CommunicationError, ndef.DecodeError) as exc:
        _LOGGER.debug("%s: NDEF read failed: %s", name, exc)
        return None
    for record in records:
        if isinstance(record, ndef.TextRecord) and record.text.startswith("BR1."):
            return str(record.text)
    return None


class NfcReader:
    """One nfcpy reader (one device URL, one reader name)."""

    def __init__(self, config: ReaderConfig, options: NfcOptions | None = None) -> None:
        self.name = config.name
        self.readers: tuple[str, ...] = (config.name,)
        self.path = nfcpy_path(config.url)
        self.options = options or NfcOptions.from_config(config)
        self.timings: deque[TapTiming] = deque(maxlen=1000)

    async def run(self, submit: TapSubmit, health: Mapping[str, ReaderHealth]) -> None:
        bridge = TapBridge(self.name, self.options.decision_timeout_s)
        session = _Session(self, bridge)
        await run_worker(bridge, session.work, submit, health[self.name])


class _Session:
    """The worker-thread side of one :meth:`NfcReader.run`: nfcpy lives only here."""

    def __init__(self, reader: NfcReader, bridge: TapBridge) -> None:
        self._reader = reader
        self._name = reader.name
        self._opts = reader.options
        self._bridge = bridge
        self._stop = bridge.stopped
        self._lost: str | None = None
        self._probe: _UdpProbe | None = None
        self._last_uid: str | None = None
        self._last_gone = 0.0

    def work(self) -> None:
        clf, self._probe = open_frontend(self._name, self._reader.path)
        try:
            _LOGGER.info("%s: reader online on %s", self._name, self._reader.path)
            self._bridge.post(OPENED)
            self._poll(clf)
        finally:
            clf.close()
            if self._probe is not None:
                self._probe.close()

    def _poll(self, clf: Any) -> None:
        rdwr = {
            "targets": ["106A"],
            "on-connect": self._on_connect,
            "on-release": self._on_release,
            "iterations": 1,
            "beep-on-connect": False,
        }
        while not self._stop.is_set():
            result = clf.connect(rdwr=rdwr, terminate=self._terminate)
            if self._lost is not None:
                raise DeviceError(f"{self._name}: {self._lost}")
            if result is False:
                raise DeviceError(f"{self._name}: reader at {self._reader.path} lost")

    def _terminate(self) -> bool:
        """nfcpy asks between polls and presence checks: stop? (Also paces the polls.)"""
        if self._stop.wait(self._opts.poll_interval_s):
            return True
        probe = self._probe
        if probe is None or time.monotonic() < probe.next_at:
            return False
        probe.next_at = time.monotonic() + PROBE_EVERY_S
        if not probe.alive():
            self._lost = f"nothing answers on {self._reader.path} any more"
        return self._lost is not None

    def _on_release(self, tag: Any) -> bool:
        self._last_gone = time.monotonic()
        return True

    def _on_connect(self, tag: Any) -> bool:
        tag_at = time.perf_counter()
        uid = tag_uid(tag)
        if uid == self._last_uid and time.monotonic() - self._last_gone < self._opts.repeat_guard_s:
            _LOGGER.debug(
                "%s: %s back within the repeat guard; same presentation",
                self._name,
                redact_uid(uid),
            )
            return True
        self._last_uid = uid
        token = read_token(self._name, tag)
        token_at = time.perf_counter()
        tap = Tap(self._name, uid, datetime.now(UTC), uuid.uuid4().hex, token)
        _LOGGER.debug("%s: tap %s badge %s", self._name, tap.event_id, redact_uid(uid))
        decision = self._bridge.ask(tap)
        if decision is not None:
            self._reader.timings.append(TapTiming(tag_at, token_at, time.perf_counter()))
            self._show(clf=tag.clf, uid=uid, decision=decision)
        return True  # nfcpy now waits until the badge leaves the field

    def _show(self, clf: Any, uid: str, decision: Decision) -> None:
        verdict = "granted" if decision.granted else "denied"
        _LOGGER.debug("%s: badge %s %s (%s)", self._name, redact_uid(uid), verdict, decision.reason)
        if decision.granted:
            # Readers that have a buzzer/LED (ACR122U) beep; nfcpy turns it off on removal.
            with contextlib.suppress(OSError, AttributeError):
                clf.device.turn_on_led_and_buzzer()


class _Enroller:
    """Worker-thread side of :func:`enroll_badge`."""

    def __init__(self, path: str, label: str, key: bytes, timeout_s: float) -> None:
        self._path = path
        self._label = label
        self._key = key
        self._deadline = time.monotonic() + timeout_s
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def _terminate(self) -> bool:
        return self._stop.wait(0.05) or time.monotonic() > self._deadline

    def work(self) -> str:
        clf, probe = open_frontend("enroll", self._path)
        try:
            tag = clf.connect(
                rdwr={"targets": ["106A"], "on-connect": lambda tag: False, "iterations": 1},
                terminate=self._terminate,
            )
            if tag is False:
                raise DeviceError(f"enroll: reader at {self._path} lost")
            if tag is None:
                raise TimeoutError("no badge was presented in time")
            return self._write(tag)
        finally:
            clf.close()
            if probe is not None:
                probe.close()

    def _write(self, tag: Any) -> str:
        uid = tag_uid(tag)
        token = badge_token.sign(self._key, self._label, uid)
        area = tag.ndef
        if area is None or not area.is_writeable:
            raise DeviceError(
                f"badge {redact_uid(uid)} is not NDEF formatted or is write-protected"
            )
        try:
            area.records = [ndef.TextRecord(token, "en")]
            changed = area.has_changed  # reads the NDEF memory back from the badge
        except (nfc.tag.TagCommandError, ValueError, AttributeError) as exc:
            raise DeviceError(f"writing badge {redact_uid(uid)} failed: {exc}") from exc
        back = read_token(self._path, tag)
        if changed or back is None or not badge_token.verify(self._key, self._label, uid, back):
            raise DeviceError(f"badge {redact_uid(uid)}: the token read back does not verify")
        _LOGGER.info("%s: enrolled badge %s as %s", self._path, redact_uid(uid), self._label)
        return uid


async def enroll_badge(url: str, label: str, key: bytes, timeout_s: float = 30) -> str:
    """Wait for a badge on ``url``, write its signed token, read it back; return its UID.

    Raises :class:`TimeoutError` if no badge comes within ``timeout_s``,
    :class:`DeviceError` if the reader is absent or the badge cannot be written,
    :class:`ValueError` for a bad label or key.
    """
    badge_token.sign(key, label, "00000000")  # bad label or key: fail before waiting
    enroller = _Enroller(nfcpy_path(url), label, key, timeout_s)
    loop = asyncio.get_running_loop()
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nfc-enroll")
    job = loop.run_in_executor(executor, enroller.work)
    try:
        await asyncio.wait({job})
    finally:
        enroller.stop()
        await join_worker(job, executor, "enroll")
    return job.result()


def build(readers: Sequence[ReaderConfig], ctx: DeviceContext) -> list[ReaderAdapter]:
    """One :class:`NfcReader` per configured ``nfc:`` reader."""
    return [NfcReader(reader) for reader in readers]
