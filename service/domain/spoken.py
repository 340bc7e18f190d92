"""What the waiting-area TV says when a number is called, written as Indonesian speech.

A ticket number (``PC-007``) and a facility code (``PC-01``) are read the way a
clerk reads them over a loudspeaker: each letter by its name (the speech engine
says ``P`` as *pe*), each digit as a word (``0`` is *nol*, never *kosong*), the
dash silent. ``call_text("PC-007", "PC-01")`` is
``"Nomor antrian P C nol nol tujuh, silakan ke P C nol satu"``.
"""

from __future__ import annotations

# Indonesian digit words (the same as num2words(d, lang="id"); a test checks it).
DIGITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
# Written between the parts of a code, never spoken.
SEPARATORS = frozenset("-_/. ")
MAX_CODE = 20


def spell(code: str) -> str:
    """``"PC-007"`` -> ``"P C nol nol tujuh"``: letters spelled, digits as words.

    Raises ValueError for an empty code, one longer than MAX_CODE characters, or one
    with a character that is neither an ASCII letter, a digit nor a separator.
    """
    if not code.strip() or len(code) > MAX_CODE:
        raise ValueError(f"not a ticket or facility code: {code!r}")
    words: list[str] = []
    for ch in code:
        if ch in SEPARATORS:
            continue
        if ch.isascii() and ch.isdigit():
            words.append(DIGITS[int(ch)])
        elif ch.isascii() and ch.isalpha():
            words.append(ch.upper())
        else:
            raise ValueError(f"not a ticket or facility code: {code!r}")
    if not words:
        raise ValueError(f"not a ticket or facility code: {code!r}")
    return " ".join(words)


def call_text(number: str, facility: str | None) -> str:
    """The sentence for one call; without a facility (not fixed yet) only the number."""
    said = f"Nomor antrian {spell(number)}"
    if facility:
        said += f", silakan ke {spell(facility)}"
    return said
