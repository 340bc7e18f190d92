"""PC/SC adapter against pcscd, Debian's virtual reader vpcd and a vicc virtual card.

Needs ``.ci/pcsc-setup.sh`` (pcscd running with vpcd on 127.0.0.1:35963) and
pyscard in the venv (``pip install '.[pcsc]'``). The card is vicc from
``python3-virtualsmartcard`` with a small card class that answers the PC/SC
pseudo-APDU ``FF CA 00 00 00`` with its UID, as a contactless reader does for
the badge in its field; the test starts it (the card enters the field) and stops
it (the card leaves).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import ndef
import pytest

from devices.base import DeviceError, ReaderHealth, ReaderState
from devices.pcsc import PcscReader, build, find_ndef, pick_reader, token_in
from devices.registry import DeviceContext
from service.config import ReaderConfig
from service.domain import badge_token
from service.domain.taps import GRANT, Decision, ReaderRole, Reason, Tap
from service.errors import ConfigError
from service.keyfile import KeyFile

try:
    from tests.integration.devices.nfc_tag_emulator import NTAG213, EmulatedTag, ndef_tlv
except ModuleNotFoundError:  # tests/ is not a package: pytest put this folder on sys.path
    from nfc_tag_emulator import NTAG213, EmulatedTag, ndef_tlv  # type: ignore

KEY = bytes(range(32))
VPCD_PORT = 35963  # vpcd's first slot: reader "Virtual PCD 00 00"
VPCD_READER = "Virtual PCD 00 00"
VICC_PYTHON = "/usr/bin/python3"
# Where python3-virtualsmartcard's package lives: Debian 12 puts it off sys.path.
VICC_PATHS = ("/usr/lib/python3/site-packages/virtualsmartcard", "/usr/lib/python3/dist-packages")
VICC_PATH = next(
    (p for p in VICC_PATHS if Path(p, "virtualsmartcard", "VirtualSmartcard.py").exists()),
    VICC_PATHS[0],
)
WAIT_S = 10.0

# The card: vicc's ISO 7816 card plus what a contactless PC/SC reader answers for the
# NTAG in its field: GET UID (FF CA 00 00 00) and READ BINARY of four pages
# (FF B0 00 <page> 10) from the tag's memory image. Debian's python3-virtualsmartcard
# falls back to the Python 2 module "sha" without PyCrypto; a stand-in lets it
# import (the crypto of the emulated card is not used here).
CARD = """
import hashlib, logging, sys, types
sha = types.ModuleType("sha"); sha.new = hashlib.sha1; sys.modules.setdefault("sha", sha)
from virtualsmartcard.VirtualSmartcard import Iso7816OS, VirtualICC
UID, MEMORY = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[3])
class ContactlessBadge(Iso7816OS):
    def execute(self, msg):
        msg = bytes(msg)
        if msg[:4] == b"\\xff\\xca\\x00\\x00":
            print("GET_UID", flush=True)
            return UID + b"\\x90\\x00"
        if msg[:3] == b"\\xff\\xb0\\x00" and len(msg) == 5:
            start = msg[3] * 4
            if start + msg[4] > len(MEMORY):
                return b"\\x6b\\x00"
            return MEMORY[start : start + msg[4]] + b"\\x90\\x00"
        return super().execute(msg)
vicc = VirtualICC(None, "iso7816", "127.0.0.1", int(sys.argv[2]), logginglevel=logging.ERROR)
vicc.os = ContactlessBadge(vicc.os.mf, vicc.os.SAM)
print("INSERTED", flush=True)
vicc.run()
"""


def _missing() -> str | None:
    """Why the PC/SC test environment is not usable here, or None."""
    try:
        from smartcard import scard
    except ImportError:
        return "pyscard is not installed (pip install '.[pcsc]')"
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return "pcscd is not running (run .ci/pcsc-setup.sh)"
    try:
        _, names = scard.SCardListReaders(context, [])
    finally:
        scard.SCardReleaseContext(context)
    if VPCD_READER not in (names or []):
        return f"pcscd has no {VPCD_READER!r} (vsmartcard-vpcd; run .ci/pcsc-setup.sh)"
    if not Path(VICC_PATH, "virtualsmartcard", "VirtualSmartcard.py").exists():
        return "python3-virtualsmartcard (vicc) is not installed (run .ci/pcsc-setup.sh)"
    return None


@pytest.fixture(scope="module")
def pcsc_environment() -> None:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but the PC/SC test environment is missing: {reason}")
        pytest.skip(reason)


class VirtualCard:
    """One vicc process = one badge in the field of "Virtual PCD 00 00"."""

    def __init__(self, tag: EmulatedTag, log: Path) -> None:
        self.log = log
        env = dict(os.environ, PYTHONPATH=VICC_PATH)
        args = [tag.uid.hex(), str(VPCD_PORT), bytes(tag.memory).hex()]
        with log.open("w") as out:
            self._proc = subprocess.Popen(
                [VICC_PYTHON, "-c", CARD, *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def uid_reads(self) -> int:
        return self.log.read_text().count("GET_UID")

    def remove(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)


def wait_until_field_empty(timeout_s: float = WAIT_S) -> None:
    """Until pcscd sees no card on the virtual reader (it polls vpcd a few times a second).

    A test that starts its reader while pcscd still believes the previous test's
    (stopped) card is present would talk to a dead card.
    """
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS
    try:
        state, deadline = scard.SCARD_STATE_UNAWARE, time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            hresult, states = scard.SCardGetStatusChange(context, 200, [(VPCD_READER, state)])
            if hresult == scard.SCARD_S_SUCCESS:
                state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                if state & scard.SCARD_STATE_EMPTY:
                    return
        raise AssertionError("pcscd still sees a card on the virtual reader")
    finally:
        scard.SCardReleaseContext(context)


@pytest.fixture
def cards(tmp_path: Path) -> Iterator[Callable[..., VirtualCard]]:
    wait_until_field_empty()
    made: list[VirtualCard] = []

    def insert(uid: str, ndef: bytes | None = b"") -> VirtualCard:
        tag = EmulatedTag.create(uid, NTAG213, ndef=ndef)
        card = VirtualCard(tag, tmp_path / f"vicc-{len(made)}.log")
        made.append(card)
        return card

    yield insert
    for card in made:
        card.remove()
    wait_until_field_empty()


@pytest.fixture(autouse=True)
def no_reader_threads_left() -> Iterator[None]:
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("reader-")]
    assert left == [], "a test left a PC/SC worker thread running"


class Desk:
    def __init__(self) -> None:
        self.taps: list[Tap] = []

    async def submit(self, tap: Tap) -> Decision:
        self.taps.append(tap)
        return Decision(True, Reason.ENTRY, GRANT)


async def until(predicate: Callable[[], bool], what: str) -> None:
    try:
        async with asyncio.timeout(WAIT_S):
            while not predicate():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def config(url: str = f"pcsc:{VPCD_READER}", **options: float) -> ReaderConfig:
    return ReaderConfig("meja-depan", ReaderRole.FRONT_DESK, url, options=dict(options))


@contextlib.asynccontextmanager
async def running(reader: PcscReader, desk: Desk) -> AsyncIterator[ReaderHealth]:
    health = ReaderHealth(reader.name)
    task = asyncio.create_task(reader.run(desk.submit, {reader.name: health}))
    try:
        await until(lambda: health.state is ReaderState.ONLINE or task.done(), "online")
        if task.done():
            await task
        yield health
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.pcsc
@pytest.mark.usefixtures("pcsc_environment")
async def test_card_on_reader_is_one_tap_with_its_uid(
    cards: Callable[..., VirtualCard],
) -> None:
    desk = Desk()
    reader = PcscReader(config(repeat_guard_s=0))
    async with running(reader, desk):
        card = cards("04A23B1C2D3E80")
        await until(lambda: len(desk.taps) == 1, "first tap")
        assert desk.taps[0].uid == "04A23B1C2D3E80"
        assert desk.taps[0].reader == "meja-depan"
        assert desk.taps[0].token is None
        # Held on the reader while pcscd answers several more status waits: still one tap.
        waits = reader.status_waits
        await until(lambda: reader.status_waits >= waits + 3, "status waits")
        assert len(desk.taps) == 1
        assert card.uid_reads() == 1
        card.remove()
        await asyncio.to_thread(wait_until_field_empty)  # a hand takes a moment too
        cards("04112233445566")
        await until(lambda: len(desk.taps) == 2, "second tap")
        assert desk.taps[1].uid == "04112233445566"
        assert desk.taps[0].event_id != desk.taps[1].event_id


@pytest.mark.pcsc
@pytest.mark.usefixtures("pcsc_environment")
async def test_same_card_again_is_a_new_tap_after_the_repeat_guard(
    cards: Callable[..., VirtualCard],
) -> None:
    desk = Desk()
    async with running(PcscReader(config(repeat_guard_s=0)), desk):
        first = cards("04A23B1C2D3E80")
        await until(lambda: len(desk.taps) == 1, "first tap")
        first.remove()
        await asyncio.to_thread(wait_until_field_empty)
        cards("04A23B1C2D3E80")
        await until(lambda: len(desk.taps) == 2, "second tap")
    assert [t.uid for t in desk.taps] == ["04A23B1C2D3E80"] * 2


@pytest.mark.pcsc
@pytest.mark.usefixtures("pcsc_environment")
async def test_reader_not_found_is_a_device_error_naming_the_readers() -> None:
    reader = PcscReader(config("pcsc:ACR122 that is not plugged in"))
    with pytest.raises(DeviceError, match="Virtual PCD"):
        await asyncio.wait_for(
            reader.run(Desk().submit, {reader.name: ReaderHealth(reader.name)}), WAIT_S
        )


def test_ambiguous_or_unknown_name_is_refused() -> None:
    names = ["Virtual PCD 00 00", "Virtual PCD 00 01"]
    assert pick_reader("virtual pcd 00 01", names) == "Virtual PCD 00 01"
    with pytest.raises(DeviceError, match="several"):
        pick_reader("Virtual PCD", names)
    with pytest.raises(DeviceError, match="no PC/SC reader"):
        pick_reader("ACR122", names)


@pytest.mark.parametrize("url", ["pcsc:", "pcsc:   ", "pcsc://ACR122", "nfc:ACR122"])
def test_bad_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        PcscReader(config(url))


def test_missing_pyscard_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "smartcard.scard", None)
    ctx = DeviceContext(KeyFile(Path("unused.key"), bytes(32), {}), bytes(32))
    with pytest.raises(ConfigError, match=r"pip install 'bidroom\[pcsc\]'"):
        build([config()], ctx)


@pytest.mark.pcsc
@pytest.mark.usefixtures("pcsc_environment")
@pytest.mark.parametrize("enrolled", [True, False], ids=["enrolled", "clone-without-token"])
async def test_badge_token_is_read_over_pcsc(
    cards: Callable[..., VirtualCard], enrolled: bool
) -> None:
    uid = "04A23B1C2D3E80"
    token = badge_token.sign(KEY, "K-001", uid)
    records = [ndef.TextRecord(token)] if enrolled else [ndef.UriRecord("https://lpse.example")]
    desk = Desk()
    async with running(PcscReader(config()), desk):
        cards(uid, b"".join(ndef.message_encoder(records)))
        await until(lambda: len(desk.taps) == 1, "tap")
    (tap,) = desk.taps
    assert tap.uid == uid
    assert tap.token == (token if enrolled else None)
    assert badge_token.verify(KEY, "K-001", tap.uid, tap.token or "") is enrolled


def _message(token: str) -> bytes:
    return b"".join(ndef.message_encoder([ndef.TextRecord(token)]))


def test_ndef_message_is_found_after_other_tlvs() -> None:
    message = _message("BR1.K-001.AAAAAAAAAAAAAAAAAAAAAA")
    lock_control = bytes.fromhex("0103A00C34")  # NTAG213 factory layout
    area = b"\x00" + lock_control + ndef_tlv(message) + bytes(40)
    assert find_ndef(area) == message
    assert token_in(message) == "BR1.K-001.AAAAAAAAAAAAAAAAAAAAAA"


def test_ndef_message_needs_more_pages_or_is_absent() -> None:
    message = _message("BR1.K-001.AAAAAAAAAAAAAAAAAAAAAA")
    tlv = ndef_tlv(message)
    assert find_ndef(tlv[:12]) is None  # read further
    assert find_ndef(tlv[:1]) is None
    assert find_ndef(b"\xfe" + bytes(11)) == b""  # terminator: no NDEF message
    assert find_ndef(ndef_tlv(b"")) == b""
    assert token_in(b"") is None
    assert token_in(b"\xff\x00garbage") is None
    assert token_in(b"".join(ndef.message_encoder([ndef.TextRecord("hello")]))) is None
