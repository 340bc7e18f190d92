"""A4 PDFs with fpdf2: letterhead, page numbers, journal head in the footer, signature.

fpdf2 is pure Python (no system service, no native renderer) and maintained. The
text is set in DejaVu Sans with a Noto Sans CJK fallback (:mod:`service.reports.fonts`),
so every name prints as typed; a table cell too long for its column wraps onto
more lines instead of being cut. The Head's signature block is kept on one page
with the book's last rows and its count, never alone on a page.
"""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF

from service.reports import fonts
from service.reports.fonts import MAIN
from service.reports.layout import Layout
from service.reports.wording import long_date


class ReportPDF(FPDF):
    def __init__(self, layout: Layout, title: str, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.layout = layout
        self.title_text = title
        self.set_creation_date(layout.created)
        self.set_title(title)
        self.set_author(layout.site.name)
        self.set_creator("bidroom")
        self.alias_nb_pages()
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(True, margin=16)
        fonts.register(self)
        site = layout.site
        fonts.need_fallback(self, [*site.letterhead, site.address, site.head_name, site.name])

    def _line(self, text: str, height: float, align: str = "C") -> None:
        """One line of text, centred (or at the left margin), then the next line.

        Drawn with ``text`` rather than ``cell``: a cell runs fpdf2's fallback-font and
        bidirectional machinery, and every page of a month's book has seven of them.
        """
        y = self.get_y()
        x = self.l_margin
        if align == "C":
            x = (self.w - fonts.width(self, text)) / 2
        elif align == "R":
            x = self.w - self.r_margin - fonts.width(self, text)
        fonts.draw(self, x, y + height * 0.5 + self.font_size * 0.35, text)
        self.set_y(y + height)

    def header(self) -> None:
        lines = self.layout.site.letterhead
        for n, line in enumerate(lines):
            self.set_font(MAIN, "B", 12 if n == 0 else 10)
            self._line(line, 5)
        self.set_font(MAIN, size=7)
        self._line(self.layout.site.address, 4)
        y = self.get_y() + 1
        self.set_line_width(0.6)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_line_width(0.2)
        self.line(self.l_margin, y + 0.9, self.w - self.r_margin, y + 0.9)
        self.set_y(y + 3)
        self.set_font(MAIN, "B", 11)
        self._line(self.title_text, 6)
        self.set_font(MAIN, size=8)
        self._line(f"{self.layout.w('period')}: {self.layout.period()}", 4)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(MAIN, size=6.5)
        y = self.get_y()
        # A cell: fpdf2 fills in the page count ({nb}) only in text it set itself.
        self.cell(30, 4, f"{self.layout.w('page')} {self.page_no()} / {{nb}}")
        if self.layout.journal_hash:
            self.set_y(y)
            head = (
                f"{self.layout.w('journal_head')} seq {self.layout.journal_seq}: "
                f"{self.layout.journal_hash}"
            )
            self._line(head, 4, "R")


def _lines(pdf: FPDF, cells: Sequence[str], widths: Sequence[float]) -> list[list[str]]:
    return [fonts.wrap(pdf, text, width - 1.2) for text, width in zip(cells, widths, strict=True)]


def table(
    pdf: ReportPDF,
    headers: Sequence[str],
    widths: Sequence[float],
    rows: Sequence[Sequence[str]],
    *,
    size: float = 7.0,
    wrap_last: bool = True,
    min_height: float = 0.0,
    keep_with_end: float = 0.0,
) -> None:
    """A ruled table; the header repeats on each page; long cells wrap.

    ``keep_with_end`` is the height of what follows the table (a count, the
    signature): the last two rows move to a new page with it rather than leave it
    alone there. Rows are drawn with ``text`` and one ``line`` rather than ``cell``,
    the column lines once per page: what keeps a month's book within seconds.
    ``wrap_last`` is kept for callers; every column wraps.
    """
    del wrap_last
    line_h = size * 0.45
    fonts.need_fallback(pdf, [text for row in rows for text in row if not text.isascii()])
    pdf.set_font(MAIN, "B", size)
    head_lines = _lines(pdf, headers, widths)
    head_h = line_h * max(len(lines) for lines in head_lines) + 1.2
    edges = [pdf.l_margin + sum(widths[:n]) for n in range(1, len(widths))]
    total = sum(widths)

    def head() -> None:
        pdf.set_font(MAIN, "B", size)
        pdf.set_fill_color(225, 232, 240)
        y = pdf.get_y()
        pdf.rect(pdf.l_margin, y, total, head_h, style="DF")
        x = pdf.l_margin
        for lines, width in zip(head_lines, widths, strict=True):
            for n, text in enumerate(lines):
                left = x + (width - fonts.width(pdf, text)) / 2
                fonts.draw(pdf, left, y + line_h * (n + 0.75) + 0.5, text)
            pdf.line(x + width, y, x + width, y + head_h)
            x += width
        pdf.set_y(y + head_h)
        pdf.set_font(MAIN, size=size)

    pdf.set_font(MAIN, size=size)
    cells = [_lines(pdf, row, widths) for row in rows]
    heights = [max(line_h * max(len(c) for c in row) + 1.2, min_height) for row in cells]
    tail = max(len(rows) - 2, 0)
    tail_h = sum(heights[tail:])
    if pdf.will_page_break(head_h + (heights[0] if rows else 0.0)):
        pdf.add_page()
    head()
    top = pdf.get_y()  # where this page's part of the table starts, under its header

    def rule() -> None:
        """The column lines and the frame of this page's part, drawn once per page."""
        bottom = pdf.get_y()
        if bottom > top:
            for edge in edges:
                pdf.line(edge, top, edge, bottom)
            pdf.rect(pdf.l_margin, top, total, bottom - top)

    right = pdf.l_margin + total
    for n, (row, height) in enumerate(zip(cells, heights, strict=True)):
        breaking = pdf.will_page_break(height)
        if n == tail and keep_with_end and not breaking:
            breaking = pdf.will_page_break(tail_h + keep_with_end)
        if breaking:
            rule()
            pdf.add_page()
            head()
            top = pdf.get_y()
        y = pdf.get_y()
        _draw_row(pdf, row, [pdf.l_margin, *edges], y, line_h)
        pdf.line(pdf.l_margin, y + height, right, y + height)
        pdf.set_y(y + height)
    rule()


def _draw_row(
    pdf: ReportPDF, row: list[list[str]], lefts: Sequence[float], y: float, line_h: float
) -> None:
    """Each cell's lines, from the top of the row, at its column's left edge."""
    for x, lines in zip(lefts, row, strict=True):
        for line_no, text in enumerate(lines):
            if text:
                fonts.draw(pdf, x + 0.6, y + line_h * (line_no + 0.75) + 0.5, text)


SIGNATURE_H = 44.0


def signature(pdf: ReportPDF) -> None:
    """The Head of LPSE's block, bottom right: place and date, title, name and NIP.

    Call it right after a table made with ``keep_with_end=SIGNATURE_H`` (or after
    something else kept with it): it then never starts a page alone.
    """
    layout = pdf.layout
    if pdf.will_page_break(SIGNATURE_H - 2):
        pdf.add_page()
    pdf.ln(4)
    x = pdf.w - pdf.r_margin - 80
    pdf.set_font(MAIN, size=9)
    for text in (
        f"{layout.city()}, {long_date(layout.end, layout.lang)}",
        layout.w("known"),
        layout.w("head_title"),
    ):
        pdf.set_x(x)
        pdf.cell(80, 5, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(16)
    pdf.set_x(x)
    pdf.set_font(MAIN, "BU", 9)  # the name underlined, as signed
    pdf.cell(80, 5, layout.site.head_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(MAIN, size=9)
    pdf.set_x(x)
    pdf.cell(80, 5, f"NIP. {layout.site.head_nip}", align="C", new_x="LMARGIN", new_y="NEXT")
    _signoff(pdf)


def signoff_height(layout: Layout) -> float:
    return 4.0 + 3.6 * len(layout.signoff_lines()) if layout.signoff else 0.0


def _signoff(pdf: ReportPDF) -> None:
    """A sealed book's electronic sign-off, under the signature block."""
    lines = pdf.layout.signoff_lines()
    if not lines:
        return
    pdf.ln(1)
    pdf.set_font(MAIN, "B", 7)
    pdf.cell(0, 4, pdf.layout.w("signoff"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(MAIN, size=7)
    for label, value in lines:
        pdf.cell(0, 3.6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
