"""The books and the visit report, opened as a user opens them, against the scenario."""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from service.reports.book_pdf import ACCESS_COLUMNS, HELP_COLUMNS, USAGE_COLUMNS
from service.reports.commands import add_commands
from service.reports.render import render_books, render_visit_report
from service.reports.sample import Scene, scenario
from tests.support.pdf_tables import book_table, pieces

DAY = date(2026, 11, 25)
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    async with scenario(tmp_path, DAY) as s:
        yield s


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


async def test_books_pdf_holds_both_books_with_letterhead_and_signature(scene: Scene) -> None:
    rt = scene.rt
    pages = pdf_text(await render_books(rt.engine, rt.config, DAY, DAY, "pdf"))
    text = "\n".join(pages)
    assert pages[0].startswith("PEMERINTAH KOTA JAMBI")
    assert "BUKU KENDALI AKSES RUANG BIDDING ROOM" in pages[0]
    assert "BUKU KENDALI PENGGUNAAN FASILITAS LPSE" in text
    assert "Periode: Rabu, 25 November 2026" in pages[0]
    assert f"Halaman 1 / {len(pages)}" in pages[0]
    # Access book, in arrival order, with door times in WIB from the door readers.
    data = await render_books(rt.engine, rt.config, DAY, DAY, "pdf")
    pages_at = pieces(data)
    access = book_table(pages_at[0], [w for _, w in ACCESS_COLUMNS])
    assert [row[0] for row in access[1:]] == ["1", "2", "3", "4"]
    assert access[1][2:11] == [
        *("Budi Santoso", "PT Maju Jaya", "KTP 1571**********01", "L-01", "K-001"),
        *("08.00", "08.03", "11.01", "11.04"),
    ]
    assert access[1][11:14] == [
        "11.06, kpd. ybs.",
        "Rina Marlina, S.Kom",
        "Upload dokumen penawaran / T-101",
    ]
    assert access[3][14] == "antrian PC-001"
    assert access[4][14] == "kartu belum kembali; identitas masih dititipkan"
    # Usage book: sessions with duration and the help request during Budi's session.
    usage = book_table(pages_at[1], [w for _, w in USAGE_COLUMNS])
    assert usage[1][4:10] == [
        *("PC-01 PC Desktop 1", "08.05", "11.00", "175", "tap meja"),
        "Unggah dokumen penawaran (12 mnt)",
    ]
    assert usage[3][4:8] == ["PC-02 PC Desktop 2", "10.23", "12.00", "97"]
    helps = book_table(pages_at[1], [w for _, w in HELP_COLUMNS], nth=1)
    assert helps[1][2:] == [
        *("09.30", "Budi Santoso", "PC-01", "Unggah dokumen penawaran", "Gagal unggah"),
        *("Diulang, berhasil", "Yusuf Hidayat", "09.42", "12"),
    ]
    assert "Drs. H. Ahmad Fauzi, M.Si" in text and "NIP. 197001011990031001" in text


async def test_books_xlsx_has_a_sheet_per_book_with_real_dates(scene: Scene) -> None:
    rt = scene.rt
    data = await render_books(rt.engine, rt.config, DAY, DAY, "xlsx")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Buku Kendali Akses", "Buku Kendali Fasilitas", "Permintaan Bantuan"]
    access, usage = wb["Buku Kendali Akses"], wb["Buku Kendali Fasilitas"]
    assert access.freeze_panes == "A2" and usage.freeze_panes == "A2"
    header = [c.value for c in access[1]]
    assert header[:4] == ["No", "Tanggal", "Nama Pengunjung", "Perusahaan"]
    rows = list(access.iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == ["Budi Santoso", "Siti Aminah", "Andi Wijaya", "Dewi Lestari"]
    assert isinstance(rows[0][1], datetime) and rows[0][1].date() == DAY
    # entry: local time (Excel has no zones), a real date cell
    assert rows[0][8] == datetime(2026, 11, 25, 8, 3, tzinfo=WIB).replace(tzinfo=None)
    assert access.cell(row=2, column=9).number_format == "hh:mm"
    assert rows[3][9] is None and rows[3][10] is None  # Dewi never left nor returned
    sessions = list(usage.iter_rows(min_row=2, values_only=True))
    assert [(s[4], s[7]) for s in sessions] == [
        ("PC-01 PC Desktop 1", 175),
        ("PC-02 PC Desktop 2", 55),
        ("PC-02 PC Desktop 2", 97),
    ]


async def test_csv_opens_in_excel_and_matches_the_scenario(scene: Scene) -> None:
    rt = scene.rt
    data = await render_books(rt.engine, rt.config, DAY, DAY, "csv", book="access")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "No" and len(rows) == 5
    siti = rows[2]
    assert siti[2:7] == ["Siti Aminah", "CV Karya Mandiri", "KTP 1571**********02", "L-02", "K-002"]
    assert siti[7:11] == ["09.00", "09.03", "10.02", "10.05"]
    usage = await render_books(rt.engine, rt.config, DAY, DAY, "csv", book="usage")
    lines = usage.decode("utf-8-sig").splitlines()
    assert lines[0] == "Buku Kendali Fasilitas" and len(lines) == 10
    assert "Unggah dokumen penawaran (12 mnt)" in lines[2]
    assert lines[6] == "Permintaan Bantuan"
    assert lines[8].split(";")[5:9] == [
        "Unggah dokumen penawaran",
        "Gagal unggah",
        "Diulang, berhasil",
        "Yusuf Hidayat",
    ]


async def test_same_records_give_the_same_bytes(scene: Scene) -> None:
    rt = scene.rt
    for fmt in ("xlsx", "csv"):
        # The file's creation time is the only clock in it (here: the scene's).
        now = scene.clock.now
        first = await render_books(rt.engine, rt.config, DAY, DAY, fmt, now=now)
        assert first == await render_books(rt.engine, rt.config, DAY, DAY, fmt, now=now)


async def test_daily_visit_report_has_figures_compliance_and_loose_ends(scene: Scene) -> None:
    rt = scene.rt
    data = await render_visit_report(rt.engine, rt.config, DAY, DAY, "pdf", now=scene.clock.now)
    text = "\n".join(pdf_text(data))
    assert "LAPORAN KUNJUNGAN" in text
    assert "Kunjungan 4" in text and "Perusahaan 3" in text
    assert "Paket tender dilayani 3: T-101, T-102, T-103" in text
    assert "Nomor antrian 1" in text and "Tidak hadir 0" in text
    assert "Waktu tunggu antrian (menit) - Median 68" in text
    assert "2. Formulir akses & tanda pengenal khusus 4 3 75% 5 menit" in text
    assert "8. Pengembalian kartu & identitas 3 2 67% 5 menit" in text
    assert (
        "Siti Aminah (CV Karya Mandiri) 10.05 WIB 12 Antrian loket pendaftaran penuh - kepala"
        in text
    )
    assert "Dewi Lestari (PT Sinar Abadi) 13.00 WIB 20" in text
    assert "Dewi Lestari (PT Sinar Abadi) kartu belum kembali" in text
    assert "identitas masih dititipkan (L-01)" in text
    assert "Unggah dokumen penawaran 1 1 12 12" in text
    assert "PC-01 36.5%" in text  # utilisation chart label


async def test_visit_report_xlsx_and_english_headings(scene: Scene) -> None:
    rt = scene.rt
    data = await render_visit_report(rt.engine, rt.config, DAY, DAY, "xlsx", now=scene.clock.now)
    wb = load_workbook(io.BytesIO(data))
    summary = {r[0]: r[1] for r in wb["Ringkasan"].iter_rows(min_row=2, values_only=True)}
    assert summary["Kunjungan"] == 4 and summary["Tidak hadir"] == 0
    occupancy = dict(wb["Okupansi"].iter_rows(min_row=2, values_only=True))
    assert occupancy["10"] == 3  # Budi, Siti and Andi in the room between 10 and 11
    en = await render_visit_report(rt.engine, rt.config, DAY, DAY, "pdf", lang="en")
    assert (
        "VISIT REPORT" in pdf_text(en)[0]
        and "Period: Wednesday, 25 November 2026" in pdf_text(en)[0]
    )


async def test_monthly_report_counts_the_month(scene: Scene) -> None:
    rt = scene.rt
    start, end = date(2026, 11, 1), date(2026, 11, 30)
    text = "\n".join(pdf_text(await render_visit_report(rt.engine, rt.config, start, end, "pdf")))
    assert "Periode: November 2026" in text
    assert "Kunjungan per hari" in text and "Kunjungan 4" in text
    empty = await render_visit_report(
        rt.engine, rt.config, date(2026, 10, 1), date(2026, 10, 31), "csv"
    )
    assert "Kunjungan;0" in empty.decode("utf-8-sig")


def cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bidroom")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


async def test_cli_report_writes_the_requested_file(scene: Scene, tmp_path: Path) -> None:
    out = tmp_path / "akses.csv"
    args = cli(
        "report", "books", "--date", "2026-11-25", "--format", "csv", "--book", "access",
        "--output", str(out),
    )  # fmt: skip
    assert await args.run(args, scene.rt.config) == 0
    text = out.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[1].startswith("1;25/11/2026;Budi Santoso;PT Maju Jaya")
    month = tmp_path / "laporan.xlsx"
    args = cli("report", "visits", "--month", "2026-11", "--format", "xlsx", "--output", str(month))
    assert await args.run(args, scene.rt.config) == 0
    assert load_workbook(month)["Ringkasan"]["B2"].value == 4
