"""Tesseract in memory, in one worker thread, with the Indonesian model from Debian.

tesserocr calls Tesseract's C++ API directly: the pixels are handed over as bytes
and the text comes back as a string, so no image and no result is ever written to
a file (pytesseract, by contrast, writes both to the temp folder). The engines are
made once per process in the worker thread and reused (loading the model costs
about 0.2 s); Tesseract releases the GIL while it reads, so the event loop that
answers the doors keeps running. At most :data:`MAX_WAITING` reads wait their turn;
more are told to try again rather than queue without end.

``ind`` (``tesseract-ocr-ind``) reads the KTP; ``eng`` (installed with
``tesseract-ocr``) reads a passport's machine-readable zone under a whitelist.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from service.domain.ktp import Line, Word
from service.errors import BidroomError
from service.i18n import Text, _

if TYPE_CHECKING:
    from service.scan.image import Pixels

TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
)
MAX_WAITING = 4
T = TypeVar("T")


class OcrUnavailable(BidroomError):
    code = "ocr_unavailable"
    http_status = 503


class OcrBusy(BidroomError):
    code = "ocr_busy"
    http_status = 503


def tessdata_dir() -> Path | None:
    """Where Debian's models are: ``TESSDATA_PREFIX`` first, then Debian's folders."""
    wanted = [os.environ.get("TESSDATA_PREFIX", ""), *TESSDATA_DIRS]
    for folder in filter(None, wanted):
        if (Path(folder) / "ind.traineddata").is_file():
            return Path(folder)
    return None


def unavailable_reason() -> Text | None:
    """Why KTPs cannot be read on this machine (Indonesian, English), or None."""
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return _("Pustaka tesserocr belum terpasang (pip install tesserocr).")
    if tessdata_dir() is None:
        return _(
            "Tesseract dengan model bahasa Indonesia belum terpasang (apt-get install tesseract-ocr tesseract-ocr-ind)."
        )
    return None


def require() -> None:
    reason = unavailable_reason()
    if reason is not None:
        raise OcrUnavailable(reason)


class Engine:
    """Tesseract's API objects, used only from the one worker thread."""

    def __init__(self) -> None:
        self._apis: dict[str, Any] = {}

    def _api(self, lang: str) -> Any:
        if lang not in self._apis:
            import tesserocr

            self._apis[lang] = tesserocr.PyTessBaseAPI(
                path=str(tessdata_dir()) + "/", lang=lang, oem=tesserocr.OEM.LSTM_ONLY
            )
        return self._apis[lang]

    def lines(
        self, gray: Pixels, *, single_line: bool = False, whitelist: str = "", lang: str = "ind"
    ) -> list[Line]:
        """The words Tesseract reads in a grey image, line by line, with confidences."""
        import numpy as np
        import tesserocr

        api = self._api(lang)
        api.SetPageSegMode(tesserocr.PSM.SINGLE_LINE if single_line else tesserocr.PSM.SINGLE_BLOCK)
        api.SetVariable("tessedit_char_whitelist", whitelist)
        height, width = gray.shape[:2]
        padded = np.full((height + 20, width + 20), 255, np.uint8)
        padded[10 : 10 + height, 10 : 10 + width] = gray
        api.SetImageBytes(padded.tobytes(), width + 20, height + 20, 1, width + 20)
        api.SetSourceResolution(385)
        api.Recognize()
        out: list[Line] = []
        current: list[Word] = []
        level = tesserocr.RIL.WORD
        for item in tesserocr.iterate_level(api.GetIterator(), level):
            try:
                text = item.GetUTF8Text(level)
            except RuntimeError:  # an empty page: tesserocr raises instead of returning ""
                text = ""
            if not text:
                continue
            if item.IsAtBeginningOf(tesserocr.RIL.TEXTLINE) and current:
                out.append(tuple(current))
                current = []
            box = item.BoundingBox(level) or (0, 0, 0, 0)
            current.append(
                Word(
                    text.strip(),
                    item.Confidence(level) / 100.0,
                    max(0.0, (box[0] - 10) / width),
                    max(0.0, (box[2] - 10) / width),
                )
            )
        if current:
            out.append(tuple(current))
        api.Clear()
        return out

    def close(self) -> None:
        for api in self._apis.values():
            api.End()
        self._apis.clear()


class Worker:
    """One thread that owns the engine; reads are handed to it and awaited."""

    def __init__(self) -> None:
        import cv2

        # One core for reading cards, the other stays free for the doors: OpenCV would
        # otherwise spread a warp or a resize over every core (Tesseract here uses one).
        cv2.setNumThreads(1)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bidroom-ocr")
        self._engine = Engine()
        self._waiting = 0

    async def run(self, job: Callable[[Engine], T]) -> T:
        if self._waiting >= MAX_WAITING:
            raise OcrBusy(
                _("Pembaca KTP sedang sibuk; coba lagi sebentar."),
            )
        self._waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, job, self._engine)
        finally:
            self._waiting -= 1

    def close(self) -> None:
        self._pool.submit(self._engine.close).result()
        self._pool.shutdown(wait=True)


_WORKER: Worker | None = None
_LOCK = threading.Lock()


def worker() -> Worker:
    """The process's one OCR worker, made on first use (the model stays loaded)."""
    global _WORKER  # noqa: PLW0603  (one loaded model per process, like a cache)
    with _LOCK:
        if _WORKER is None:
            _WORKER = Worker()
        return _WORKER
