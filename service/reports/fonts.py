"""Every letter as typed: Unicode TrueType fonts for the PDFs, with a CJK fallback.

The books print names as visitors wrote them ("Nguyễn", "Ñandú", "Ĳssel", "漢字").
fpdf2's core fonts speak Latin-1 only, so the PDFs embed (subsets of) Debian's
DejaVu Sans (``fonts-dejavu-core``: Latin, Greek, Cyrillic and the rest of
Europe) and, only when a text needs it, Droid Sans Fallback
(``fonts-droid-fallback``, Apache 2.0) for Chinese, Japanese and Korean: 4 MB of
TrueType outlines, so it loads in a tenth of Noto Sans CJK's time and its text
extracts cleanly (fpdf2 embeds Noto's CFF outlines with an encoding CMap that
pypdf cannot read back; Noto is still used where it is the only CJK font). The
fonts are not bundled: Debian keeps them up to date and CI installs them
(.ci/run); a missing font is a clear :class:`ConfigError` naming the package,
never a silent ``?``.

fpdf2's fast ``text()`` does not use fallback fonts, so :func:`draw` splits a
string into runs by the font that has its glyphs and :func:`width` measures it
the same way; :func:`wrap` breaks a long text into lines that fit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from service.errors import ConfigError

if TYPE_CHECKING:
    from fpdf import FPDF

MAIN = "dejavu"
CJK = "cjk"
DEJAVU_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
DEJAVU = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
CJK_FILES = (
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


def _dejavu(style: str) -> Path:
    for folder in DEJAVU_DIRS:
        path = folder / DEJAVU[style]
        if path.is_file():
            return path
    raise ConfigError(
        f"font {DEJAVU[style]} not found in {', '.join(map(str, DEJAVU_DIRS))}: "
        "install Debian's fonts-dejavu-core"
    )


def cjk_file() -> Path | None:
    return next((p for p in CJK_FILES if p.is_file()), None)


_CMAP: set[int] = set()  # the letters DejaVu has (read once, by fpdf2, from the font)
_WIDTHS: dict[tuple[str, float, str], float] = {}  # (font, size, text) -> mm


def covered(text: str) -> bool:
    """Whether DejaVu has a glyph for every letter of ``text``."""
    return text.isascii() or all(ord(c) in _CMAP for c in text)


def register(pdf: FPDF) -> None:
    """Add DejaVu (regular, bold) to ``pdf``; italics print upright (no italic in -core)."""
    for style in DEJAVU:
        pdf.add_font(MAIN, style, str(_dejavu(style)))
    if not _CMAP:
        _CMAP.update(pdf.fonts[MAIN].cmap)  # type: ignore[union-attr]


def need_fallback(pdf: FPDF, texts: list[str]) -> None:
    """Add the CJK fallback once, when some text has letters DejaVu lacks."""
    if CJK in pdf.fonts or all(covered(t) for t in texts):
        return
    path = cjk_file()
    if path is None:
        raise ConfigError(
            "a name needs Chinese/Japanese/Korean letters: install Debian's fonts-droid-fallback"
        )
    pdf.add_font(CJK, "", str(path), collection_font_number=0)
    pdf.set_fallback_fonts([CJK], exact_match=False)  # for cell(): headers, signature


def _runs(pdf: FPDF, text: str) -> list[tuple[str, str]]:
    """``text`` cut into (font family, piece) runs; all DejaVu when it can."""
    if covered(text):
        return [(MAIN, text)]
    cmap = _CMAP
    fallback = CJK if CJK in pdf.fonts else MAIN
    runs: list[tuple[str, str]] = []
    for char in text:
        if char.isspace() and runs:  # a space stays in the run it is in
            runs[-1] = (runs[-1][0], runs[-1][1] + char)
            continue
        family = MAIN if ord(char) in cmap else fallback
        if runs and runs[-1][0] == family:
            runs[-1] = (family, runs[-1][1] + char)
        else:
            runs.append((family, char))
    return runs


def _measure(pdf: FPDF, text: str) -> float:
    """The width of ``text`` in the current font, in mm, straight from the glyph widths.

    fpdf2's ``get_string_width`` runs the bidirectional-text machinery and copies the
    graphics state on every call: twenty times slower, and a month's book measures
    seventy thousand cells. The books set no shaping, spacing or stretching.
    """
    font = pdf.current_font
    assert font is not None
    key = (font.fontkey, pdf.font_size_pt, text)
    found = _WIDTHS.get(key)
    if found is None:
        if len(_WIDTHS) > 50_000:  # times, companies, officers repeat; names do not
            _WIDTHS.clear()
        found = _WIDTHS[key] = float(font.get_text_width(text, pdf.font_size_pt, None)[1]) / pdf.k
    return found


def width(pdf: FPDF, text: str) -> float:
    runs = _runs(pdf, text)
    if len(runs) == 1 and runs[0][0] == MAIN:
        return _measure(pdf, text)
    style, size = pdf.font_style, pdf.font_size_pt
    total = 0.0
    for family, piece in runs:
        pdf.set_font(family, style if family == MAIN else "", size)
        total += _measure(pdf, piece)
    pdf.set_font(MAIN, style, size)
    return total


def draw(pdf: FPDF, x: float, y: float, text: str) -> None:
    """``pdf.text`` with the fallback: each run in the font that has its letters."""
    runs = _runs(pdf, text)
    if len(runs) == 1 and runs[0][0] == MAIN:
        pdf.text(x, y, text)
        return
    style, size = pdf.font_style, pdf.font_size_pt
    for family, piece in runs:
        pdf.set_font(family, style if family == MAIN else "", size)
        pdf.text(x, y, piece)
        x += _measure(pdf, piece)
    pdf.set_font(MAIN, style, size)


def _split_word(pdf: FPDF, word: str, room: float) -> list[str]:
    """A word longer than the column, cut between letters (no letter is lost)."""
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and width(pdf, current + char) > room:
            pieces.append(current)
            current = char
        else:
            current += char
    return [*pieces, current]


def wrap(pdf: FPDF, text: str, room: float) -> list[str]:
    """``text`` in lines no wider than ``room`` (words kept whole when they fit)."""
    if not text:
        return [""]
    # No ASCII letter of DejaVu (bold too) is wider than 1.15 em: short texts need no measuring.
    if (text.isascii() and len(text) * pdf.font_size * 1.15 <= room) or width(pdf, text) <= room:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if width(pdf, candidate) <= room:
            current = candidate
            continue
        if current:
            lines.append(current)
        if width(pdf, word) <= room:
            current = word
        else:
            *whole, current = _split_word(pdf, word, room)
            lines.extend(whole)
    lines.append(current)
    return lines
