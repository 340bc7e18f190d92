"""Serial UID-line readers over a pty: the reader's side writes bytes, taps come out."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest

from devices.base import ReaderHealth, ReaderState
from devices.serial_line import LineCodec, SerialLineReader, build, split_serial_url
from devices.supervisor import Supervisor
from service.config import ReaderConfig
from service.domain.taps import DENY, Decision, ReaderRole, Reason, Tap
from service.errors import ConfigError

if TYPE_CHECKING:  # helpers come as fixtures from conftest (importlib import mode)
    from conftest import PtyLink

WaitUntil = Callable[..., Awaitable[None]]
NAME = "meja-01"


class Reader:
    def __init__(self, link: PtyLink) -> None:
        self.link = link
        self.taps: list[Tap] = []
        self.health: dict[str, ReaderHealth] = {}

    async def submit(self, tap: Tap) -> Decision:
        self.taps.append(tap)
        return Decision(False, Reason.UNKNOWN_BADGE, DENY)

    @property
    def state(self) -> ReaderState:
        return self.health[NAME].state

    def uids(self) -> list[str]:
        return [t.uid for t in self.taps]


@asynccontextmanager
async def running(
    link: PtyLink, wait_until: WaitUntil, debounce_s: float = 1.0
) -> AsyncIterator[Reader]:
    reader = Reader(link)
    config = ReaderConfig(
        NAME, ReaderRole.DESK, f"serial://{link.path}?baud=9600", options={"debounce_s": debounce_s}
    )
    [adapter] = build([config], None)  # type: ignore[arg-type]
    sup = Supervisor(adapter, reader.submit, reader.health, min_backoff_s=0.1, max_backoff_s=0.3)
    sup.start()
    try:
        await wait_until(lambda: reader.state is ReaderState.ONLINE, what="port open")
        yield reader
    finally:
        await sup.stop()


async def test_a_uid_line_is_a_tap(pty_link: PtyLink, wait_until: WaitUntil) -> None:
    async with running(pty_link, wait_until) as reader:
        pty_link.write(b"04a23b5c\r\n")
        await wait_until(lambda: bool(reader.taps), what="tap")
    [tap] = reader.taps
    assert (tap.uid, tap.reader) == ("04A23B5C", NAME)
    assert tap.event_id.startswith(NAME)


async def test_one_byte_at_a_time(pty_link: PtyLink, wait_until: WaitUntil) -> None:
    async with running(pty_link, wait_until) as reader:
        for byte in b"04A23B5C8D\r\n":
            pty_link.write(bytes([byte]))
            await asyncio.sleep(0.002)
        await wait_until(lambda: bool(reader.taps), what="tap")
    assert reader.uids() == ["04A23B5C8D"]


async def test_garbage_then_a_valid_line(pty_link: PtyLink, wait_until: WaitUntil) -> None:
    async with running(pty_link, wait_until, debounce_s=0) as reader:
        pty_link.write(b"\x00\xff\xfeNOISE zz\r\n" + b"7" * 300 + b"\n")  # junk, over-long line
        pty_link.write(b"\r\n\r\n1122334455\r\n")
        await wait_until(lambda: bool(reader.taps), what="tap")
        await asyncio.sleep(0.05)
    assert reader.uids() == ["1122334455"]


async def test_a_line_split_across_writes(pty_link: PtyLink, wait_until: WaitUntil) -> None:
    async with running(pty_link, wait_until, debounce_s=0) as reader:
        pty_link.write(b"AABB")
        await asyncio.sleep(0.05)
        assert reader.taps == []  # half a UID is not a tap
        pty_link.write(b"CCDD\r")
        pty_link.write(b"\n")
        await wait_until(lambda: bool(reader.taps), what="tap")
    assert reader.uids() == ["AABBCCDD"]


async def test_the_same_badge_within_debounce_is_one_presentation(
    pty_link: PtyLink, wait_until: WaitUntil
) -> None:
    async with running(pty_link, wait_until, debounce_s=1.0) as reader:
        pty_link.write(b"04A23B5C\r\n04A23B5C\r\n04A23B5C\r\nA1B2C3D4\r\n")
        await wait_until(lambda: len(reader.taps) >= 2, what="two taps")
        await asyncio.sleep(0.05)
    assert reader.uids() == ["04A23B5C", "A1B2C3D4"]


async def test_unplug_mid_line_then_replug(pty_link: PtyLink, wait_until: WaitUntil) -> None:
    async with running(pty_link, wait_until, debounce_s=0) as reader:
        pty_link.write(b"DEAD")  # the cable is pulled mid-line
        pty_link.unplug()
        await wait_until(lambda: reader.state is ReaderState.BACKOFF, what="backoff")
        pty_link.plug()
        await wait_until(lambda: reader.state is ReaderState.ONLINE, what="online again")
        pty_link.write(b"BEEF0001\r\n")
        await wait_until(lambda: bool(reader.taps), what="tap after replug")
    assert reader.uids() == ["BEEF0001"]
    assert reader.health[NAME].failures >= 1


def test_codec_resyncs_after_random_junk() -> None:
    rng = random.Random(1234)
    for _ in range(200):
        codec = LineCodec()
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
        out = codec.feed(junk + b"\r\n" + b"0A1B2C3D\r\n")
        assert out[-1:] == ["0A1B2C3D"]


def test_codec_rejects_odd_and_short_hex() -> None:
    assert LineCodec().feed(b"ABC\r\n0A1B2C3\r\n12345678\n") == ["12345678"]


def test_urls() -> None:
    assert split_serial_url("serial:///dev/ttyUSB0?baud=9600", ("baud",)).port == "/dev/ttyUSB0"
    url = split_serial_url("serial+socket://127.0.0.1:7000?baud=1200", ("baud",))
    assert (url.port, url.params) == ("socket://127.0.0.1:7000", {"baud": "1200"})
    url = split_serial_url("osdp+serial:///dev/bidroom-osdp0?addr=3&baud=9600", ("addr", "baud"))
    assert (url.port, url.params) == ("/dev/bidroom-osdp0", {"addr": "3", "baud": "9600"})
    with pytest.raises(ConfigError):
        split_serial_url("serial:", ("baud",))


def test_adapter_names_its_reader() -> None:
    adapter = SerialLineReader(NAME, "/dev/null")
    assert adapter.readers == (NAME,)
