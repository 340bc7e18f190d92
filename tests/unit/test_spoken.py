"""The TV's spoken calls: the Indonesian words for a number, and the WAV the engine streams."""

from __future__ import annotations

import io
import struct
import wave

import pytest
from num2words import num2words

from service.domain.spoken import DIGITS, call_text, spell
from service.speech import complete_wav


def test_the_call_of_the_issue_reads_as_written() -> None:
    assert call_text("PC-007", "PC-01") == (
        "Nomor antrian P C nol nol tujuh, silakan ke P C nol satu"
    )


def test_every_kind_of_the_room_is_spelled_letter_by_letter_digit_by_digit() -> None:
    assert spell("LPT-012") == "L P T nol satu dua"
    assert spell("HS-10") == "H S satu nol"
    assert spell("PC-100") == "P C satu nol nol"
    assert spell("pc-09") == "P C nol sembilan"  # a lower-case prefix is read the same


def test_digit_words_are_those_of_num2words() -> None:
    assert list(DIGITS) == [num2words(d, lang="id") for d in range(10)]
    assert spell("0123456789") == " ".join(num2words(d, lang="id") for d in range(10))


def test_a_number_not_yet_sent_anywhere_is_said_without_a_facility() -> None:
    assert call_text("HS-003", None) == "Nomor antrian H S nol nol tiga"
    assert call_text("HS-003", "") == "Nomor antrian H S nol nol tiga"


@pytest.mark.parametrize(
    "code", ["", "   ", "--", "PC-٣", "PÇ-01", "PC;rm -rf", "<b>", "PC-" + "1" * 30, "PC\n01"]
)
def test_what_is_not_a_code_is_refused_not_read_out(code: str) -> None:
    with pytest.raises(ValueError, match="not a ticket or facility code"):
        spell(code)
    with pytest.raises(ValueError):
        call_text(code, "PC-01")
    if code:  # an empty facility means "none yet", said without one
        with pytest.raises(ValueError):
            call_text("PC-001", code)


def _streamed_wav(frames: bytes, rate: int = 22050) -> bytes:
    """A WAV as ``espeak-ng --stdout`` writes it: the lengths left at 0x7FFFFFFF."""
    header = b"RIFF" + struct.pack("<I", 0x7FFFFFFF) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", 0x7FFFFFFF)
    return header + frames


def test_a_streamed_wav_gets_its_real_length() -> None:
    frames = struct.pack("<4410h", *([1000, -1000] * 2205))  # 0.2 s
    fixed = complete_wav(_streamed_wav(frames))
    with wave.open(io.BytesIO(fixed)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        assert w.getnframes() == 4410
        assert w.readframes(w.getnframes()) == frames
    assert struct.unpack("<I", fixed[4:8])[0] == len(fixed) - 8


def test_a_torn_last_frame_is_dropped() -> None:
    fixed = complete_wav(_streamed_wav(b"\x01\x02" * 10 + b"\x03"))
    with wave.open(io.BytesIO(fixed)) as w:
        assert w.getnframes() == 10


@pytest.mark.parametrize(
    "raw", [b"", b"not audio at all", b"RIFF\x00\x00\x00\x00WAVE", _streamed_wav(b"")]
)
def test_what_is_not_audio_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        complete_wav(raw)
