"""Reading the books' PDF tables back as cells, the way a reader's eye does.

pypdf hands every piece of text with its position; a table's rows start where
its first column ("No") has text, and a cell's text is its pieces in reading
order (lines top to bottom, pieces on one line left to right: a name set in two
fonts, DejaVu and the CJK fallback, comes back as one word).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pypdf import PageObject, PdfReader

MM = 72 / 25.4
Piece = tuple[float, float, str]  # x (mm from the left), y (pt from the bottom), text


def pieces(data: bytes) -> list[list[Piece]]:
    """Every page's text pieces with their positions."""
    return [_page_pieces(page) for page in PdfReader(io.BytesIO(data)).pages]


def _page_pieces(page: PageObject) -> list[Piece]:
    found: list[Piece] = []

    def visit(text: str, cm: object, tm: Sequence[float], *_: object) -> None:
        if text.strip():
            found.append((tm[4] / MM, round(tm[5], 1), text))

    page.extract_text(visitor_text=visit)
    return found


def _cell(parts: list[Piece]) -> str:
    lines: dict[float, list[Piece]] = {}
    for part in parts:
        lines.setdefault(part[1], []).append(part)
    return " ".join(
        "".join(p[2] for p in sorted(lines[y])).strip() for y in sorted(lines, reverse=True)
    )


def table_rows(page: list[Piece], widths: Sequence[float], left: float = 10.0) -> list[list[str]]:
    """The rows (header first) of the table on ``page`` with these column widths."""
    edges = [left + sum(widths[: n + 1]) for n in range(len(widths))]
    inside = [p for p in page if left <= p[0] < edges[-1]]
    starts = sorted({p[1] for p in inside if p[0] < edges[0]}, reverse=True)
    rows: list[list[list[Piece]]] = [[[] for _ in widths] for _ in starts]
    for part in inside:
        row = max((n for n, y in enumerate(starts) if y >= part[1] - 0.05), default=None)
        if row is None:
            continue
        column = next(n for n, edge in enumerate(edges) if part[0] < edge)
        rows[row][column].append(part)
    return [[_cell(parts) for parts in row] for row in rows]


def book_table(page: list[Piece], widths: Sequence[float], nth: int = 0) -> list[list[str]]:
    """The header and the numbered rows of the ``nth`` table (from 0) on ``page``."""
    rows = table_rows(page, widths)
    start = [n for n, row in enumerate(rows) if row[0] == "No"][nth]
    out = [rows[start]]
    for row in rows[start + 1 :]:
        if not row[0].isdigit():
            break
        out.append(row)
    return out
