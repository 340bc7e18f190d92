"""PC/SC contactless readers (ACS ACR122U, ACR1252U, …) through pcscd and pyscard.

URL ``pcsc:<part of the reader name>``, e.g. ``pcsc:ACR122`` or
``pcsc:ACS ACR1252 1S CL Reader PICC 00 00`` (``pcsc_scan`` lists the names; the
match ignores case; a name that matches several readers must be made longer).
Options as for :mod:`devices.nfc` (``decision_timeout_s``, ``repeat_guard_s``;
``poll_interval_s`` is how long one wait for a card event lasts, default 0.25).

pyscard is an optional extra (``pip install 'bidroom[pcsc]'``, which builds after
``apt-get install libpcsclite-dev swig pcscd``), imported only when a ``pcsc:``
reader is configured. One worker thread per reader waits on pcscd's
``SCardGetStatusChange``; on each card insertion it reads the UID with the
PC/SC pseudo-APDU ``FF CA 00 00 00`` (answer ``<uid> 90 00``), reads the badge
token from the NTAG's NDEF message with READ BINARY ``FF B0 00 <page> 10`` (as
ACR122U/ACR1252U do for Type 2 tags) and hands the tap to the loop through
:class:`devices.worker.TapBridge`. A card left on the reader is one tap. Badges
are enrolled (token written) on an ``nfc:`` reader.
"""

from __future__ import annotations

import importlib
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import ndef

from devices.base import DeviceError, ReaderAdapter, ReaderHealth, TapSubmit
from devices.context import DeviceContext
from devices.nfc import NfcOptions
from devices.worker import OPENED, TapBridge, run_worker
from service.config import ReaderConfig
from service.domain.taps import InvalidTap, Tap, normalise_uid
from service.errors import ConfigError
from service.logs import redact_uid

_LOGGER = logging.getLogger(__name__)

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]
READ_PAGES = [0xFF, 0xB0, 0x00]  # + page, 16: READ BINARY of four Type 2 tag pages
MAX_NDEF_BYTES = 256  # a badge token's message is ~45 bytes; read no further
DEFAULT_WAIT_S = 0.25
READ_ATTEMPTS = 3
READ_RETRY_S = 0.1
_EVENT_COUNTER_SHIFT = 16  # pcsc-lite counts card events in the top 16 bits of the state


def find_ndef(area: bytes) -> bytes | None:
    """The NDEF message in a Type 2 tag's data area (TLVs from page 4).

    ``b""`` when there is none, None when ``area`` is too short to tell yet.
    """
    i = 0
    while i < len(area):
        kind = area[i]
        if kind == 0x00:  # NULL TLV
            i += 1
            continue
        if kind == 0xFE:  # terminator
            return b""
        if i + 2 > len(area):
            return None
        length, start = area[i + 1], i + 2
        if length == 0xFF:
            if i + 4 > len(area):
                return None
            length, start = int.from_bytes(area[i + 2 : i + 4], "big"), i + 4
        if start + length > len(area):
            return None
        if kind == 0x03:
            return area[start : start + length]
        i = start + length
    return None


def token_in(message: bytes) -> str | None:
    """The first ``BR1.`` text record of an NDEF message."""
    try:
        records = list(ndef.message_decoder(message, errors="relax"))
    except ndef.DecodeError:
        return None
    for record in records:
        if isinstance(record, ndef.TextRecord) and record.text.startswith("BR1."):
            return str(record.text)
    return None


def load_scard(reader: str) -> Any:
    """pyscard's ``smartcard.scard``, imported on first use; ConfigError if missing."""
    try:
        return importlib.import_module("smartcard.scard")
    except ImportError as exc:
        raise ConfigError(
            f"reader {reader}: pcsc: readers need pyscard: pip install 'bidroom[pcsc]' "
            "(after apt-get install libpcsclite-dev swig pcscd)"
        ) from exc


def reader_pattern(url: str) -> str:
    scheme, _, pattern = url.partition(":")
    if scheme.lower() != "pcsc" or not pattern.strip() or pattern.startswith("//"):
        raise ConfigError(f"PC/SC reader URL must be pcsc:<part of reader name>, got {url!r}")
    return pattern.strip()


def pick_reader(pattern: str, names: Sequence[str]) -> str:
    """The one reader whose name is ``pattern`` or contains it (ignoring case)."""
    exact = [n for n in names if n.lower() == pattern.lower()]
    matches = exact or [n for n in names if pattern.lower() in n.lower()]
    if len(matches) == 1:
        return matches[0]
    found = ", ".join(repr(n) for n in names) or "none"
    if not matches:
        raise DeviceError(f"no PC/SC reader matches {pattern!r} (readers: {found})")
    raise DeviceError(f"{pattern!r} matches several PC/SC readers ({found}); name one")


class PcscReader:
    """One PC/SC reader, by (part of) its name."""

    def __init__(self, config: ReaderConfig, options: NfcOptions | None = None) -> None:
        self.name = config.name
        self.readers: tuple[str, ...] = (config.name,)
        self.pattern = reader_pattern(config.url)
        defaults = NfcOptions(poll_interval_s=DEFAULT_WAIT_S)
        self.options = options or NfcOptions.from_config(config, defaults)
        self.status_waits = 0  # heartbeats: answers from pcscd (events or timeouts)

    async def run(self, submit: TapSubmit, health: Mapping[str, ReaderHealth]) -> None:
        bridge = TapBridge(self.name, self.options.decision_timeout_s)
        session = _PcscSession(self, bridge, load_scard(self.name))
        await run_worker(bridge, session.work, submit, health[self.name])


class _PcscSession:
    """Worker-thread side of :meth:`PcscReader.run`: pyscard is called only here."""

    def __init__(self, reader: PcscReader, bridge: TapBridge, scard: Any) -> None:
        self._reader = reader
        self._name = reader.name
        self._bridge = bridge
        self._sc = scard
        self._last_uid: str | None = None
        self._last_gone = 0.0

    def _check(self, hresult: int, what: str) -> None:
        if hresult != self._sc.SCARD_S_SUCCESS:
            raise DeviceError(f"{self._name}: {what}: {_error(self._sc, hresult)}")

    def work(self) -> None:
        sc = self._sc
        hresult, context = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
        self._check(hresult, "cannot reach pcscd")
        try:
            hresult, names = sc.SCardListReaders(context, [])
            if hresult == sc.SCARD_E_NO_READERS_AVAILABLE:
                names = []
            else:
                self._check(hresult, "cannot list PC/SC readers")
            reader = pick_reader(self._reader.pattern, names)
            _LOGGER.info("%s: PC/SC reader %r online", self._name, reader)
            self._bridge.post(OPENED)
            self._watch(context, reader)
        finally:
            sc.SCardReleaseContext(context)

    def _watch(self, context: Any, reader: str) -> None:
        sc = self._sc
        wait_ms = max(1, int(self._reader.options.poll_interval_s * 1000))
        state, present, events = sc.SCARD_STATE_UNAWARE, False, -1
        while not self._bridge.stopped.is_set():
            hresult, states = sc.SCardGetStatusChange(context, wait_ms, [(reader, state)])
            self._reader.status_waits += 1
            if hresult == sc.SCARD_E_TIMEOUT:
                continue
            self._check(hresult, "waiting for a card")
            state = states[0][1] & ~sc.SCARD_STATE_CHANGED
            if state & (sc.SCARD_STATE_UNKNOWN | sc.SCARD_STATE_UNAVAILABLE):
                raise DeviceError(f"{self._name}: PC/SC reader {reader!r} is gone")
            now_present = bool(state & sc.SCARD_STATE_PRESENT)
            counter = state >> _EVENT_COUNTER_SHIFT
            # A new presentation: the card arrived, or left and came back between waits.
            if now_present and (not present or counter != events):
                self._card(context, reader)
            elif present and not now_present:
                self._last_gone = time.monotonic()
            present, events = now_present, counter

    def _card(self, context: Any, reader: str) -> None:
        uid, token = self._read_card(context, reader)
        if uid is None:
            return
        guard = self._reader.options.repeat_guard_s
        if uid == self._last_uid and time.monotonic() - self._last_gone < guard:
            _LOGGER.debug(
                "%s: %s back within the repeat guard; same presentation",
                self._name,
                redact_uid(uid),
            )
            return
        self._last_uid = uid
        tap = Tap(self._name, uid, datetime.now(UTC), uuid.uuid4().hex, token)
        _LOGGER.debug("%s: tap %s badge %s", self._name, tap.event_id, redact_uid(uid))
        decision = self._bridge.ask(tap)
        if decision is not None:
            verdict = "granted" if decision.granted else "denied"
            _LOGGER.debug(
                "%s: badge %s %s (%s)", self._name, redact_uid(uid), verdict, decision.reason
            )

    def _read_card(self, context: Any, reader: str) -> tuple[str | None, str | None]:
        """UID by ``FF CA 00 00 00`` (None if no contactless badge) and the NDEF token."""
        sc = self._sc
        for attempt in range(READ_ATTEMPTS):
            # A badge still sliding into the field may fail its first exchange.
            if attempt and self._bridge.stopped.wait(READ_RETRY_S):
                return None, None
            hresult, response, token = self._exchange(context, reader)
            if hresult == sc.SCARD_S_SUCCESS:
                break
            _LOGGER.debug("%s: GET UID failed: %s", self._name, _error(sc, hresult))
        else:
            _LOGGER.warning("%s: cannot read the card: %s", self._name, _error(sc, hresult))
            return None, None
        if len(response) < 3 or response[-2:] != [0x90, 0x00]:
            status = bytes(response[-2:]).hex().upper()
            _LOGGER.warning("%s: card refused GET UID (status %s)", self._name, status)
            return None, None
        try:
            return normalise_uid(bytes(response[:-2]).hex()), token
        except InvalidTap as exc:
            _LOGGER.warning("%s: card UID unusable: %s", self._name, exc)
            return None, None

    def _exchange(self, context: Any, reader: str) -> tuple[int, list[int], str | None]:
        sc = self._sc
        protocols = sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1
        hresult, card, protocol = sc.SCardConnect(context, reader, sc.SCARD_SHARE_SHARED, protocols)
        if hresult != sc.SCARD_S_SUCCESS:  # removed already, or held exclusively by another
            return hresult, [], None
        try:
            hresult, response = sc.SCardTransmit(card, protocol, GET_UID)
            if hresult != sc.SCARD_S_SUCCESS or list(response[-2:]) != [0x90, 0x00]:
                return hresult, list(response), None
            return hresult, list(response), self._read_token(card, protocol)
        finally:
            sc.SCardDisconnect(card, sc.SCARD_LEAVE_CARD)

    def _read_pages(self, card: Any, protocol: Any, page: int) -> bytes | None:
        """16 bytes from ``page`` of a Type 2 badge (READ BINARY), or None."""
        hresult, response = self._sc.SCardTransmit(card, protocol, [*READ_PAGES, page, 16])
        if hresult != self._sc.SCARD_S_SUCCESS or list(response[-2:]) != [0x90, 0x00]:
            return None
        return bytes(response[:-2]) if len(response) == 18 else None

    def _read_token(self, card: Any, protocol: Any) -> str | None:
        """The badge token from the NDEF message of an NTAG21x (None if there is none)."""
        head = self._read_pages(card, protocol, 3)  # capability container + first data
        if head is None or head[0] != 0xE1:
            return None
        area, size = head[4:], min(head[2] * 8, MAX_NDEF_BYTES)
        message = find_ndef(area)
        while message is None and len(area) < size:
            chunk = self._read_pages(card, protocol, 4 + len(area) // 4)
            if chunk is None:
                return None
            area += chunk
            message = find_ndef(area)
        return token_in(message or b"")


def _error(sc: Any, hresult: int) -> str:
    return f"{sc.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"


def build(readers: Sequence[ReaderConfig], ctx: DeviceContext) -> list[ReaderAdapter]:
    """One :class:`PcscReader` per ``pcsc:`` reader; ConfigError if pyscard is missing."""
    adapters: list[ReaderAdapter] = [PcscReader(reader) for reader in readers]
    for reader in readers:
        load_scard(reader.name)
    return adapters
