"""nfcpy reader adapter against the UNMODIFIED nfcpy stack and an emulated NTAG21x.

The peer is nfcpy's own simulated reader driver (``udp:127.0.0.1:PORT``) talking
to :mod:`nfc_tag_emulator`, which answers as an NTAG213/215 does on the air.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import ndef
import pytest

from devices.base import DeviceError, ReaderHealth, ReaderState
from devices.nfc import NfcOptions, NfcReader, enroll_badge
from devices.supervisor import Supervisor
from service.config import ReaderConfig
from service.domain import badge_token
from service.domain.taps import GRANT, Decision, ReaderRole, Reason, Tap
from service.errors import ConfigError

try:
    from tests.integration.devices.nfc_tag_emulator import (
        NTAG213,
        NTAG215,
        EmulatedTag,
        TagEmulator,
    )
except ModuleNotFoundError:  # tests/ is not a package: pytest put this folder on sys.path
    from nfc_tag_emulator import NTAG213, NTAG215, EmulatedTag, TagEmulator  # type: ignore

KEY = bytes(range(32))
UID = "04A23B1C2D3E80"
WAIT_S = 10.0


class Desk:
    """An in-process ``submit`` that grants every tap and remembers them."""

    def __init__(self) -> None:
        self.taps: list[Tap] = []
        self._changed = asyncio.Condition()

    async def submit(self, tap: Tap) -> Decision:
        async with self._changed:
            self.taps.append(tap)
            self._changed.notify_all()
        return Decision(True, Reason.ENTRY, GRANT)

    async def wait_taps(self, count: int) -> list[Tap]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.taps) >= count), WAIT_S)
        return list(self.taps)


def reader_config(port: int, **options: float) -> ReaderConfig:
    return ReaderConfig(
        name="meja-depan",
        role=ReaderRole.FRONT_DESK,
        url=f"nfc:udp:127.0.0.1:{port}",
        options=dict(options),
    )


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def nfc_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("reader-", "nfc-", "ntag-"))]


@pytest.fixture(autouse=True)
def no_threads_left() -> Iterator[None]:
    yield
    assert nfc_threads() == [], "a test left an nfcpy worker or emulator thread running"


@pytest.fixture
def emulator() -> Iterator[TagEmulator]:
    with TagEmulator() as emu:
        yield emu


@contextlib.asynccontextmanager
async def running(reader: NfcReader, desk: Desk) -> AsyncIterator[ReaderHealth]:
    health = ReaderHealth(reader.name)
    task = asyncio.create_task(reader.run(desk.submit, {reader.name: health}))
    try:
        yield health
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Wait (on the loop) for a condition another thread makes true."""
    try:
        async with asyncio.timeout(WAIT_S):
            # The state changes in the emulator's or nfcpy's thread: poll it.
            while not predicate():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@pytest.mark.parametrize("model", [NTAG213, NTAG215], ids=lambda m: m.name)
async def test_presented_badge_becomes_one_tap_with_its_uid(
    emulator: TagEmulator, model: object
) -> None:
    desk = Desk()
    reader = NfcReader(reader_config(emulator.port))
    async with running(reader, desk) as health:
        emulator.present(EmulatedTag.create(UID, model))  # type: ignore[arg-type]
        (tap,) = await desk.wait_taps(1)
        assert tap.uid == UID
        assert tap.reader == "meja-depan"
        assert tap.token is None  # an empty NDEF message carries no token
        assert abs(datetime.now(UTC) - tap.at) < timedelta(seconds=5)
        assert health.state is ReaderState.ONLINE
        assert emulator.counts["GET_VERSION"] >= 1  # nfcpy identified an NTAG21x


async def test_udp_traffic_stays_on_loopback(emulator: TagEmulator) -> None:
    desk = Desk()
    async with running(NfcReader(reader_config(emulator.port)), desk):
        emulator.present(EmulatedTag.create(UID))
        await desk.wait_taps(1)
    assert emulator.address[0] == "127.0.0.1"
    assert emulator.peers == {"127.0.0.1"}
    with pytest.raises(ValueError):
        TagEmulator(host="0.0.0.0")  # the harness never listens beyond loopback


async def test_reader_survives_a_failing_submit(emulator: TagEmulator) -> None:
    desk = Desk()
    calls = 0

    async def flaky_submit(tap: Tap) -> Decision:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database briefly gone")
        return await desk.submit(tap)

    reader = NfcReader(reader_config(emulator.port, repeat_guard_s=0))
    health = ReaderHealth(reader.name)
    task = asyncio.create_task(reader.run(flaky_submit, {reader.name: health}))
    try:
        emulator.present(EmulatedTag.create(UID))
        await until(lambda: calls == 1, "first submit")
        emulator.remove()
        requests = emulator.counts["REQA"]
        await until(lambda: emulator.counts["REQA"] > requests, "polling again")
        emulator.present(EmulatedTag.create(UID))
        (tap,) = await desk.wait_taps(1)
        assert tap.uid == UID
        assert health.state is ReaderState.ONLINE
        assert not task.done()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_badge_held_on_reader_is_one_tap_and_next_presentation_another(
    emulator: TagEmulator,
) -> None:
    desk = Desk()
    reader = NfcReader(reader_config(emulator.port, repeat_guard_s=0))
    async with running(reader, desk):
        emulator.present(EmulatedTag.create(UID))
        await desk.wait_taps(1)
        reads = emulator.counts["READ"]
        # nfcpy checks presence (READ page 0) while the badge is held: many checks, one tap.
        await until(lambda: emulator.counts["READ"] >= reads + 5, "presence checks")
        assert len(desk.taps) == 1
        emulator.remove()
        requests = emulator.counts["REQA"]
        await until(lambda: emulator.counts["REQA"] > requests, "polling again")
        emulator.present(EmulatedTag.create(UID))
        taps = await desk.wait_taps(2)
        assert [t.uid for t in taps] == [UID, UID]
        assert taps[0].event_id != taps[1].event_id


async def test_badge_back_within_repeat_guard_is_the_same_presentation(
    emulator: TagEmulator,
) -> None:
    desk = Desk()
    reader = NfcReader(reader_config(emulator.port, repeat_guard_s=30))
    async with running(reader, desk):
        emulator.present(EmulatedTag.create(UID))
        await desk.wait_taps(1)
        emulator.remove()  # a flaky presence check looks exactly like this
        requests = emulator.counts["REQA"]
        await until(lambda: emulator.counts["REQA"] > requests, "polling again")
        emulator.present(EmulatedTag.create(UID))
        await until(lambda: emulator.activations >= 2, "badge selected again")
        reads = emulator.counts["READ"]
        await until(lambda: emulator.counts["READ"] >= reads + 3, "presence checks")
        assert len(desk.taps) == 1
        emulator.remove()
        other = "04112233445566"
        emulator.present(EmulatedTag.create(other))
        taps = await desk.wait_taps(2)
        assert taps[1].uid == other  # another badge is never held back


@pytest.mark.parametrize("model", [NTAG213, NTAG215], ids=lambda m: m.name)
async def test_enrolled_token_reads_back_and_verifies(emulator: TagEmulator, model: object) -> None:
    emulator.present(EmulatedTag.create(UID, model))  # type: ignore[arg-type]
    uid = await enroll_badge(f"nfc:udp:127.0.0.1:{emulator.port}", "K-001", KEY, timeout_s=10)
    assert uid == UID
    assert emulator.tag is not None
    (record,) = list(ndef.message_decoder(emulator.tag.ndef_message() or b""))
    assert isinstance(record, ndef.TextRecord)
    assert badge_token.verify(KEY, "K-001", UID, record.text)

    desk = Desk()
    async with running(NfcReader(reader_config(emulator.port)), desk):
        (tap,) = await desk.wait_taps(1)
    assert tap.token == record.text
    assert badge_token.verify(KEY, "K-001", tap.uid, tap.token)


@pytest.mark.parametrize("clone_token", ["none", "other-badge", "other-key", "garbage"])
async def test_clone_with_same_uid_does_not_verify(emulator: TagEmulator, clone_token: str) -> None:
    tokens = {
        "none": None,
        "other-badge": badge_token.sign(KEY, "K-002", "04998877665544"),
        "other-key": badge_token.sign(bytes(32), "K-001", UID),
        "garbage": "BR1.K-001.not-a-mac",
    }
    token = tokens[clone_token]
    records = [ndef.TextRecord(token)] if token else [ndef.UriRecord("https://example.org")]
    clone = EmulatedTag.create(UID, ndef=b"".join(ndef.message_encoder(records)))
    desk = Desk()
    async with running(NfcReader(reader_config(emulator.port)), desk):
        emulator.present(clone)
        (tap,) = await desk.wait_taps(1)
    assert tap.uid == UID
    assert tap.token == token
    assert not badge_token.verify(KEY, "K-001", tap.uid, tap.token or "")


async def test_enroll_without_badge_times_out(emulator: TagEmulator) -> None:
    with pytest.raises(TimeoutError):
        await enroll_badge(f"nfc:udp:127.0.0.1:{emulator.port}", "K-001", KEY, timeout_s=0.3)


async def test_enroll_refuses_bad_label_before_waiting(emulator: TagEmulator) -> None:
    with pytest.raises(ValueError):
        await enroll_badge(f"nfc:udp:127.0.0.1:{emulator.port}", "K.001", KEY)


@pytest.mark.parametrize("path", ["udp:127.0.0.1:{port}", "usb:ffff:fffe", "tty:NOPE9:pn532"])
async def test_absent_reader_raises_device_error(path: str) -> None:
    config = ReaderConfig("meja-01", ReaderRole.DESK, "nfc:" + path.format(port=free_udp_port()))
    health = ReaderHealth("meja-01")
    with pytest.raises(DeviceError):
        await asyncio.wait_for(NfcReader(config).run(Desk().submit, {"meja-01": health}), WAIT_S)
    assert health.state is not ReaderState.ONLINE


@pytest.mark.parametrize(
    "url", ["nfc:", "nfc:foo:bar", "nfc:USB0", "nfcx:usb:072f:2200", "nfc://usb:072f:2200"]
)
def test_bad_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        NfcReader(ReaderConfig("meja-01", ReaderRole.DESK, url))


def test_unknown_or_bad_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        NfcOptions.from_config(reader_config(1, pol_interval_s=0.1))
    with pytest.raises(ConfigError):
        NfcOptions.from_config(reader_config(1, poll_interval_s=-1))


async def test_supervisor_backs_off_until_the_reader_appears_and_again_when_lost() -> None:
    port = free_udp_port()
    desk = Desk()
    reader = NfcReader(reader_config(port))
    health: dict[str, ReaderHealth] = {}
    supervisor = Supervisor(reader, desk.submit, health, min_backoff_s=0.05, max_backoff_s=0.2)
    supervisor.start()
    try:
        await until(lambda: health["meja-depan"].state is ReaderState.BACKOFF, "backoff")
        assert health["meja-depan"].failures >= 1
        with TagEmulator(port) as emulator:
            await until(lambda: health["meja-depan"].state is ReaderState.ONLINE, "online")
            emulator.present(EmulatedTag.create(UID))
            (tap,) = await desk.wait_taps(1)
            assert tap.uid == UID
        await until(lambda: health["meja-depan"].state is ReaderState.BACKOFF, "lost")
        assert "nothing answers" in (health["meja-depan"].last_error or "")
    finally:
        await supervisor.stop()
    assert health["meja-depan"].state is ReaderState.STOPPED


async def test_stop_while_waiting_for_a_decision_ends_the_worker(emulator: TagEmulator) -> None:
    started = asyncio.Event()

    async def stuck_submit(tap: Tap) -> Decision:
        started.set()
        await asyncio.Event().wait()  # a database that never answers
        raise AssertionError("unreachable")

    reader = NfcReader(reader_config(emulator.port, decision_timeout_s=60))
    task = asyncio.create_task(reader.run(stuck_submit, {reader.name: ReaderHealth(reader.name)}))
    emulator.present(EmulatedTag.create(UID))
    await asyncio.wait_for(started.wait(), WAIT_S)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, WAIT_S)
    assert task.done()
    assert not [t for t in nfc_threads() if t.name.startswith("reader-")]
