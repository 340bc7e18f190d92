"""The picture of a card, prepared for OCR in memory: decoded, found, straightened, evened.

A flatbed scan holds the card somewhere on a white bed; a desk camera holds it on a
desk, tilted and in perspective. The e-KTP is printed on light blue, so the card is
found as the largest light-blue region (hue and saturation), its four corners are
taken from the region's outline, and it is warped to one canonical size
(:data:`CARD_SIZE`, about 385 dpi), the right way up (the photo on the right). Where
no blue card is found (a passport, a card photographed edge to edge), the picture's
own frame is used.

For the text, the blue channel is taken: there the light-blue guilloche is as pale as
the background and the black print stays black. Dividing by a blurred copy of itself
evens out a lamp to one side or a shadow.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import ValidationError
from service.i18n import _

Pixels = npt.NDArray[np.uint8]

CARD_SIZE = (1300, 820)  # width, height: 85.6 × 54 mm at about 385 dpi
MAX_PIXELS = 40_000_000  # an A4 bed at 600 dpi is 35 MP; a phone photo 12–50 MP
WORK_SIDE = 800  # the card is looked for on a copy this long


def unreadable_image() -> ValidationError:
    return ValidationError(
        _("Berkas bukan gambar JPEG atau PNG yang dapat dibaca."),
        field="image",
    )


def decode(data: bytes) -> Pixels:
    """RGB pixels of a JPEG or PNG, turned the way the camera says (EXIF), in memory."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format not in ("JPEG", "PNG", "PPM", "TIFF"):
                raise unreadable_image()
            if opened.width * opened.height > MAX_PIXELS:
                raise ValidationError(
                    _("Gambar terlalu besar; pindai pada 300 dpi."),
                    field="image",
                )
            upright = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise unreadable_image() from None
    return np.asarray(upright, dtype=np.uint8)


def _order(points: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Top-left, top-right, bottom-right, bottom-left."""
    total = points.sum(axis=1)
    diff = np.diff(points, axis=1).ravel()
    corners = [
        points[np.argmin(total)],
        points[np.argmin(diff)],
        points[np.argmax(total)],
        points[np.argmax(diff)],
    ]
    return np.array(corners, dtype=np.float32)


def _blue_region(small: Pixels) -> npt.NDArray[np.int32] | None:
    """The outline of the largest light-blue region, if it covers enough of the picture."""
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    mask = cv2.inRange(hsv, (85, 18, 90), (135, 255, 255))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    if cv2.contourArea(largest) < 0.08 * small.shape[0] * small.shape[1]:
        return None
    return np.asarray(largest, dtype=np.int32)


def _corners(outline: npt.NDArray[np.int32]) -> npt.NDArray[np.float32]:
    hull = cv2.convexHull(outline)
    for epsilon in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, epsilon * cv2.arcLength(hull, True), True)
        if len(approx) == 4:
            return _order(approx.reshape(4, 2).astype(np.float32))
    return _order(cv2.boxPoints(cv2.minAreaRect(outline)).astype(np.float32))


@dataclass(frozen=True, slots=True)
class Card:
    pixels: Pixels  # RGB, CARD_SIZE
    found: bool  # a light-blue card was found (False: the picture's frame was used)


def straighten(rgb: Pixels) -> Card:
    """The card cut out of the picture and warped to :data:`CARD_SIZE`, photo on the right."""
    height, width = rgb.shape[:2]
    scale = WORK_SIDE / max(height, width)
    small = cv2.resize(
        rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
    )
    outline = _blue_region(np.asarray(small, dtype=np.uint8))
    if outline is None:
        quad = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    else:
        quad = _corners(outline) / scale
    top_left, top_right, _, bottom_left = quad
    if np.linalg.norm(top_right - top_left) < np.linalg.norm(bottom_left - top_left):
        quad = np.roll(quad, 1, axis=0)  # a card standing upright: lay it down
    target = np.array(
        [[0, 0], [CARD_SIZE[0], 0], [CARD_SIZE[0], CARD_SIZE[1]], [0, CARD_SIZE[1]]], np.float32
    )
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    card = cv2.warpPerspective(rgb, matrix, CARD_SIZE, flags=cv2.INTER_CUBIC)
    pixels = np.asarray(card, dtype=np.uint8)
    if outline is not None and _photo_on_the_left(pixels):
        pixels = np.ascontiguousarray(pixels[::-1, ::-1])
    return Card(pixels, outline is not None)


def _photo_on_the_left(card: Pixels) -> bool:
    """The photo box is the most saturated part of a KTP; upside down it is on the left."""
    saturation = cv2.cvtColor(card, cv2.COLOR_RGB2HSV)[:, :, 1].astype(np.float32)
    third = card.shape[1] // 4
    return float(saturation[:, :third].mean()) > float(saturation[:, -third:].mean()) + 20


def text_layer(card: Pixels) -> Pixels:
    """Grey text on white: the blue channel, evened out against its own blurred copy."""
    blue = card[:, :, 2].astype(np.float32)
    background = cv2.morphologyEx(blue, cv2.MORPH_CLOSE, np.ones((31, 31), np.uint8))
    background = cv2.GaussianBlur(background, (0, 0), 15)
    evened = blue / np.maximum(background, 1.0) * 255.0
    return np.asarray(np.clip(evened, 0, 255), dtype=np.uint8)


def region(layer: Pixels, left: float, top: float, right: float, bottom: float) -> Pixels:
    """A part of the card given in fractions of its width and height."""
    height, width = layer.shape[:2]
    part = layer[
        round(top * height) : round(bottom * height), round(left * width) : round(right * width)
    ]
    return np.ascontiguousarray(part)


def drop_specks(gray: Pixels, keep: float = 0.45) -> Pixels:
    """Only the line's characters kept: marks much shorter (a colon, dust, guilloche) whited out."""
    ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return gray
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    tall = float(np.percentile(heights, 95))
    wanted = np.flatnonzero(heights >= keep * tall) + 1
    kept = cv2.dilate(np.isin(labels, wanted).astype(np.uint8), np.ones((5, 5), np.uint8))
    return np.asarray(np.where(kept > 0, gray, 255), dtype=np.uint8)


def binarised(gray: Pixels) -> Pixels:
    """Black on white by Otsu's threshold."""
    return np.asarray(cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1], np.uint8)


def enlarged(gray: Pixels, factor: float) -> Pixels:
    big = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return np.asarray(big, dtype=np.uint8)


def text_bands(gray: Pixels) -> list[tuple[int, int]]:
    """The rows of text in a block, top to bottom, from where the ink is (a projection)."""
    ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    rows = (ink > 0).sum(axis=1) > 0.01 * gray.shape[1]
    bands: list[tuple[int, int]] = []
    start = None
    for y, inked in enumerate([*rows.tolist(), False]):
        if inked and start is None:
            start = y
        elif not inked and start is not None:
            bands.append((start, y))
            start = None
    if not bands:
        return []
    tallest = max(bottom - top for top, bottom in bands)
    bands = [b for b in bands if b[1] - b[0] >= 0.35 * tallest]
    height = gray.shape[0]
    pad = max(2, round(0.25 * float(np.median([b - t for t, b in bands]))))
    return [(max(0, top - pad), min(height, bottom + pad)) for top, bottom in bands]
