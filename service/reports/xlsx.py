"""XLSX with openpyxl: one sheet per book, real date cells, a frozen header row.

openpyxl stamps the time into the zip entries and the document properties; both
are fixed here so the same records always give the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from service.reports.layout import Layout
from service.reports.tabular import Sheet

_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="E1E8F0")
_FIXED = (1980, 1, 1, 0, 0, 0)


def _format_column(ws: object, column: int, rows: list[list[object]]) -> None:
    sample = next((r[column - 1] for r in rows if r[column - 1] is not None), None)
    fmt = None
    if isinstance(sample, datetime):
        fmt = "hh:mm"
    elif isinstance(sample, date):
        fmt = "dd/mm/yyyy"
    if fmt is None:
        return
    for row in ws.iter_rows(min_row=2, min_col=column, max_col=column):  # type: ignore[attr-defined]
        for cell in row:
            cell.number_format = fmt


def workbook(sheets: list[Sheet], layout: Layout) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
            cell.alignment = Alignment(horizontal="center")
        for row in rows:
            ws.append(row)
        for column in range(1, len(header) + 1):
            _format_column(ws, column, rows)
            width = max((len(str(r[column - 1] or "")) for r in rows[:200]), default=0)
            width = max(width, len(header[column - 1]))
            ws.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 6), 60)
        ws.freeze_panes = "A2"
    created = layout.created.astimezone(layout.tz).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = layout.site.name
    wb.properties.created = created
    wb.properties.modified = created
    raw = io.BytesIO()
    # ExcelWriter rather than wb.save(): save() stamps "modified" with the clock.
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
