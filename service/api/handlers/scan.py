"""Identity documents read from an image: the access form prefilled, nothing kept.

``POST /api/v1/identity/scan`` takes the picture in the body (``image/jpeg``,
``image/png`` or a multipart upload) or scans it from a SANE scanner
(``?scanner=``); the answer is the fields read, each with its confidence, and the
NIK's check. The picture is held in memory for this request only: it is not
written to disk, logged, journaled or sent anywhere, and nothing is saved until the
clerk saves the form. ``GET /api/v1/scanners`` tells the page what is available.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

import msgspec
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from service.api import contract, params
from service.api.app import lang_of, now_of
from service.api.handlers.visits import FO
from service.api.routing import route
from service.api.shapes.identity import Availability, ScannerOut, ScannersOut, ScanOut, ScanQuery
from service.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from service.i18n import Text, _, render
from service.scan import engine, result, scanners
from service.scan.result import Reading

MAX_IMAGE_BYTES = 16 * 1024 * 1024  # a 12 MP phone JPEG is 3–6 MiB; a 300 dpi A4 PNG ~10
IMAGE_TYPES = ("image/jpeg", "image/png")
NO_STORE = {"Cache-Control": "no-store"}


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        _("Gambar terlalu besar (paling banyak {value} MiB).", value=MAX_IMAGE_BYTES // 2**20),
    )


def _wrong_type() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        _("Kirim gambar JPEG atau PNG (atau unggahan multipart)."),
    )


async def _first_file(request: web.Request, buffer: bytearray) -> None:
    multipart = await request.multipart()
    while (part := await multipart.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.filename is None:
            continue
        while chunk := await part.read_chunk(2**16):
            buffer += chunk
            if len(buffer) > MAX_IMAGE_BYTES:
                raise _too_large()
        break


async def _image_from_body(request: web.Request) -> bytes:
    """The picture in the body, read into memory and no further than the bound."""
    if request.content_length is not None and request.content_length > MAX_IMAGE_BYTES:
        raise _too_large()
    if not request.body_exists:  # no picture and no scanner: the picture is missing
        raise ValidationError(_("Gambar KTP belum dikirim."), field="image")
    kind = request.content_type.lower()
    buffer = bytearray()
    if kind in IMAGE_TYPES:
        while chunk := await request.content.read(2**16):
            buffer += chunk
            if len(buffer) > MAX_IMAGE_BYTES:
                raise _too_large()
    elif kind == "multipart/form-data":
        try:
            await _first_file(request, buffer)
        except (HttpProcessingError, ValueError, AssertionError):
            # aiohttp refuses a malformed part (a control character in its headers, no
            # boundary) with these; it is the sender's upload that is broken.
            raise ValidationError(
                _("Unggahan multipart tidak sah; kirim ulang gambarnya."), field="image"
            ) from None
    else:
        raise _wrong_type()
    if not buffer:
        raise ValidationError(_("Gambar KTP belum dikirim."), field="image")
    return bytes(buffer)


@route(
    "GET",
    "/api/v1/scanners",
    summary="What can read a card here: OCR, SANE and the scanners it sees",
    tag="identity",
    roles=FO,
    reply=ScannersOut,
)
async def scanner_list(request: web.Request) -> web.Response:
    ocr = engine.unavailable_reason()
    sane = scanners.unavailable_reason()
    found = await scanners.list_scanners() if sane is None else []
    if sane is None and not found:
        sane = _("Tidak ada pemindai yang terdeteksi; periksa kabel dan daya pemindai.")
    lang = lang_of(request)

    def state(reason: Text | None) -> Availability:
        return Availability(
            available=reason is None,
            reason=None if reason is None else render(reason, lang),
            reason_id=None if reason is None else render(reason, "id"),
            reason_en=None if reason is None else render(reason, "en"),
        )

    return contract.reply(
        ScannersOut(
            ocr=state(ocr),
            sane=state(sane),
            scanners=[
                ScannerOut(name=s.name, vendor=s.vendor, model=s.model, kind=s.kind) for s in found
            ],
        )
    )


def _reader() -> Callable[[engine.Engine, bytes, date], Reading]:
    from service.scan.reader import read

    return read


@route(
    "POST",
    "/api/v1/identity/scan",
    summary=(
        "Read a KTP or passport from an image (body image/jpeg, image/png or multipart) "
        "or from a SANE scanner; nothing is kept"
    ),
    tag="identity",
    roles=FO,
    query=ScanQuery,
    reply=ScanOut,
    checked_beyond="the picture must be a JPEG or PNG in which a card can be found and read",
    request_media={
        "image/jpeg": {"type": "string", "format": "binary", "maxLength": MAX_IMAGE_BYTES},
        "image/png": {"type": "string", "format": "binary", "maxLength": MAX_IMAGE_BYTES},
        "multipart/form-data": {
            "type": "object",
            "properties": {"image": {"type": "string", "format": "binary"}},
            "required": ["image"],
        },
    },
)
async def identity_scan(request: web.Request) -> web.Response:
    scanner = params.query_of(request, ScanQuery).scanner
    engine.require()
    data = await scanners.scan(scanner) if scanner else await _image_from_body(request)
    today = now_of(request).date()
    # OpenCV and NumPy (about 50 MB) are loaded by the first scan, in a thread, not at start.
    read = await asyncio.to_thread(_reader)
    reading = await engine.worker().run(lambda ocr: read(ocr, data, today))
    return contract.reply(msgspec.convert(result.as_json(reading), ScanOut), headers=NO_STORE)
