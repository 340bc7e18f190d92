"""The reports' public face: books and the visit report as PDF, XLSX or CSV bytes.

These are the plain async functions the CLI (``bidroom report``), the API and
the sign-off page call. Everything is read with SQLAlchemy Core and built in
plain Python; nothing here writes.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from service.config import Config
from service.domain.policy import KindPolicy, Policy
from service.errors import ValidationError
from service.i18n import _
from service.reports.books import Books, build_books
from service.reports.csv_out import csv_bytes, csv_sections
from service.reports.data import Records, load_records
from service.reports.layout import Layout, SignOff
from service.reports.tabular import book_sheets, report_sheets
from service.reports.visit_report import VisitReport, build_report

# The PDF (fpdf2) and XLSX (openpyxl) writers are imported when a file is made: the
# daemon starts (and restarts after a crash) without them, a third of a second sooner.

FORMATS = ("pdf", "xlsx", "csv")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",  # UTF-8 with BOM
}
BOOKS = ("all", "access", "usage")


def policy_for(config: Config) -> Policy:
    """The parts of the site's policy a report needs (zone, hours, standards)."""
    std = config.standards
    return Policy(
        tz=ZoneInfo(config.site.timezone),
        opening=config.room.opening,
        closing=config.room.closing,
        days=config.room.days,
        standards={
            "2": timedelta(seconds=std.step2_s),
            "3": timedelta(seconds=std.step3_s),
            "8": timedelta(seconds=std.step8_s),
            "9": timedelta(seconds=std.step9_s),
        },
        kinds={k.kind: KindPolicy(k.kind, k.label, k.prefix) for k in config.facilities},
    )


def month_range(month: str) -> tuple[date, date]:
    """``2026-11`` -> first and last day of that month."""
    try:
        year, number = (int(part) for part in month.split("-"))
        last = calendar.monthrange(year, number)[1]
    except ValueError as exc:
        raise ValidationError(_("Bulan harus berbentuk YYYY-MM: {month}", month=month)) from exc
    return date(year, number, 1), date(year, number, last)


def period(day: str | None = None, month: str | None = None) -> tuple[date, date]:
    """``--date 2026-11-25`` or ``--month 2026-11`` -> (start, end), as the CLI and API take it."""
    if (day is None) == (month is None):
        raise ValidationError(_("Pilih tanggal atau bulan."))
    if month is not None:
        return month_range(month)
    try:
        one = date.fromisoformat(str(day))
    except ValueError as exc:
        raise ValidationError(_("Tanggal harus berbentuk YYYY-MM-DD: {day}", day=day)) from exc
    return one, one


def filename(kind: str, start: date, end: date, fmt: str) -> str:
    """``buku-kendali-2026-11-25.pdf``, ``laporan-kunjungan-2026-11.xlsx``."""
    stem = "buku-kendali" if kind == "books" else "laporan-kunjungan"
    if start == end:
        span = start.isoformat()
    elif start.day == 1 and (end + timedelta(days=1)).day == 1 and start.month == end.month:
        span = start.strftime("%Y-%m")
    else:
        span = f"{start.isoformat()}_{end.isoformat()}"
    return f"{stem}-{span}.{fmt}"


def _check(fmt: str, start: date, end: date) -> None:
    if fmt not in FORMATS:
        raise ValidationError(_("Format tidak dikenal: {fmt}", fmt=fmt), field="format")
    if end < start or (end - start).days > 366:
        raise ValidationError(_("Rentang tanggal tidak valid."))


def layout_for(
    config: Config,
    start: date,
    end: date,
    *,
    lang: str = "id",
    created: datetime | None = None,
    journal: tuple[int, str] | None = None,
    signoff: SignOff | None = None,
    free_text: bool = True,
) -> Layout:
    return Layout(
        site=config.site,
        tz=ZoneInfo(config.site.timezone),
        start=start,
        end=end,
        created=created or datetime.now(UTC),
        lang=lang,
        journal_seq=journal[0] if journal else None,
        journal_hash=journal[1] if journal else None,
        signoff=signoff,
        free_text=free_text,
    )


def books_file(books: Books, layout: Layout, fmt: str, book: str = "all") -> bytes:
    if fmt == "pdf":
        from service.reports.book_pdf import books_pdf

        return books_pdf(books, layout, book)
    sheets = book_sheets(books, layout, book)
    if fmt == "xlsx":
        from service.reports.xlsx import workbook

        return workbook(sheets, layout)
    return csv_bytes(sheets[0]) if len(sheets) == 1 else csv_sections(sheets)


def report_file(report: VisitReport, layout: Layout, fmt: str) -> bytes:
    if fmt == "pdf":
        from service.reports.visit_pdf import visit_report_pdf

        return visit_report_pdf(report, layout)
    sheets = report_sheets(report, layout)
    if fmt == "xlsx":
        from service.reports.xlsx import workbook

        return workbook(sheets, layout)
    return csv_sections(sheets)


async def render_books(
    engine: AsyncEngine,
    config: Config,
    start: date,
    end: date,
    fmt: str,
    *,
    book: str = "all",
    lang: str = "id",
    journal: tuple[int, str] | None = None,
    now: datetime | None = None,
) -> bytes:
    """Both control books of ``start`` .. ``end`` (local days, inclusive).

    PDF and XLSX hold both books (``book`` may pick one); a CSV holds one table,
    so ``book="access"`` or ``"usage"`` gives a plain CSV and ``"all"`` gives both
    under their titles.
    """
    _check(fmt, start, end)
    if book not in BOOKS:
        raise ValidationError(_("Buku tidak dikenal: {book}", book=book))
    layout = layout_for(config, start, end, lang=lang, journal=journal, created=now)
    records = await load_records(engine, layout.tz, start, end)
    return books_file(build_books(records, start, end, layout.tz), layout, fmt, book)


async def render_visit_report(
    engine: AsyncEngine,
    config: Config,
    start: date,
    end: date,
    fmt: str,
    *,
    lang: str = "id",
    now: datetime | None = None,
    journal: tuple[int, str] | None = None,
) -> bytes:
    """The visit report for the Head of LPSE: a day (start == end) or a month."""
    _check(fmt, start, end)
    layout = layout_for(config, start, end, lang=lang, created=now, journal=journal)
    records = await load_records(engine, layout.tz, start, end)
    report = build_report(records, policy_for(config), start, end, now or layout.created)
    return report_file(report, layout, fmt)


def build_all(
    records: Records, config: Config, start: date, end: date, now: datetime
) -> tuple[Books, VisitReport]:
    return build_books(records, start, end, ZoneInfo(config.site.timezone)), build_report(
        records, policy_for(config), start, end, now
    )
