"""The official books as the Head of LPSE signs them: every column of the paper books,
every letter as typed, the Head's real name, and the electronic sign-off once sealed.

The PDF is read back with pypdf (cells rebuilt from the text's positions), the
workbook with openpyxl, the CSV with the csv module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.domain import helpdesk
from service.reports.archive import read_sealed
from service.reports.book_pdf import ACCESS_COLUMNS, HELP_COLUMNS, USAGE_COLUMNS
from service.reports.render import render_books, render_visit_report
from service.reports.sample import Person, Scene, Walker, scenario
from service.reports.seal import seal_day
from service.reports.tabular import ACCESS_KEYS, HELP_KEYS, USAGE_KEYS
from service.reports.wording import word
from tests.support.pdf_tables import book_table, pieces

DAY = date(2026, 11, 25)
NEXT = date(2026, 11, 26)
SPARE_UID = "04A1B2C3000005"  # the scenario enrols five badges and issues four
# Names as registered: Vietnamese, Spanish, Dutch (the Ĳ ligature), Chinese, Indonesian
# with diacritics, and one too long for its column.
NAMES = (
    "Nguyễn Thị Ánh",
    "Ñandú Peñalosa",
    "Ĳssel van Dĳk",
    "漢字 王小明",
    "Sitti Ṣāliḥah Ma'rūf",
    "Raden Mas Bagus Hadiwijoyo Kusumonegoro Prawirodirjo",
)


@pytest.fixture
async def unicode_day(tmp_path: Path) -> AsyncIterator[tuple[Scene, dict[str, int]]]:
    """The scenario, then a next day on which the names above register."""
    async with scenario(tmp_path, DAY) as scene:
        w = Walker(scene.rt, scene.clock)
        ids: dict[str, int] = {}
        for n, name in enumerate(NAMES):
            scene.clock.at(NEXT, 9, n)
            wants = "pc" if n == 1 else None
            person = Person(name, "CV Đức & Søn 株式会社", f"15710{n:011d}", "T-2026-漢", wants)
            ids[name] = await w.register(person)
        # Ñandú is given PC-01 and never taps its desk reader: the usage book times the
        # facility from the assignment to the badge's return.
        scene.clock.at(NEXT, 9, 20)
        await w.issue(ids[NAMES[1]], SPARE_UID)
        scene.clock.at(NEXT, 11, 40)
        await w.tap("fo", SPARE_UID)
        scene.clock.at(NEXT, 9, 30)
        now = scene.clock.now
        visit = ids[NAMES[3]]
        await scene.rt.execute(
            lambda tx: helpdesk.open_request(
                tx, visit, None, "staff", "login", "Akun terkunci: 密码错误", now, "fo-rina"
            )
        )
        yield scene, ids


def headings(keys: tuple[str, ...], lang: str = "id") -> list[str]:
    return [word(k, lang) for k in keys]


async def test_pdf_prints_every_column_heading_and_each_name_exactly_as_registered(
    unicode_day: tuple[Scene, dict[str, int]],
) -> None:
    scene, _ = unicode_day
    rt = scene.rt
    data = await render_books(rt.engine, rt.config, NEXT, NEXT, "pdf")
    pages = pieces(data)
    access = book_table(pages[0], [w for _, w in ACCESS_COLUMNS])
    expected = [word(k) for k, _ in ACCESS_COLUMNS]
    expected[expected.index(word("doc_back"))] += " (jam, kepada)"
    assert access[0] == expected
    assert "Paraf Pengunjung" in access[0] and "Paraf Petugas" in access[0]
    assert [row[2] for row in access[1:]] == list(NAMES)  # wrapped, never cut
    assert {row[3] for row in access[1:]} == {"CV Đức & Søn 株式会社"}
    assert access[1][12] == "Rina Marlina, S.Kom"  # the account's full name, not "fo-rina"
    assert access[1][13] == "Upload dokumen penawaran / T-2026-漢"
    usage_page = next(p for p in pages if any(t == word("usage_book") for _, _, t in p))
    usage = book_table(usage_page, [w for _, w in USAGE_COLUMNS])
    assert usage[0] == [word(k) for k, _ in USAGE_COLUMNS]
    assert usage[1][2:10] == [
        *("Ñandú Peñalosa", "CV Đức & Søn 株式会社", "PC-01 PC Desktop 1", "09.20", "11.40"),
        *("140", "penyerahan s.d. kembali", ""),
    ]
    assert len(usage) == 2
    helps = book_table(usage_page, [w for _, w in HELP_COLUMNS], nth=1)
    assert helps[0] == [word(k) for k, _ in HELP_COLUMNS]
    assert helps[1][3] == "漢字 王小明" and helps[1][6] == "Akun terkunci: 密码错误"
    assert helps[1][7] == "belum selesai"
    text = " ".join(t for page in pages for _, _, t in page)
    assert "Drs. H. Ahmad Fauzi, M.Si" in text and "197001011990031001" in text


async def test_xlsx_and_csv_keep_the_names_and_every_column(
    unicode_day: tuple[Scene, dict[str, int]],
) -> None:
    scene, _ = unicode_day
    rt = scene.rt
    wb = load_workbook(io.BytesIO(await render_books(rt.engine, rt.config, NEXT, NEXT, "xlsx")))
    access = wb["Buku Kendali Akses"]
    assert [c.value for c in access[1]] == headings(ACCESS_KEYS)
    rows = list(access.iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == list(NAMES)
    assert rows[0][13] == "Rina Marlina, S.Kom"
    assert [c.value for c in wb["Buku Kendali Fasilitas"][1]] == headings(USAGE_KEYS)
    helps = wb["Permintaan Bantuan"]
    assert [c.value for c in helps[1]] == headings(HELP_KEYS)
    assert [c.value for c in helps[2]][3:8] == [
        *("漢字 王小明", None, "Login / akun SPSE", "Akun terkunci: 密码错误", "belum selesai"),
    ]
    assert "Pengesahan" not in wb.sheetnames  # not sealed: no sign-off to print
    data = await render_books(rt.engine, rt.config, NEXT, NEXT, "csv", book="access")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == headings(ACCESS_KEYS) and [r[2] for r in table[1:]] == list(NAMES)
    en = load_workbook(
        io.BytesIO(await render_books(rt.engine, rt.config, NEXT, NEXT, "xlsx", lang="en"))
    )
    assert [c.value for c in en["Buku Kendali Akses"][1]][11:13] == [
        "Document returned",
        "Document taken by",
    ]


async def test_sealed_books_print_the_electronic_sign_off(tmp_path: Path) -> None:
    async with scenario(tmp_path, DAY) as scene:
        rt = scene.rt
        await seal_day(rt, DAY, "kepala")
        pdf = await read_sealed(rt.engine, DAY, "2026-11-25-buku-kendali.pdf")
        xlsx = await read_sealed(rt.engine, DAY, "2026-11-25-buku-kendali.xlsx")
        access_csv = await read_sealed(rt.engine, DAY, "2026-11-25-buku-kendali-akses.csv")
        usage_csv = await read_sealed(rt.engine, DAY, "2026-11-25-buku-kendali-fasilitas.csv")
        assert pdf and xlsx and access_csv and usage_csv
    signed = "Disahkan oleh: Drs. H. Ahmad Fauzi, M.Si (kepala)"
    when = "Waktu pengesahan: Rabu, 25 November 2026 16.12 WIB"
    for page_pieces in (pieces(pdf)[0], pieces(pdf)[-1]):  # under each book's signature
        text = [t for _, _, t in page_pieces]
        assert signed in text and when in text
        journal = [t for t in text if t.startswith("Kepala jurnal: seq ")]
        assert len(journal) == 1 and len(journal[0].rsplit(" ", 1)[1]) == 64
    seq_hash = journal[0].removeprefix("Kepala jurnal: ")
    sheet = load_workbook(io.BytesIO(xlsx))["Pengesahan"]
    values = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Disahkan oleh"] == "Drs. H. Ahmad Fauzi, M.Si (kepala)"
    assert values["Waktu pengesahan"] == "Rabu, 25 November 2026 16.12 WIB"
    assert values["Kepala jurnal"] == seq_hash
    assert values["NIP"] == "197001011990031001"
    for data in (access_csv, usage_csv):
        lines = data.decode("utf-8-sig").splitlines()
        assert "PENGESAHAN ELEKTRONIK;" in lines
        assert f"Kepala jurnal;{seq_hash}" in lines
    # The help request's free text is personal data retention erases: the sealed copy,
    # kept for good, points to the request; the category, officer and times are there.
    usage_text = usage_csv.decode("utf-8-sig")
    assert "Gagal unggah" not in usage_text and "Diulang, berhasil" not in usage_text
    assert (
        ";Unggah dokumen penawaran;teks di catatan bantuan #1;teks di catatan bantuan #1;"
        "Yusuf Hidayat;09.42;12" in usage_text
    )


async def test_todays_visit_report_draws_only_the_hours_that_have_passed(
    unicode_day: tuple[Scene, dict[str, int]],
) -> None:
    scene, _ = unicode_day
    rt = scene.rt
    at = scene.clock.at(NEXT, 10, 15)

    async def hours(now: datetime) -> list[str]:
        data = await render_visit_report(rt.engine, rt.config, NEXT, NEXT, "xlsx", now=now)
        sheet = load_workbook(io.BytesIO(data))["Okupansi"]
        return [str(r[0]) for r in sheet.iter_rows(min_row=2, values_only=True)]

    assert await hours(at) == ["08", "09", "10"]
    assert await hours(at + timedelta(days=1)) == [f"{h:02d}" for h in range(8, 16)]
    assert await hours(scene.clock.at(NEXT, 7, 30)) == []  # before opening: nothing yet
    past = await render_visit_report(rt.engine, rt.config, DAY, DAY, "xlsx", now=at)
    occupancy = load_workbook(io.BytesIO(past))["Okupansi"]
    assert occupancy.max_row == 9  # yesterday: all eight opening hours
