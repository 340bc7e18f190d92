"""The books' PDF layout: the signature never alone on a page, long text wrapped whole."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fpdf import FPDF

from service.config import SiteConfig
from service.errors import ConfigError
from service.reports import fonts
from service.reports.book_pdf import ACCESS_COLUMNS, HELP_COLUMNS, books_pdf
from service.reports.books import AccessRow, Books, HelpLine
from service.reports.layout import Layout
from tests.support.pdf_tables import book_table, pieces, table_rows

DAY = date(2026, 11, 25)
AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
SITE = SiteConfig(head_name="Dr. Hj. Nurhayati Siregar, M.T.", head_nip="19750505 200003 2 004")
LAYOUT = Layout(SITE, ZoneInfo("Asia/Jakarta"), DAY, DAY, AT)


def access(n: int, name: str = "Budi Santoso") -> AccessRow:
    at = AT + timedelta(minutes=n)
    return AccessRow(
        n, DAY, n, f"{name} {n}", "PT Maju Jaya", "KTP 1571**01", "L-01", "K-001",
        at, at, at, at, at, "fo-rina", "",
    )  # fmt: skip


def help_line(n: int) -> HelpLine:
    return HelpLine(
        n, DAY, n, n, f"Siti {n}", "PT A", "PC-01", "Login / akun SPSE", "Lupa kata sandi",
        AT, AT + timedelta(minutes=5), "resolved", "Direset", "hd-yusuf",
    )  # fmt: skip


def signature_page(data: bytes) -> tuple[int, list[str], list[str]]:
    """The page with the Head's name: its number, its texts, its table's visitor names."""
    pages = pieces(data)
    n = next(i for i, page in enumerate(pages) if any(SITE.head_name in t for *_, t in page))
    names = [row[2] for row in table_rows(pages[n], [w for _, w in ACCESS_COLUMNS])]
    return n, [t for *_, t in pages[n]], names


# Around the counts where the book outgrows its first and its second page.
@pytest.mark.parametrize("count", [*range(12, 21), *range(33, 40)])
def test_the_heads_signature_keeps_the_last_rows_and_the_count_with_it(count: int) -> None:
    books = Books([access(n) for n in range(1, count + 1)], [])
    data = books_pdf(books, LAYOUT, "access")
    n, text, names = signature_page(data)
    assert f"Budi Santoso {count}" in names  # the last row is on the signature's page
    assert f"Jumlah kunjungan: {count}" in text
    assert "NIP. 19750505 200003 2 004" in text
    assert n == len(pieces(data)) - 1


@pytest.mark.parametrize("count", range(13, 20))
def test_the_usage_books_signature_stays_with_the_help_requests(count: int) -> None:
    books = Books([], [], help=[help_line(n) for n in range(1, count + 1)])
    data = books_pdf(books, LAYOUT, "usage")
    n, text, _ = signature_page(data)
    names = [row[3] for row in table_rows(pieces(data)[n], [w for _, w in HELP_COLUMNS])]
    assert f"Siti {count}" in names and f"Jumlah permintaan bantuan: {count}" in text


def test_long_names_wrap_onto_lines_and_keep_every_letter() -> None:
    long = "Raden Mas Bagus Hadiwijoyo Kusumonegoro Prawirodirjo Notoatmodjo " * 2
    books = Books([access(1, long.strip())], [])
    rows = book_table(pieces(books_pdf(books, LAYOUT, "access"))[0], [w for _, w in ACCESS_COLUMNS])
    assert rows[1][2] == f"{long.strip()} 1"


def test_wrap_cuts_a_word_longer_than_its_column_between_letters_only() -> None:
    pdf = FPDF()
    fonts.register(pdf)
    pdf.set_font(fonts.MAIN, size=7)
    word = "Pengadaanbarangjasapemerintahkotajambi"
    lines = fonts.wrap(pdf, f"PT {word} Ĳssel", 20)
    assert len(lines) > 2 and all(fonts.width(pdf, line) <= 20 for line in lines)
    assert "".join(lines).replace(" ", "") == f"PT{word}Ĳssel"
    assert fonts.wrap(pdf, "08.03", 8) == ["08.03"] and fonts.wrap(pdf, "", 8) == [""]


def test_an_empty_book_is_printed_and_signed_all_the_same() -> None:
    data = books_pdf(Books([], []), LAYOUT, "all")
    pages = pieces(data)
    texts = [t.strip() for page in pages for *_, t in page]
    assert texts.count("Tidak ada.") == 3  # the access book, the sessions, the help requests
    assert texts.count("Jumlah kunjungan: 0") == 1 and texts.count(SITE.head_name) == 2


def test_a_missing_font_is_a_clear_message_naming_the_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fonts, "CJK_FILES", (tmp_path / "none.ttf",))
    pdf = FPDF()
    fonts.register(pdf)
    fonts.need_fallback(pdf, ["Ñandú Ĳssel"])  # DejaVu has these: no fallback needed
    assert fonts.CJK not in pdf.fonts
    with pytest.raises(ConfigError, match="fonts-droid-fallback"):
        fonts.need_fallback(pdf, ["漢字"])
    monkeypatch.setattr(fonts, "DEJAVU_DIRS", (tmp_path,))
    with pytest.raises(ConfigError, match="fonts-dejavu-core"):
        fonts.register(FPDF())
