"""The office scanner through SANE: ``scanimage`` lists the devices and scans into a pipe.

Any SANE-supported flatbed works (USB or network, whatever ``scanimage -L`` shows).
The scan is 300 dpi in colour, PNG on ``scanimage``'s standard output, read into
memory and handed to the reader: it never touches a file. Device names come only
from SANE's own list, so nothing a request sends ever becomes an option of the
command. ``SANE_CONFIG_DIR`` chooses the backends as usual (the tests use SANE's
own ``test`` backend that way).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import dataclass

from service.errors import BidroomError, NotFound
from service.i18n import Text, _

_LOGGER = logging.getLogger(__name__)

DPI = 300  # the KTP's small print needs 300; 600 only makes the scan slower
LIST_TIMEOUT_S = 20.0
SCAN_TIMEOUT_S = 120.0
LIST_FRESH_S = 10.0  # `scanimage -L` probes every backend: its answer is kept a moment
MAX_SCAN_BYTES = 64 * 1024 * 1024
_FORMAT = "%d\t%v\t%m\t%t%n"


class ScannerUnavailable(BidroomError):
    code = "scanner_unavailable"
    http_status = 503


@dataclass(frozen=True, slots=True)
class Scanner:
    name: str  # SANE's device name, e.g. "epson2:libusb:001:004" or "test:0"
    vendor: str
    model: str
    kind: str


def unavailable_reason() -> Text | None:
    if shutil.which("scanimage") is None:
        return _("SANE (scanimage) belum terpasang (apt-get install sane-utils).")
    return None


_cache: tuple[float, list[Scanner]] | None = None


async def _run(args: list[str], limit_s: float) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(limit_s):
            out, err = await process.communicate()
    except BaseException:  # too slow, or the request went away: the child goes with it
        if process.returncode is None:
            process.kill()
        await asyncio.shield(process.wait())
        raise
    return process.returncode or 0, out, err


async def list_scanners(*, fresh: bool = False) -> list[Scanner]:
    """The devices SANE sees now (kept :data:`LIST_FRESH_S` seconds)."""
    global _cache  # noqa: PLW0603  (one short-lived answer per process)
    if unavailable_reason() is not None:
        return []
    if not fresh and _cache is not None and time.monotonic() - _cache[0] < LIST_FRESH_S:
        return _cache[1]
    try:
        code, out, err = await _run(
            ["scanimage", f"--formatted-device-list={_FORMAT}"], LIST_TIMEOUT_S
        )
    except TimeoutError:
        _LOGGER.warning("scanimage -L did not answer within %.0f s", LIST_TIMEOUT_S)
        return []
    if code != 0:
        _LOGGER.warning("scanimage -L failed (%d): %s", code, err.decode(errors="replace").strip())
        return []
    found = []
    for line in out.decode(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] and not parts[0].startswith("-"):
            found.append(Scanner(*parts))
    _cache = (time.monotonic(), found)
    return found


def _failed() -> ScannerUnavailable:
    return ScannerUnavailable(
        _("Pemindai tidak merespons; periksa kabel, daya dan tutup pemindai, lalu coba lagi."),
    )


async def scan(name: str) -> bytes:
    """One page from scanner ``name`` at :data:`DPI` as PNG bytes, in memory."""
    reason = unavailable_reason()
    if reason is not None:
        raise ScannerUnavailable(reason)
    known = {s.name for s in await list_scanners()} or {
        s.name for s in await list_scanners(fresh=True)
    }
    if name not in known:
        raise NotFound(
            _("Pemindai tidak dikenal; pilih dari daftar."),
            field="scanner",
        )
    base = ["scanimage", "--format=png", "-d", name, f"--resolution={DPI}"]
    for args in ([*base, "--mode=Color"], base):  # some backends name the colour mode otherwise
        started = time.perf_counter()
        try:
            code, out, err = await _run(args, SCAN_TIMEOUT_S)
        except TimeoutError:
            _LOGGER.warning("scanner %s: no image within %.0f s", name, SCAN_TIMEOUT_S)
            raise _failed() from None
        if code == 0 and out and len(out) <= MAX_SCAN_BYTES:
            _LOGGER.info(
                "scanner %s: %d KiB in %.1f s",
                name,
                len(out) // 1024,
                time.perf_counter() - started,
            )
            return out
        _LOGGER.warning(
            "scanner %s: scanimage failed (%d): %s",
            name,
            code,
            err.decode(errors="replace").strip()[:300],
        )
    raise _failed()
