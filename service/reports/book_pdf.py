"""The two control books as a landscape A4 PDF, columns as in the paper books.

Buku Kendali Akses Ruang Bidding Room (with the amendments after it), then Buku
Kendali Penggunaan Fasilitas LPSE with the help requests; each ends with its
count and the Head of LPSE's signature (and, once sealed, the electronic sign-off).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from service.reports.books import AccessRow, Books
from service.reports.fonts import MAIN
from service.reports.layout import Layout
from service.reports.pdf import SIGNATURE_H, ReportPDF, signature, signoff_height, table
from service.reports.tabular import doc_to, help_problem, help_state, recorded
from service.reports.wording import clock_time, short_date, zone_name

# (word key, width in mm): 277 mm between the margins of a landscape A4.
ACCESS_COLUMNS = (
    ("no", 7), ("date", 15), ("visitor", 24), ("company", 22), ("document", 22), ("slot", 8),
    ("badge", 10), ("arrival", 11), ("entry", 11), ("exit", 11), ("returned", 12),
    ("doc_back", 24), ("officer", 20), ("purpose", 24), ("remarks", 22),
    ("paraf_visitor", 17), ("paraf_officer", 17),
)  # fmt: skip
USAGE_COLUMNS = (
    ("no", 7), ("date", 15), ("visitor", 30), ("company", 28), ("facility", 30), ("start", 12),
    ("end", 12), ("duration", 14), ("recorded", 22), ("help", 77), ("paraf_visitor", 30),
)  # fmt: skip
HELP_COLUMNS = (
    ("no", 7), ("date", 15), ("opened", 14), ("visitor", 30), ("facility", 16),
    ("category", 30), ("problem", 52), ("solution", 55), ("resolved_by", 28),
    ("resolved_at", 14), ("duration", 16),
)  # fmt: skip
AMENDMENT_COLUMNS = (
    ("no", 8), ("date", 18), ("amend_at", 26), ("amend_what", 70), ("amend_records", 80),
    ("amend_by", 35), ("amend_signed", 40),
)  # fmt: skip
PARAF_ROW_H = 6.0  # room for a handwritten paraf
SIZE = 6.5


def _heads(pdf: ReportPDF, columns: Sequence[tuple[str, int]]) -> tuple[list[str], list[float]]:
    w = pdf.layout.w
    heads = [w(key) for key, _ in columns]
    if columns is ACCESS_COLUMNS:
        heads[[k for k, _ in columns].index("doc_back")] = (
            f"{w('doc_back')} ({w('doc_back_detail')})"
        )
    return heads, [float(width) for _, width in columns]


def _clock(pdf: ReportPDF) -> Callable[[datetime | None], str]:
    layout = pdf.layout

    def t(at: datetime | None) -> str:
        return clock_time(at, layout.tz, layout.lang, zone=False)

    return t


def _empty(pdf: ReportPDF, width: int) -> list[list[str]]:
    """The one row of an empty book: "-" and "Tidak ada." (a book is printed even so)."""
    return [["-", "", pdf.layout.w("none"), *([""] * (width - 3))]]


def _tail(pdf: ReportPDF) -> float:
    """What follows a book's table: its count, the signature and the sign-off."""
    return 6.0 + SIGNATURE_H + signoff_height(pdf.layout)


def _count(pdf: ReportPDF, key: str, count: int) -> None:
    pdf.ln(1)
    pdf.set_font(MAIN, "B", 8)
    pdf.cell(0, 5, f"{pdf.layout.w(key)}: {count}", new_x="LMARGIN", new_y="NEXT")


def _doc_back(pdf: ReportPDF, row: AccessRow) -> str:
    if row.doc_returned is None:
        return ""
    to = doc_to(row, pdf.layout)
    return f"{_clock(pdf)(row.doc_returned)}, {pdf.layout.w('to')} {to}".strip()


def _access_page(pdf: ReportPDF, books: Books) -> None:
    layout, w = pdf.layout, pdf.layout.w
    pdf.title_text = w("access_book")
    pdf.add_page()
    note = f"{w('arrival')}, {w('entry')}, {w('exit')}, {w('returned')}: {zone_name(layout.tz)}"
    pdf.set_font(MAIN, size=7)
    pdf.cell(0, 4, note, new_x="LMARGIN", new_y="NEXT")
    t = _clock(pdf)
    rows = [
        [
            *(str(r.no), short_date(r.day), r.name, r.company, r.document, r.slot, r.badge),
            *(t(r.arrival), t(r.entry), t(r.exit), t(r.returned), _doc_back(pdf, r)),
            *(books.officer(r.officer), r.purpose, r.remarks, "", ""),
        ]
        for r in books.access
    ]
    heads, widths = _heads(pdf, ACCESS_COLUMNS)
    rows = rows or _empty(pdf, len(widths))
    table(pdf, heads, widths, rows, size=SIZE, min_height=PARAF_ROW_H, keep_with_end=_tail(pdf))
    _count(pdf, "total_visits", len(books.access))
    signature(pdf)


def _usage_page(pdf: ReportPDF, books: Books) -> None:
    w = pdf.layout.w
    pdf.title_text = w("usage_book")
    pdf.add_page()
    t = _clock(pdf)
    rows = [
        [
            *(str(r.no), short_date(r.day), r.name, r.company, r.facility, t(r.start)),
            *(t(r.end), _minutes(r.duration), recorded(r, pdf.layout), r.help, ""),
        ]
        for r in books.sessions()
    ]
    heads, widths = _heads(pdf, USAGE_COLUMNS)
    table(pdf, heads, widths, rows or _empty(pdf, len(widths)), size=SIZE, min_height=PARAF_ROW_H)
    _count(pdf, "total_sessions", len(rows))
    _help(pdf, books)
    signature(pdf)


def _help(pdf: ReportPDF, books: Books) -> None:
    """The help requests: problem and resolution (kept on the page with the signature)."""
    w = pdf.layout.w
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(MAIN, "B", 9)
    pdf.cell(0, 6, w("help_book"), new_x="LMARGIN", new_y="NEXT")
    t = _clock(pdf)
    rows = [
        [
            *(str(h.no), short_date(h.day), t(h.opened), h.name, h.facility, h.category),
            *(help_problem(h, pdf.layout), help_state(h, pdf.layout)),
            books.officer(h.resolved_by),
            *(t(h.resolved), _minutes(None if h.resolved is None else h.resolved - h.opened)),
        ]
        for h in books.help
    ]
    heads, widths = _heads(pdf, HELP_COLUMNS)
    rows = rows or _empty(pdf, len(widths))
    table(pdf, heads, widths, rows, size=SIZE, keep_with_end=_tail(pdf))
    _count(pdf, "total_help", len(books.help))


def _amendments_page(pdf: ReportPDF, books: Books) -> None:
    """After the signed access book: what happened later, each line with its signature."""
    layout, w = pdf.layout, pdf.layout.w
    pdf.title_text = w("amendments")
    pdf.add_page()

    def at(value: datetime | None) -> str:
        return clock_time(value, layout.tz, layout.lang) if value else ""

    rows = [
        [str(r.no), short_date(r.day), at(r.at), r.what, r.records, books.officer(r.actor),
         f"{books.officer(r.signed_by) or '-'} {at(r.signed_at)}".strip()]
        for r in books.amendments
    ]  # fmt: skip
    heads, widths = _heads(pdf, AMENDMENT_COLUMNS)
    table(pdf, heads, widths, rows, size=7.0)


def books_pdf(books: Books, layout: Layout, book: str = "all") -> bytes:
    """Landscape A4: the access book, then the facility-usage book, each signed."""
    pdf = ReportPDF(layout, layout.w("access_book"), orientation="L")
    if book in ("all", "access"):
        _access_page(pdf, books)
        if books.amendments:
            _amendments_page(pdf, books)
    if book in ("all", "usage"):
        _usage_page(pdf, books)
    return bytes(pdf.output())


def _minutes(span: timedelta | None) -> str:
    return "" if span is None else str(round(span.total_seconds() / 60))
