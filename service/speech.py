"""Spoken calls for the waiting-area TV: Debian's ``espeak-ng`` with its Indonesian voice.

The daemon runs the engine itself, off the event loop (``asyncio`` subprocess), one
at a time, each run bounded by a timeout, the text given on stdin (never parsed as
an option). ``espeak-ng --stdout`` streams a WAV whose header leaves the length
open (0x7FFFFFFF); :func:`complete_wav` writes it again with the real length, so
every browser knows the duration. Answers are cached by text in memory (a called
number is asked for by every display, and again on a reload). Where the engine is
missing, :meth:`Speech.wav` raises :class:`SpeechUnavailable` and the TV chimes only.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import shutil
import wave
from collections import OrderedDict

from service.errors import BidroomError
from service.i18n import Msg, _

_LOGGER = logging.getLogger(__name__)
PROGRAM = "espeak-ng"
VOICE = "id"
TIMEOUT_S = 10.0
CACHE_SIZE = 64  # texts; a day's calls of a busy room, about 100 KB each
MAX_WAV_BYTES = 4 * 1024 * 1024  # about 90 s of speech: far beyond one call


class SpeechUnavailable(BidroomError):
    """No speech engine on this server (or it failed): the display chimes only."""

    code = "no_speech"
    http_status = 503


NOT_INSTALLED = SpeechUnavailable(
    _(
        "Suara panggilan tidak tersedia: mesin suara espeak-ng belum dipasang di server (apt-get install espeak-ng). Layar antrian hanya membunyikan lonceng."
    ),
)


def _failed(why: Msg) -> SpeechUnavailable:
    return SpeechUnavailable(
        _(
            "Suara panggilan gagal dibuat ({why_id}). Layar antrian hanya membunyikan lonceng.",
            why_id=why,
            why_en=why,
        ),
    )


def complete_wav(raw: bytes) -> bytes:
    """A WAV stream (header length unknown) -> the same audio with its real length.

    Raises ValueError when ``raw`` is not a PCM WAV with at least one frame.
    """
    try:
        with wave.open(io.BytesIO(raw), "rb") as src:
            params = src.getparams()
            frames = src.readframes(src.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a WAV: {exc}") from exc
    frame_size = params.nchannels * params.sampwidth
    frames = frames[: len(frames) - len(frames) % frame_size]
    if not frames:
        raise ValueError("a WAV without audio")
    out = io.BytesIO()
    with wave.open(out, "wb") as dst:
        dst.setnchannels(params.nchannels)
        dst.setsampwidth(params.sampwidth)
        dst.setframerate(params.framerate)
        dst.writeframes(frames)
    return out.getvalue()


class Speech:
    """The speech engine behind ``GET /api/v1/queue/calls/{number}/speech``."""

    def __init__(
        self,
        program: str | None = PROGRAM,
        *,
        voice: str = VOICE,
        timeout_s: float = TIMEOUT_S,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.path = shutil.which(program) if program else None
        self.voice = voice
        self.timeout_s = timeout_s
        self.cache_size = cache_size
        self.runs = 0  # engine processes started (the cache keeps this low)
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        self._one_at_a_time = asyncio.Semaphore(1)
        self._warned = False

    @property
    def available(self) -> bool:
        return self.path is not None

    async def wav(self, text: str) -> bytes:
        """The spoken ``text`` as a WAV; raises SpeechUnavailable without an engine."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        if self.path is None:
            if not self._warned:
                self._warned = True
                _LOGGER.warning("%s not found: the queue display chimes without speech", PROGRAM)
            raise NOT_INSTALLED
        pending = self._pending.get(text)
        if pending is not None:  # the same call asked for by another display right now
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():  # this request itself was cancelled
                    raise
                return await self.wav(text)  # the first asker went away: ask again
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[text] = future
        try:
            audio = await self._synthesise(self.path, text)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            del self._pending[text]
        future.set_result(audio)
        self._cache[text] = audio
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return audio

    async def _synthesise(self, path: str, text: str) -> bytes:
        async with self._one_at_a_time:
            self.runs += 1
            process = await asyncio.create_subprocess_exec(
                path,
                "-v",
                self.voice,
                "--stdout",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                out, err = await asyncio.wait_for(
                    process.communicate(text.encode()), self.timeout_s
                )
            except TimeoutError:
                raise _failed(_("mesin suara tidak menjawab")) from None
            finally:
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
        if process.returncode != 0 or len(out) > MAX_WAV_BYTES:
            _LOGGER.warning(
                "%s exited %s: %s", PROGRAM, process.returncode, err.decode(errors="replace")[:200]
            )
            raise _failed(_("mesin suara gagal"))
        try:
            return complete_wav(out)
        except ValueError as exc:
            _LOGGER.warning("%s gave no usable audio: %s", PROGRAM, exc)
            raise _failed(_("keluaran bukan audio")) from None
