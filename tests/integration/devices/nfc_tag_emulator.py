"""An NTAG213/215 in the field of nfcpy's simulated ``udp`` reader.

nfcpy's ``nfc/clf/udp.py`` is a reader driver that, instead of a radio, sends
each ISO 14443 frame as one UDP datagram ``b"<brty> <hex>"`` (``b"106A 26"`` is
a REQA at 106 kbit/s type A) to ``host:port`` and waits for the tag's answer in
the same form, from a fresh source port each time it switches the field on. When
it switches the field off after having heard something it sends ``b"RFOFF"``.
Silence is how a tag says "not here" or "command not supported" (the driver
times out: 1 s for REQA, 5 ms to 100 ms for tag commands).

:class:`TagEmulator` listens on that port (127.0.0.1 only) and answers as an NXP
NTAG21x would: REQA/WUPA -> ATQA ``44 00``; anticollision and select over two
cascade levels for the 7-byte UID (SAK ``04`` then ``00``); then READ (``30``,
16 bytes with roll-over), WRITE (``A2``, ACK ``0A``), GET_VERSION (``60``),
READ_SIG (``3C``), HLTA (``50 00``); anything else leaves the tag mute until it
is selected again, as on the chip. So the UNMODIFIED nfcpy stack detects an
``NTAG213``/``NTAG215``, reads its UID and reads and writes its NDEF memory.

A tag is put in the field with :meth:`TagEmulator.present` and taken away with
:meth:`TagEmulator.remove`. A tag that enters the field while the reader is
waiting for an answer to its last REQA answers that REQA, as a real tag does on
the next poll: this keeps the udp driver's 1 s REQA timeout (an artefact of the
simulation; real readers poll every ~0.1 s) out of presentation times.

Run it alone for manual tests: ``python nfc_tag_emulator.py --port 54321``.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from operator import xor
from types import TracebackType

ATQA = bytes.fromhex("4400")
ACK = b"\x0a"
NAK = b"\x00"
PENDING_REQA_S = 0.9  # the driver waits 1.0 s for the answer to a REQA


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    pages: int  # total pages, 4 bytes each
    cc_size: int  # capability container byte 2: data area / 8
    version: bytes  # GET_VERSION answer

    @property
    def cfg_page(self) -> int:
        return self.pages - 4


NTAG213 = Model("NTAG213", 45, 0x12, bytes.fromhex("0004040201000F03"))
NTAG215 = Model("NTAG215", 135, 0x3E, bytes.fromhex("0004040201001103"))


def ndef_tlv(message: bytes) -> bytes:
    """The NDEF message TLV (type 03) followed by the terminator TLV."""
    if len(message) < 255:
        return b"\x03" + bytes([len(message)]) + message + b"\xfe"
    return b"\x03\xff" + len(message).to_bytes(2, "big") + message + b"\xfe"


@dataclass(slots=True)
class EmulatedTag:
    """Memory of one NTAG21x; ``uid`` is its 7-byte serial number (starts 0x04, NXP)."""

    uid: bytes
    model: Model = NTAG215
    memory: bytearray = field(default_factory=bytearray)

    @classmethod
    def create(
        cls, uid: str | bytes, model: Model = NTAG215, ndef: bytes | None = b""
    ) -> EmulatedTag:
        """A tag as shipped: NDEF formatted with an empty (or the given) message.

        ``ndef=None`` leaves the capability container blank (not NDEF formatted).
        """
        raw = bytes.fromhex(uid) if isinstance(uid, str) else uid
        if len(raw) != 7:
            raise ValueError("an NTAG21x UID is 7 bytes")
        mem = bytearray(model.pages * 4)
        mem[0:3] = raw[0:3]
        mem[3] = 0x88 ^ raw[0] ^ raw[1] ^ raw[2]
        mem[4:8] = raw[3:7]
        mem[8] = reduce(xor, raw[3:7])
        mem[9] = 0x48
        if ndef is not None:
            mem[12:16] = bytes([0xE1, 0x10, model.cc_size, 0x00])
            tlv = ndef_tlv(ndef)
            mem[16 : 16 + len(tlv)] = tlv
        cfg = model.cfg_page * 4
        mem[cfg - 4 : cfg] = bytes.fromhex("000000BD")  # dynamic lock bytes
        mem[cfg : cfg + 8] = bytes.fromhex("040000FF00050000")  # CFG0 (AUTH0=FF), CFG1
        return cls(raw, model, mem)

    def ndef_message(self) -> bytes | None:
        """The NDEF message in the first NDEF TLV, or None (no CC / no TLV)."""
        mem = self.memory
        if mem[12] != 0xE1:
            return None
        offset = 16
        while offset < 16 + mem[14] * 8:
            tlv_type = mem[offset]
            if tlv_type == 0x00:
                offset += 1
                continue
            if tlv_type == 0xFE:
                return None
            length, start = mem[offset + 1], offset + 2
            if length == 0xFF:
                length, start = int.from_bytes(mem[offset + 2 : offset + 4], "big"), offset + 4
            if tlv_type == 0x03:
                return bytes(mem[start : start + length])
            offset = start + length
        return None


class _State(enum.Enum):
    IDLE = "idle"  # powered, waiting for REQA/WUPA
    READY1 = "ready1"  # answered ATQA; cascade level 1
    READY2 = "ready2"  # cascade level 1 selected; cascade level 2
    ACTIVE = "active"  # selected; takes READ/WRITE/...
    HALT = "halt"  # HLTA received; only WUPA wakes it
    MUTE = "mute"  # unsupported command: silent until REQA/WUPA


class TagEmulator:
    """The UDP peer of ``nfc.ContactlessFrontend('udp:127.0.0.1:PORT')``."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the emulator listens on loopback only")
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", port))
        self.address: tuple[str, int] = self._sock.getsockname()
        self.port = self.address[1]
        self._cond = threading.Condition()
        self._tag: EmulatedTag | None = None
        self._state = _State.IDLE
        self._pending_reqa: tuple[float, tuple[str, int]] | None = None
        self._present_since = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="ntag-emulator", daemon=True)
        # What the reader did, for tests to wait on: command name -> count.
        self.counts: Counter[str] = Counter()
        self.activations = 0  # times the tag was selected (anticollision completed)
        self.peers: set[str] = set()  # source addresses of every frame received
        self.presented_at: float | None = None  # perf_counter() when last presented
        self.answered_at: float | None = None  # perf_counter() of the first ATQA after that

    def __enter__(self) -> TagEmulator:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._sock.close()

    @property
    def tag(self) -> EmulatedTag | None:
        return self._tag

    def present(self, tag: EmulatedTag) -> None:
        """Bring ``tag`` into the field (answering a REQA the reader is waiting on)."""
        with self._cond:
            self._tag, self._state = tag, _State.IDLE
            self.presented_at, self.answered_at = time.perf_counter(), None
            pending, self._pending_reqa = self._pending_reqa, None
            if pending and time.monotonic() - pending[0] < PENDING_REQA_S:
                self._answer_reqa(pending[1])
            self._cond.notify_all()

    def remove(self) -> None:
        """Take the tag out of the field: from now on the reader hears nothing."""
        with self._cond:
            self._tag, self._state = None, _State.IDLE
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until ``predicate()`` (checked after every frame) is true."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    # -- the radio side ---------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._sock], [], [], 0.05)
            if not ready:
                continue
            try:
                datagram, addr = self._sock.recvfrom(1024)
            except OSError:  # ICMP from a reader socket that closed already
                continue
            with self._cond:
                self._frame(datagram, addr)
                self._cond.notify_all()

    def _frame(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.peers.add(addr[0])
        if datagram.startswith(b"RFOFF"):
            self.counts["RFOFF"] += 1
            self._state = _State.IDLE
            return
        try:
            brty, hexdata = datagram.split()
            data = bytes.fromhex(hexdata.decode("ascii"))
        except ValueError:
            return  # not a frame (e.g. an empty liveness probe)
        if brty != b"106A" or not data:
            return
        if data in (b"\x26", b"\x52"):
            self.counts["REQA"] += 1
            if self._tag is None:
                self._pending_reqa = (time.monotonic(), addr)
            elif data == b"\x52" or self._state is not _State.HALT:
                self._answer_reqa(addr)
            return
        if self._tag is None:
            return
        answer = self._answer(self._tag, data)
        if answer is not None:
            self._send(answer, addr)

    def _answer_reqa(self, addr: tuple[str, int]) -> None:
        self._state = _State.READY1
        if self.answered_at is None:
            self.answered_at = time.perf_counter()
        self._send(ATQA, addr)

    def _answer(self, tag: EmulatedTag, data: bytes) -> bytes | None:
        cl1 = b"\x88" + tag.uid[0:3] + bytes([reduce(xor, b"\x88" + tag.uid[0:3])])
        cl2 = tag.uid[3:7] + bytes([reduce(xor, tag.uid[3:7])])
        if self._state is _State.READY1 and data == b"\x93\x20":
            return cl1
        if self._state is _State.READY1 and data == b"\x93\x70" + cl1:
            self._state = _State.READY2
            return b"\x04"
        if self._state is _State.READY2 and data == b"\x95\x20":
            return cl2
        if self._state is _State.READY2 and data == b"\x95\x70" + cl2:
            self._state = _State.ACTIVE
            self.activations += 1
            return b"\x00"
        if self._state is _State.ACTIVE:
            return self._command(tag, data)
        self._state = _State.MUTE if self._state is not _State.HALT else _State.HALT
        return None

    def _command(self, tag: EmulatedTag, data: bytes) -> bytes | None:
        code = data[0]
        if code == 0x30 and len(data) == 2:
            self.counts["READ"] += 1
            return self._read(tag, data[1])
        if code == 0xA2 and len(data) == 6:
            self.counts["WRITE"] += 1
            return self._write(tag, data[1], data[2:6])
        if code == 0x60 and len(data) == 1:
            self.counts["GET_VERSION"] += 1
            return tag.model.version
        if code == 0x3C and len(data) == 2:
            self.counts["READ_SIG"] += 1
            return bytes(32)
        if data == b"\x50\x00":
            self.counts["HLTA"] += 1
            self._state = _State.HALT
            return None
        self.counts["unsupported"] += 1
        self._state = _State.MUTE
        return None

    def _read(self, tag: EmulatedTag, page: int) -> bytes:
        pages = tag.model.pages
        if page >= pages:
            self._state = _State.MUTE
            return NAK
        out = bytearray()
        for n in range(page, page + 4):
            p = n % pages  # NTAG21x rolls over to page 0
            chunk = tag.memory[p * 4 : p * 4 + 4]
            # PWD and PACK always read as zeros.
            out += bytes(4) if p >= tag.model.cfg_page + 2 else chunk
        return bytes(out)

    def _write(self, tag: EmulatedTag, page: int, four: bytes) -> bytes:
        if page < 2 or page >= tag.model.pages:
            self._state = _State.MUTE
            return NAK
        at = page * 4
        if page in (2, 3):  # lock bytes and capability container are one-time programmable
            keep = 2 if page == 2 else 0
            for i in range(keep, 4):
                tag.memory[at + i] |= four[i]
        else:
            tag.memory[at : at + 4] = four
        return ACK

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):
            self._sock.sendto(b"106A " + data.hex().encode("ascii"), addr)


def main() -> None:  # pragma: no cover - manual use
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=54321)
    parser.add_argument("--uid", default="04A23B1C2D3E80")
    parser.add_argument("--model", choices=("NTAG213", "NTAG215"), default="NTAG215")
    args = parser.parse_args()
    model = NTAG213 if args.model == "NTAG213" else NTAG215
    with TagEmulator(args.port) as emulator:
        emulator.present(EmulatedTag.create(args.uid, model))
        print(f"{model.name} {args.uid} in the field of udp:127.0.0.1:{emulator.port}; ^C ends")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":  # pragma: no cover
    main()
