"""A KTP (or a passport's machine-readable zone) read from a picture, every field checked.

The KTP is read in three parts of the straightened card: the header (province,
regency), the NIK line and the block of labelled fields. The NIK is read twice: once
with the rest of its line, and once alone with only digits allowed after the colon
and any specks are wiped. It is filled without a warning only when both readings
agree, python-stdnum accepts it, and the birth date and sex it encodes are those
printed on the card (:class:`service.domain.ktp.NikCheck`). Anything less is said.

A picture in which neither a KTP nor a passport zone can be read is refused
(:func:`not_readable`): the clerk scans again or types, nothing is guessed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import date

import numpy as np

from service.domain import ktp
from service.domain.ktp import Field, Line
from service.errors import ValidationError
from service.i18n import _
from service.scan import image, passport
from service.scan.engine import Engine
from service.scan.result import Reading

_LOGGER = logging.getLogger(__name__)

# Where the parts are on a straightened card (fractions of width and height).
HEADER = (0.10, 0.0, 0.80, 0.20)
NIK_DIGITS = (0.13, 0.18, 0.72, 0.31)
FIELDS = (0.0, 0.30, 0.71, 0.93)
MIN_LABELS = 4  # a picture with fewer of the card's labels and no NIK is not a KTP


def not_readable() -> ValidationError:
    return ValidationError(
        _("KTP tidak terbaca; coba pindai ulang."),
        field="image",
    )


def _digits(engine: Engine, strip: image.Pixels, lang: str) -> tuple[str, float]:
    words = [
        w
        for line in engine.lines(strip, single_line=True, whitelist="0123456789", lang=lang)
        for w in line
        if ktp.nik_digits(w.text)
    ]
    if not words:
        return "", 0.0
    return "".join(ktp.nik_digits(w.text) for w in words), min(w.confidence for w in words)


def _nik_reading(engine: Engine, layer: image.Pixels) -> Field | None:
    """The NIK read from differently prepared copies of its line, and how far they agree.

    The grey line and its black-and-white (Otsu) copy are read with only digits
    allowed, by Tesseract's English model (which reads this bold print's digits
    better than the Indonesian one: 80 of 80 synthetic cards against 78); when the
    two differ, two more readings are made and the majority wins. Readings that
    disagree leave the NIK marked for checking.
    """
    strip = image.drop_specks(image.region(layer, *NIK_DIGITS))
    black_white = image.binarised(strip)
    variants = (
        (strip, "eng"),
        (black_white, "eng"),
        (black_white, "ind"),
        (image.enlarged(strip, 1.5), "eng"),
    )
    readings: list[tuple[str, float]] = []
    for variant, lang in variants:
        readings.append(_digits(engine, variant, lang))
        complete = [r for r in readings if len(r[0]) == 16]
        if len(complete) >= 2 and len({r[0] for r in complete}) == 1:
            break
    complete = [r for r in readings if len(r[0]) == 16]
    if not complete:
        best = max(readings, key=lambda r: (len(r[0]), r[1]))
        return Field(best[0], 0.0, "unreadable") if best[0] else None
    votes: dict[str, list[float]] = {}
    for number, confidence in complete:
        votes.setdefault(number, []).append(confidence)
    number, confidences = max(votes.items(), key=lambda item: (len(item[1]), max(item[1])))
    agreed = len(confidences) >= 2 and len(confidences) > len(complete) / 2
    if agreed and len(votes) == 1:
        return Field(number, max(confidences))
    return Field(number, max(confidences) if agreed else 0.0, "passes_disagree")


def _field_lines(engine: Engine, block: image.Pixels) -> list[Line]:
    """Each row of the block read on its own (Tesseract's own layout drops a row now and then)."""
    lines: list[Line] = []
    for top, bottom in image.text_bands(block):
        lines.extend(engine.lines(np.ascontiguousarray(block[top:bottom]), single_line=True))
    return lines


def _header(engine: Engine, layer: image.Pixels) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for line in engine.lines(image.region(layer, *HEADER)):
        text = " ".join(w.text for w in line).upper().strip()
        confidence = min(w.confidence for w in line)
        first = ktp.similarity(line[0].text.upper(), "PROVINSI") if line else 0.0
        if first >= 0.75 and "province" not in out:
            out["province"] = Field(text.split(" ", 1)[-1] if " " in text else text, confidence)
        elif (
            line and line[0].text.upper() in ("KOTA", "KABUPATEN", "KAB.") and "regency" not in out
        ):
            out["regency"] = Field(text, confidence)
    return out


def read_ktp(engine: Engine, rgb: image.Pixels, today: date) -> Reading | None:
    card = image.straighten(rgb)
    layer = image.text_layer(card.pixels)
    block = image.region(layer, *FIELDS)
    fields = ktp.parse_fields(engine.lines(block))
    if len(fields) < len(ktp.LABELS) + 2:  # a row missed: read the rows one by one
        for key, found in ktp.parse_fields(_field_lines(engine, block)).items():
            fields.setdefault(key, found)
    nik = _nik_reading(engine, layer)
    if (nik is None or len(nik.value) < 10) and len(fields) < MIN_LABELS:
        return None
    fields.update(_header(engine, layer))
    check = None
    if nik is not None:
        check = ktp.cross_check(nik.value, fields, today)
        if not check.trusted and nik.note is None:
            nik = replace(nik, note="nik_flagged")
        fields["nik"] = nik
    return Reading("ktp", fields, check, card.found)


def read(engine: Engine, data: bytes, today: date) -> Reading:
    """The document in ``data`` (JPEG or PNG bytes), or :func:`not_readable`."""
    started = time.perf_counter()
    rgb = image.decode(data)
    found = read_ktp(engine, rgb, today)
    if found is None:
        found = passport.read_passport(engine, rgb, today)
    if found is None:
        _LOGGER.info("identity scan: no readable document (%.2f s)", time.perf_counter() - started)
        raise not_readable()
    seconds = time.perf_counter() - started
    _LOGGER.info(
        "identity scan: %s read, %d fields, %d to check, nik %s (%.2f s)",
        found.document,
        len(found.fields),
        sum(1 for f in found.fields.values() if f.low),
        "trusted" if found.nik is not None and found.nik.trusted else "flagged",
        seconds,
    )
    return replace(found, seconds=seconds)
