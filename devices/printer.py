"""Queue-number tickets on an ESC/POS receipt printer (python-escpos).

A visitor who has to wait gets a paper ticket: the site name, the big queue
number, the facility kind, the date and time in the site's zone (Indonesian
first: "Rabu, 25 November 2026", "14.05 WIB") and a QR code of the number.

| URL | printer |
|---|---|
| ``escpos+usb://04b8:0202`` | USB, vendor:product id (needs pyusb) |
| ``escpos+serial:///dev/ttyUSB2?baud=9600`` | serial line |
| ``escpos+tcp://192.0.2.10:9100`` | network printer (raw port 9100) |
| ``dummy:`` | python-escpos's in-memory ``Dummy`` printer (tests, demo) |

python-escpos blocks (a network printer that is off makes it wait up to 60 s),
so every job runs in the printer's one worker thread, bounded by ``timeout_s``.
Jobs run one at a time from a small queue; beyond 20 waiting jobs the oldest is
dropped. A printer that is off, unplugged or out of paper makes
:meth:`TicketPrinter.print_ticket` return ``False`` with a warning, never later
than ``timeout_s`` after the call.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from escpos.escpos import Escpos
from escpos.printer import Dummy, Network, Serial, Usb

from service.i18n import _, render

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
MAX_QUEUED = 20

_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
# Indonesia's three zones by their Indonesian abbreviations.
_ZONE_ABBR = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}
_TITLE = _("NOMOR ANTRIAN")
_FOOTER = _("Mohon menunggu panggilan")


class PrinterError(Exception):
    """The printer is off, unplugged, out of paper or answered nonsense."""


@dataclass(frozen=True)
class QueueTicketPrint:
    number: str
    kind_label: str
    issued_at: datetime
    site_name: str
    timezone: str = "Asia/Jakarta"
    lang: str = "id"

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")


def format_when(issued_at: datetime, timezone: str, lang: str = "id") -> tuple[str, str]:
    """("Rabu, 25 November 2026", "14.05 WIB"); English with a colon in the time."""
    local = issued_at.astimezone(ZoneInfo(timezone))
    lang = "en" if lang == "en" else "id"
    day = _DAYS[lang][local.weekday()]
    month = _MONTHS[lang][local.month - 1]
    zone = _ZONE_ABBR.get(timezone) or local.tzname() or timezone
    sep = ":" if lang == "en" else "."
    return (
        f"{day}, {local.day} {month} {local.year}",
        f"{local.hour:02d}{sep}{local.minute:02d} {zone}",
    )


def render_ticket(printer: Escpos, t: QueueTicketPrint) -> None:
    """Write one ticket to an open python-escpos printer (blocking)."""
    title, footer = render(_TITLE, t.lang), render(_FOOTER, t.lang)
    date_line, time_line = format_when(t.issued_at, t.timezone, t.lang)
    printer.set(align="center", bold=True, normal_textsize=True)
    printer.textln(t.site_name)
    printer.set(bold=False)
    printer.textln(title)
    printer.set(align="center", bold=True, custom_size=True, width=4, height=4)
    printer.textln(t.number)
    printer.set(align="center", bold=False, normal_textsize=True)
    printer.textln(t.kind_label)
    printer.textln(date_line)
    printer.textln(time_line)
    printer.qr(t.number, size=8, native=True)
    printer.textln(footer)
    printer.cut()


@dataclass(slots=True)
class _Job:
    ticket: QueueTicketPrint
    done: asyncio.Future[bool]


@dataclass(slots=True)
class _Target:
    """How to open the printer: a factory run in the worker thread."""

    describe: str
    factory: Callable[[], Escpos]
    check_paper: bool = False
    close_after: bool = True
    dummy: Dummy | None = field(default=None)


def _target_from_url(url: str, timeout_s: float) -> _Target:
    if url.strip() in ("dummy:", "dummy://"):
        dummy = Dummy()
        return _Target("dummy", lambda: dummy, close_after=False, dummy=dummy)
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    check = query.get("check_paper", "0").lower() in ("1", "true", "yes")
    if parts.scheme == "escpos+tcp":
        host, port = parts.hostname or "", parts.port or 9100
        return _Target(f"tcp {host}:{port}", lambda: _open_network(host, port, timeout_s), check)
    if parts.scheme == "escpos+serial":
        path, baud = parts.path, int(query.get("baud", "9600"))
        return _Target(
            f"serial {path}",
            lambda: _opened(Serial(devfile=path, baudrate=baud, timeout=timeout_s)),
            check,
        )
    if parts.scheme == "escpos+usb":
        vendor, _, product = parts.netloc.partition(":")
        ids = int(vendor, 16), int(product, 16)
        return _Target(
            f"usb {parts.netloc}",
            lambda: _open_usb(ids[0], ids[1], timeout_s),
            check,
        )
    raise ValueError(
        f"unknown printer URL {url!r} (escpos+usb://VID:PID, "
        "escpos+serial:///dev/ttyUSB0?baud=9600, escpos+tcp://HOST:9100, dummy:)"
    )


def _open_network(host: str, port: int, timeout_s: float) -> Escpos:
    # Our own connect: python-escpos's Network.open leaks the socket when it fails.
    sock = socket.create_connection((host, port), timeout=timeout_s)
    printer = Network(host, port, timeout=timeout_s)
    printer.device = sock
    return printer


def _open_usb(vendor: int, product: int, timeout_s: float) -> Escpos:
    if not Usb.is_usable():
        raise PrinterError("USB printers need pyusb (pip install 'python-escpos[usb]')")
    return _opened(Usb(vendor, product, timeout=int(timeout_s * 1000)))


def _opened(printer: Escpos) -> Escpos:
    printer.open()
    return printer


def _print_blocking(target: _Target, t: QueueTicketPrint) -> None:
    """One job, in the worker thread: open, (check paper), render, close."""
    try:
        printer = target.factory()
    except PrinterError:
        raise
    except Exception as exc:  # OSError, USBError, serial errors, DeviceNotFoundError
        raise PrinterError(f"{type(exc).__name__}: {exc}") from exc
    try:
        if target.check_paper and printer.paper_status() == 0:
            raise PrinterError("out of paper")
        render_ticket(printer, t)
    except PrinterError:
        raise
    except Exception as exc:  # python-escpos raises OSError and its own errors
        raise PrinterError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        if target.close_after:
            with contextlib.suppress(Exception):
                printer.close()


class TicketPrinter:
    """Prints queue tickets one at a time, off the event loop, never blocking the caller."""

    def __init__(
        self, target: _Target, *, timeout_s: float = DEFAULT_TIMEOUT_S, max_queued: int = MAX_QUEUED
    ) -> None:
        self._target = target
        self.timeout_s = timeout_s
        self._max = max_queued
        self._queue: collections.deque[_Job] = collections.deque()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[None] | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="escpos"
        )

    @classmethod
    def from_url(cls, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> TicketPrinter:
        return cls(_target_from_url(url, timeout_s), timeout_s=timeout_s)

    @property
    def dummy(self) -> Dummy | None:
        """The in-memory printer of a ``dummy:`` URL (its ``output`` is every byte sent)."""
        return self._target.dummy

    async def print_ticket(self, t: QueueTicketPrint) -> bool:
        """Queue one ticket; True once printed, False on failure or after ``timeout_s``."""
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="ticket-printer")
        job = _Job(t, asyncio.get_running_loop().create_future())
        self._queue.append(job)
        while len(self._queue) > self._max:
            dropped = self._queue.popleft()
            _LOGGER.warning(
                "printer %s: queue full, dropped ticket %s",
                self._target.describe,
                dropped.ticket.number,
            )
            _resolve(dropped.done, False)
        self._wake.set()
        try:
            return await asyncio.wait_for(asyncio.shield(job.done), self.timeout_s)
        except TimeoutError:
            _LOGGER.warning(
                "printer %s: ticket %s not printed within %.1f s",
                self._target.describe,
                t.number,
                self.timeout_s,
            )
            if job in self._queue:
                self._queue.remove(job)
            _resolve(job.done, False)
            return False

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            job = self._queue.popleft()
            inflight = loop.run_in_executor(
                self._executor, _print_blocking, self._target, job.ticket
            )
            self._inflight = inflight
            try:
                await asyncio.shield(inflight)
            except PrinterError as exc:
                _LOGGER.warning(
                    "printer %s: ticket %s not printed: %s",
                    self._target.describe,
                    job.ticket.number,
                    exc,
                )
                _resolve(job.done, False)
            else:
                _LOGGER.info(
                    "printer %s: printed ticket %s", self._target.describe, job.ticket.number
                )
                _resolve(job.done, True)
            finally:
                self._inflight = None

    async def close(self) -> None:
        """Stop the worker; a job already in the thread gets ``timeout_s`` to finish."""
        worker, self._worker = self._worker, None
        inflight = self._inflight
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        if inflight is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(inflight, self.timeout_s)
        for job in self._queue:
            _resolve(job.done, False)
        self._queue.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> TicketPrinter:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


def _resolve(fut: asyncio.Future[bool], value: bool) -> None:
    if not fut.done():
        fut.set_result(value)
