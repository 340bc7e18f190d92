"""The XLSX writer: same records, same bytes; typed cells; frozen header."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from service.config import SiteConfig
from service.reports.layout import Layout
from service.reports.xlsx import workbook

CREATED = datetime(2026, 11, 25, 9, 12, 0, tzinfo=UTC)
LAYOUT = Layout(
    SiteConfig(), ZoneInfo("Asia/Jakarta"), date(2026, 11, 25), date(2026, 11, 25), CREATED
)
SHEET = (
    "Buku",
    ["No", "Tanggal", "Masuk"],
    [[1, date(2026, 11, 25), datetime(2026, 11, 25, 8, 3)]],  # noqa: DTZ001 (Excel: local, naive)
)


def test_no_clock_in_the_file() -> None:
    data = workbook([SHEET], LAYOUT)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        core = z.read("docProps/core.xml").decode()
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in z.infolist())
    # Both stamps are the layout's time (16.12 WIB), not the time of writing.
    assert core.count("2026-11-25T16:12:00Z") == 2
    assert workbook([SHEET], LAYOUT) == data


def test_cells_keep_their_types_and_the_header_is_frozen() -> None:
    ws = load_workbook(io.BytesIO(workbook([SHEET], LAYOUT)))["Buku"]
    assert ws.freeze_panes == "A2"
    assert ws["B2"].number_format == "dd/mm/yyyy" and ws["C2"].number_format == "hh:mm"
    assert ws["C2"].value == datetime(2026, 11, 25, 8, 3)  # noqa: DTZ001
