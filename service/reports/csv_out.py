"""CSV as Excel opens it in Indonesia: UTF-8 with BOM, ``;`` between fields."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from service.reports.tabular import Cell, Sheet
from service.reports.wording import short_date


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value.hour:02d}.{value.minute:02d}"
    if isinstance(value, date):
        return short_date(value)
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def csv_bytes(sheet: Sheet) -> bytes:
    _, header, rows = sheet
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_text(v) for v in row] for row in rows)
    return buf.getvalue().encode("utf-8-sig")


def csv_sections(sheets: list[Sheet]) -> bytes:
    """Several tables in one CSV: each under its title, a blank line between them."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    for title, header, rows in sheets:
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows([_text(v) for v in row] for row in rows)
        writer.writerow([])
    return buf.getvalue().encode("utf-8-sig")
