"""The books and the report as rows of cells, shared by the XLSX and CSV writers.

Cells are typed (date, naive local datetime, number, text): XLSX keeps the
types as real date cells, CSV writes them as the office reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from service.reports.books import AccessRow, AmendmentLine, Books, UsageRow
from service.reports.layout import Layout
from service.reports.visit_report import VisitReport

Cell = Any
Sheet = tuple[str, list[str], list[list[Cell]]]  # title, header, rows

ACCESS_KEYS = (
    "no", "date", "visitor", "company", "document", "slot", "badge",
    "arrival", "entry", "exit", "returned", "officer", "remarks",
)  # fmt: skip
USAGE_KEYS = (
    "no", "date", "visitor", "company", "facility", "start", "end", "duration", "help",
)  # fmt: skip


def _local(layout: Layout) -> Callable[[datetime | None], datetime | None]:
    def conv(at: datetime | None) -> datetime | None:
        return None if at is None else at.astimezone(layout.tz).replace(tzinfo=None)

    return conv


def access_cells(rows: list[AccessRow], layout: Layout) -> list[list[Cell]]:
    t = _local(layout)
    return [
        [
            *(r.no, r.day, r.name, r.company, r.document, r.slot, r.badge),
            *(t(r.arrival), t(r.entry), t(r.exit), t(r.returned), r.officer, r.remarks),
        ]
        for r in rows
    ]


def usage_cells(rows: list[UsageRow], layout: Layout) -> list[list[Cell]]:
    t = _local(layout)
    return [
        [
            *(r.no, r.day, r.name, r.company, r.facility, t(r.start), t(r.end)),
            *(None if r.duration is None else round(r.duration.total_seconds() / 60), r.help),
        ]
        for r in rows
    ]


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
            ("Buku Kendali Akses", [w(k) for k in ACCESS_KEYS], access_cells(books.access, layout))
        )
    if book in ("all", "usage"):
        sheets.append(
            ("Buku Kendali Fasilitas", [w(k) for k in USAGE_KEYS], usage_cells(books.usage, layout))
        )
    if books.amendments and book in ("all", "access"):
        header = [w(k) for k in AMENDMENT_KEYS]
        sheets.append(("Amandemen", header, amendment_cells(books.amendments, layout)))
    return sheets


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
