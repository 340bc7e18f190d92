"""Queue tickets on python-escpos's Dummy printer and on a raw TCP port like a real printer's."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from escpos.printer import Dummy

from devices.printer import QueueTicketPrint, TicketPrinter, format_when, render_ticket

# 07:05 UTC is 14:05 WIB on Wednesday 25 November 2026.
TICKET = QueueTicketPrint(
    number="PC-007",
    kind_label="PC Desktop",
    issued_at=datetime(2026, 11, 25, 7, 5, tzinfo=UTC),
    site_name="LPSE Kota Jambi",
    timezone="Asia/Jakarta",
    lang="id",
)
QR_STORE_PC007 = b"\x1d(k\x09\x001P0PC-007"  # GS ( k: store "PC-007" in the QR symbol
QR_PRINT = b"\x1d(k\x03\x001Q0"
CUT = b"\x1dV\x00"


def expected_bytes(t: QueueTicketPrint = TICKET) -> bytes:
    dummy = Dummy()
    render_ticket(dummy, t)
    return bytes(dummy.output)


@dataclass
class Sink:
    """A TCP port that behaves like a network receipt printer on 9100."""

    port: int = 0
    received: bytearray = field(default_factory=bytearray)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    status_reply: bytes | None = None  # answer to DLE EOT n, None = never answer
    status_gate: asyncio.Event | None = None  # hold status answers until set


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    state = Sink()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(4096):
                state.received += data
                if b"\x10\x04" in data and state.status_reply is not None:
                    if state.status_gate is not None:
                        await state.status_gate.wait()
                    writer.write(state.status_reply)
                    await writer.drain()
        finally:
            writer.close()
            state.closed.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state
        server.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_indonesian_and_english_date_time() -> None:
    assert format_when(TICKET.issued_at, "Asia/Jakarta", "id") == (
        "Rabu, 25 November 2026",
        "14.05 WIB",
    )
    assert format_when(TICKET.issued_at, "Asia/Jakarta", "en") == (
        "Wednesday, 25 November 2026",
        "14:05 WIB",
    )
    # Late evening UTC is already the next day in Jambi.
    late = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert format_when(late, "Asia/Jakarta") == ("Jumat, 1 Januari 2027", "00.30 WIB")


async def test_dummy_printer_gets_the_ticket() -> None:
    async with TicketPrinter.from_url("dummy:") as printer:
        assert await printer.print_ticket(TICKET) is True
        assert printer.dummy is not None
        out = bytes(printer.dummy.output)
    assert out == expected_bytes()
    assert b"LPSE Kota Jambi\n" in out
    assert b"NOMOR ANTRIAN\n" in out
    assert b"\x1d!\x33" in out  # 4x4 character size for the number
    assert b"PC-007\n" in out
    assert b"PC Desktop\n" in out
    assert b"Rabu, 25 November 2026\n14.05 WIB\n" in out
    assert QR_STORE_PC007 in out and QR_PRINT in out
    assert out.index(QR_PRINT) < out.rindex(CUT)
    assert out.endswith(CUT)


async def test_english_ticket() -> None:
    en = QueueTicketPrint(
        "LT-002", "Laptop desk", TICKET.issued_at, "LPSE Kota Jambi", "Asia/Jakarta", "en"
    )
    async with TicketPrinter.from_url("dummy:") as printer:
        assert await printer.print_ticket(en)
        assert printer.dummy is not None
        out = bytes(printer.dummy.output)
    assert b"QUEUE NUMBER\n" in out
    assert b"Wednesday, 25 November 2026\n14:05 WIB\n" in out
    assert b"Rabu" not in out


async def test_network_printer_receives_the_same_bytes(sink: Sink) -> None:
    async with TicketPrinter.from_url(f"escpos+tcp://127.0.0.1:{sink.port}") as printer:
        assert await printer.print_ticket(TICKET) is True
        await asyncio.wait_for(sink.closed.wait(), 5)
    assert bytes(sink.received) == expected_bytes()


async def test_two_tickets_in_order(sink: Sink) -> None:
    second = QueueTicketPrint("PC-008", "PC Desktop", TICKET.issued_at, "LPSE Kota Jambi")
    async with TicketPrinter.from_url(f"escpos+tcp://127.0.0.1:{sink.port}") as printer:
        results = await asyncio.gather(printer.print_ticket(TICKET), printer.print_ticket(second))
    assert results == [True, True]
    data = bytes(sink.received)
    assert data == expected_bytes() + expected_bytes(second)


async def test_printer_off_returns_false_quickly() -> None:
    async with TicketPrinter.from_url(
        f"escpos+tcp://127.0.0.1:{closed_port()}", timeout_s=1.0
    ) as printer:
        started = time.monotonic()
        assert await printer.print_ticket(TICKET) is False
        assert time.monotonic() - started < 1.0


async def test_out_of_paper_returns_false_and_prints_nothing(sink: Sink) -> None:
    sink.status_reply = bytes([114])  # paper sensor: no paper
    url = f"escpos+tcp://127.0.0.1:{sink.port}?check_paper=1"
    async with TicketPrinter.from_url(url, timeout_s=2.0) as printer:
        assert await printer.print_ticket(TICKET) is False
        await asyncio.wait_for(sink.closed.wait(), 5)
    assert bytes(sink.received) == b"\x10\x04\x04"


async def test_paper_present_prints(sink: Sink) -> None:
    sink.status_reply = bytes([18])  # paper adequate
    url = f"escpos+tcp://127.0.0.1:{sink.port}?check_paper=1"
    async with TicketPrinter.from_url(url, timeout_s=2.0) as printer:
        assert await printer.print_ticket(TICKET) is True
        await asyncio.wait_for(sink.closed.wait(), 5)
    assert bytes(sink.received) == b"\x10\x04\x04" + expected_bytes()


async def test_silent_printer_never_delays_caller_beyond_timeout(sink: Sink) -> None:
    sink.status_reply = None  # accepts the connection, never answers the status query
    url = f"escpos+tcp://127.0.0.1:{sink.port}?check_paper=1"
    async with TicketPrinter.from_url(url, timeout_s=0.3) as printer:
        started = time.monotonic()
        assert await printer.print_ticket(TICKET) is False
        elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 0.8
    assert CUT not in bytes(sink.received)


async def test_busy_printer_drops_the_oldest_waiting_ticket(sink: Sink) -> None:
    """One job at a time; beyond 20 waiting tickets the oldest waiting one is dropped."""
    sink.status_reply = bytes([18])
    sink.status_gate = asyncio.Event()  # the printer is busy until the gate opens
    tickets = [
        QueueTicketPrint(f"PC-{n:03d}", "PC Desktop", TICKET.issued_at, "LPSE Kota Jambi")
        for n in range(1, 23)
    ]
    url = f"escpos+tcp://127.0.0.1:{sink.port}?check_paper=1"
    async with TicketPrinter.from_url(url, timeout_s=5.0) as printer:
        jobs = [asyncio.create_task(printer.print_ticket(tickets[0]))]
        async with asyncio.timeout(2):
            while not sink.received:
                await asyncio.sleep(0.01)
        jobs += [asyncio.create_task(printer.print_ticket(t)) for t in tickets[1:]]
        # PC-002..PC-022 (21) wait: PC-002, the oldest, is dropped at once.
        done, _ = await asyncio.wait(jobs, timeout=2, return_when=asyncio.FIRST_COMPLETED)
        assert done == {jobs[1]} and jobs[1].result() is False
        sink.status_gate.set()
        results = await asyncio.gather(*jobs)
    assert results == [True, False] + [True] * 20
    printed = [t for t in tickets if t.number != "PC-002"]
    assert bytes(sink.received) == b"".join(b"\x10\x04\x04" + expected_bytes(t) for t in printed)


def test_unknown_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown printer URL"):
        TicketPrinter.from_url("lpt://1")
