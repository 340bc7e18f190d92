"""The books and the report as rows of cells, shared by the XLSX and CSV writers.

Cells are typed (date, naive local datetime, number, text): XLSX keeps the
types as real date cells, CSV writes them as the office reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from service.reports.books import AccessRow, AmendmentLine, Books, HelpLine, UsageRow
from service.reports.layout import Layout
from service.reports.visit_report import VisitReport

Cell = Any
Sheet = tuple[str, list[str], list[list[Cell]]]  # title, header, rows

# The columns of the paper books (the SOP's buku kendali), paraf columns included.
ACCESS_KEYS = (
    "no", "date", "visitor", "company", "document", "slot", "badge",
    "arrival", "entry", "exit", "returned", "doc_back", "doc_to", "officer", "purpose",
    "remarks", "paraf_visitor", "paraf_officer",
)  # fmt: skip
USAGE_KEYS = (
    "no", "date", "visitor", "company", "facility", "start", "end", "duration", "recorded",
    "help", "paraf_visitor",
)  # fmt: skip
HELP_KEYS = (
    "no", "date", "opened", "visitor", "facility", "category", "problem", "solution",
    "resolved_by", "resolved_at", "duration",
)  # fmt: skip


def _local(layout: Layout) -> Callable[[datetime | None], datetime | None]:
    def conv(at: datetime | None) -> datetime | None:
        return None if at is None else at.astimezone(layout.tz).replace(tzinfo=None)

    return conv


def doc_to(row: AccessRow, layout: Layout) -> str:
    """Who took the document back: "ybs." when the visitor did, else the name given."""
    if row.doc_returned is None:
        return ""
    return layout.w("to_visitor") if row.doc_returned_to == row.name else row.doc_returned_to


def access_cells(books: Books, layout: Layout) -> list[list[Cell]]:
    t = _local(layout)
    return [
        [
            *(r.no, r.day, r.name, r.company, r.document, r.slot, r.badge),
            *(t(r.arrival), t(r.entry), t(r.exit), t(r.returned), t(r.doc_returned)),
            *(doc_to(r, layout), books.officer(r.officer), r.purpose, r.remarks, None, None),
        ]
        for r in books.access
    ]


def recorded(row: UsageRow, layout: Layout) -> str:
    return layout.w(f"rec.{row.recorded}") if row.recorded else ""


def usage_cells(rows: list[UsageRow], layout: Layout) -> list[list[Cell]]:
    t = _local(layout)
    return [
        [
            *(r.no, r.day, r.name, r.company, r.facility, t(r.start), t(r.end)),
            None if r.duration is None else round(r.duration.total_seconds() / 60),
            *(recorded(r, layout), r.help, None),
        ]
        for r in rows
    ]


def help_problem(line: HelpLine, layout: Layout) -> str:
    if not layout.free_text:
        return f"{layout.w('withheld')} #{line.help_id}"
    return line.problem


def help_state(line: HelpLine, layout: Layout) -> str:
    """The resolution, or why there is none yet."""
    if line.state != "resolved":
        return layout.w(f"help.{line.state}")
    return line.resolution if layout.free_text else f"{layout.w('withheld')} #{line.help_id}"


def help_cells(books: Books, layout: Layout) -> list[list[Cell]]:
    t = _local(layout)
    return [
        [
            *(h.no, h.day, t(h.opened), h.name, h.facility, h.category, help_problem(h, layout)),
            *(help_state(h, layout), books.officer(h.resolved_by), t(h.resolved)),
            None if h.resolved is None else round((h.resolved - h.opened).total_seconds() / 60),
        ]
        for h in books.help
    ]


def signoff_sheet(layout: Layout) -> list[Sheet]:
    """The electronic sign-off of a sealed book (none for a book that is not sealed)."""
    lines = layout.signoff_lines()
    if not lines:
        return []
    w = layout.w
    rows: list[list[Cell]] = [
        [w("site"), layout.site.name],
        [w("period"), layout.period()],
        *([label, value] for label, value in lines),
        [w("head_title"), layout.site.head_name],
        [w("nip"), layout.site.head_nip],
    ]
    return [("Pengesahan", [w("signoff"), ""], rows)]


AMENDMENT_KEYS = (
    "no",
    "date",
    "amend_at",
    "amend_what",
    "amend_records",
    "amend_by",
    "amend_signed",
)


def amendment_cells(rows: list[AmendmentLine], layout: Layout) -> list[list[Cell]]:
    t = _local(layout)
    return [
        [
            r.no,
            r.day,
            t(r.at),
            r.what,
            r.records,
            r.actor,
            f"{r.signed_by or ''} {_at(t(r.signed_at))}".strip(),
        ]
        for r in rows
    ]


def _at(value: datetime | None) -> str:
    return value.strftime("%d-%m-%Y %H.%M") if value else ""


def book_sheets(books: Books, layout: Layout, book: str = "all") -> list[Sheet]:
    """The sheets of ``book`` ("access", "usage" or "all"); amendments go with the access book."""
    w = layout.w
    sheets: list[Sheet] = []
    if book in ("all", "access"):
        sheets.append(
            ("Buku Kendali Akses", [w(k) for k in ACCESS_KEYS], access_cells(books, layout))
        )
    if book in ("all", "usage"):
        sheets.append(
            (
                "Buku Kendali Fasilitas",
                [w(k) for k in USAGE_KEYS],
                usage_cells(books.sessions(), layout),
            )
        )
        sheets.append(("Permintaan Bantuan", [w(k) for k in HELP_KEYS], help_cells(books, layout)))
    if books.amendments and book in ("all", "access"):
        header = [w(k) for k in AMENDMENT_KEYS]
        sheets.append(("Amandemen", header, amendment_cells(books.amendments, layout)))
    return sheets + signoff_sheet(layout)


def _summary(report: VisitReport, layout: Layout) -> list[list[Cell]]:
    w = layout.w
    return [
        [w("visits"), report.visits],
        [w("companies"), report.companies],
        [w("packages"), ", ".join(report.packages)],
        [w("tickets"), report.tickets],
        [f"{w('waits')} {w('median')}", report.wait_median_min],
        [f"{w('waits')} {w('longest')}", report.wait_longest_min],
        [w("no_shows"), report.no_shows],
    ]


def report_sheets(report: VisitReport, layout: Layout) -> list[Sheet]:
    w = layout.w
    summary = _summary(report, layout)
    compliance = [
        [c.step, c.label, c.measured, c.within, c.standard_min] for c in report.compliance
    ]
    t = _local(layout)
    breaches = [
        [b.day, b.step, b.label, t(b.started), b.minutes, b.ongoing, b.justification, b.by]
        for b in report.breaches
    ]
    helps = [
        [h.category, h.label, h.count, h.resolved, h.median_min, h.longest_min] for h in report.help
    ]
    return [
        ("Ringkasan", [w("summary"), w("count")], summary),
        ("Per hari", [w("date"), w("visits")], [[d, n] for d, n in report.per_day]),
        ("Okupansi", ["Jam", w("occupancy")], [[f"{h:02d}", v] for h, v in report.occupancy]),
        ("Fasilitas", [w("facility"), "%"], [[c, v] for c, v in report.utilisation]),
        ("Bantuan", ["Kode", w("category"), w("count"), "OK", w("median"), w("longest")], helps),
        (
            "Kepatuhan SOP",
            [w("step"), "", w("measured"), w("within"), w("standard")],
            compliance,
        ),
        (
            "Penyimpangan",
            [
                *(w("date"), w("step"), w("subject"), w("start"), w("minutes")),
                *(w("ongoing"), w("justification"), "Oleh"),
            ],
            breaches,
        ),
        (
            "Belum kembali",
            ["#", w("visitor"), ""],
            [list(item) for item in report.not_returned],
        ),
    ]
