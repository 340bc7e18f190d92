"""A passport's machine-readable zone, read in memory and checked by its check digits.

The zone is the two lines of OCR-B at the foot of the data page. It is read with
Tesseract's English model under a whitelist of the zone's own characters
(``A–Z 0–9 <``), from the lower half of the picture, turned so that its longer side
is across; :mod:`service.domain.mrz` then parses it and checks every check digit.

passporteye (the library that first comes to mind) was not taken: it runs Tesseract
through pytesseract, which writes the image to the temp folder, and it pulls in
scikit-image and pdfminer for what is here a few lines of OpenCV.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import cv2
import numpy as np

from service.domain import mrz
from service.scan import image
from service.scan.result import Reading

if TYPE_CHECKING:
    from service.scan.engine import Engine

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
WIDTH = 1400  # the zone's 44 characters at about 30 px each


def _zone(rgb: image.Pixels) -> image.Pixels:
    """The lower half of the page, grey, scaled so the zone's characters are legible."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if gray.shape[0] > gray.shape[1]:
        gray = cv2.rotate(gray, cv2.ROTATE_90_CLOCKWISE)
    lower = gray[gray.shape[0] // 2 :]
    scale = WIDTH / lower.shape[1]
    sized = cv2.resize(lower, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image.binarised(np.asarray(sized, dtype=np.uint8))


def read_passport(engine: Engine, rgb: image.Pixels, today: date) -> Reading | None:

    for turned in (rgb, np.ascontiguousarray(rgb[::-1, ::-1])):
        lines = engine.lines(_zone(turned), whitelist=ALPHABET, lang="eng")
        texts = ["".join(w.text for w in line) for line in lines]
        found = mrz.find_lines(texts)
        if found is None:
            continue
        zone_words = [w for line in lines for w in line if "<" in w.text]
        confidence = sum(w.confidence for w in zone_words) / max(1, len(zone_words))
        parsed = mrz.parse_td3(*found, confidence, today)
        return Reading("passport", parsed.fields, None, False, checks=parsed.checks)
    return None
