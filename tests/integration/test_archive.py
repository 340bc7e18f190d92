"""Sealing a signed day, verifying it, and finding every kind of tampering."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from service.domain import days
from service.errors import ConfigError
from service.keyfile import KeyFile
from service.privacy import PersonalData
from service.reports.archive import Fault, SealedFile, list_sealed, read_sealed
from service.reports.bundle import export_day, verify_bundle
from service.reports.commands import add_commands
from service.reports.render import render_books
from service.reports.sample import Person, Scene, Walker, scenario, sign
from service.reports.seal import SealOnSignOff, seal_day
from service.reports.verify import verify_archive
from service.store.tables import SealedFileRow

DAY = date(2026, 11, 25)
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
async def sealed(tmp_path: Path) -> AsyncIterator[tuple[Scene, list[SealedFile]]]:
    async with scenario(tmp_path, DAY) as scene:
        files = await seal_day(scene.rt, DAY)
        yield scene, files


def db(scene: Scene) -> sqlite3.Connection:
    return sqlite3.connect(scene.rt.config.database_url.split("///", 1)[1])


def places(faults: list[Fault]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in faults:
        out[f.place] = f"{out.get(f.place, '')} {f.problem}".strip()
    return out


async def test_sealed_day_verifies_clean_and_prints_the_journal_head(
    sealed: tuple[Scene, list[SealedFile]],
) -> None:
    scene, files = sealed
    rt = scene.rt
    assert sorted(f.name for f in files) == [
        "2026-11-25-buku-kendali-akses.csv",
        "2026-11-25-buku-kendali-fasilitas.csv",
        "2026-11-25-buku-kendali.pdf",
        "2026-11-25-buku-kendali.xlsx",
        "2026-11-25-laporan-kunjungan.pdf",
        "2026-11-25-manifest.json",
    ]
    assert await verify_archive(rt.engine, rt.personal) == []
    assert await verify_archive(rt.engine, rt.personal, DAY) == []
    assert await verify_archive(rt.engine, None) == []  # no key file: names not compared
    stranger = PersonalData(KeyFile.open(rt.config.security.key_file.with_name("other.key")))
    with pytest.raises(ConfigError, match="does not belong"):
        await verify_archive(rt.engine, stranger)
    async with rt.engine.connect() as conn:
        rows = {r.name: r for r in (await conn.execute(select(SealedFileRow.__table__))).all()}
    pdf = rows["2026-11-25-buku-kendali.pdf"]
    footer = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert f"Kepala jurnal seq {pdf.journal_seq}: {pdf.journal_hash}" in footer
    signed_seq = db(scene).execute("select seq from journal where kind = 'day.signed'").fetchone()
    assert pdf.journal_seq == signed_seq[0]  # the head covers the signature
    csv_now = await render_books(rt.engine, rt.config, DAY, DAY, "csv", book="access")
    sealed_csv = rows["2026-11-25-buku-kendali-akses.csv"].content.decode("utf-8-sig")
    # The sealed book is today's book under its title, then its electronic sign-off.
    assert sealed_csv.startswith("Buku Kendali Akses\r\n" + csv_now.decode("utf-8-sig"))
    assert f"Kepala jurnal;seq {pdf.journal_seq}: {pdf.journal_hash}" in sealed_csv


async def test_tampering_is_reported_with_its_place(sealed: tuple[Scene, list[SealedFile]]) -> None:
    scene, _ = sealed
    conn = db(scene)
    seqs = dict(conn.execute("select kind, min(seq) from journal group by kind").fetchall())
    help_seq = seqs["help.resolved"]
    (exit_seq,) = conn.execute(
        "select min(seq) from journal where kind = 'tap.decided' and payload like '%\"reason\":\"exit\"%'"
    ).fetchone()
    # 1. A door exit moved from 10.02 to 10.09 inside the journal.
    conn.execute(
        "update journal set payload = replace(payload, 'T03:02:00', 'T03:09:00') where seq = ?",
        (exit_seq,),
    )
    # 2. The help request's resolution deleted from the journal.
    conn.execute("delete from journal where seq = ?", (help_seq,))
    # 3. Two enrolment rows swapped (every column but seq).
    a, b = seqs["badge.enrolled"], seqs["badge.enrolled"] + 1
    cols = "at, recorded_at, kind, actor, payload, prev_hash, hash"
    row_a = conn.execute(f"select {cols} from journal where seq = ?", (a,)).fetchone()
    row_b = conn.execute(f"select {cols} from journal where seq = ?", (b,)).fetchone()
    sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
    conn.execute(f"update journal set {sets} where seq = ?", (*row_b, a))
    conn.execute(f"update journal set {sets} where seq = ?", (*row_a, b))
    # 4. A sealed file swapped for another one.
    conn.execute(
        "update sealed_files set content = (select content from sealed_files where name like "
        "'%fasilitas.csv') where name like '%akses.csv'"
    )
    # 5. A table row edited and 6. a table row deleted, behind the journal's back.
    conn.execute("update visits set exited_at = NULL where id = 3")
    conn.execute("delete from usages where id = 2")
    conn.commit()
    conn.close()
    rt = scene.rt
    found = places(await verify_archive(rt.engine, rt.personal))
    assert "altered" in found[f"journal seq {exit_seq}"]
    assert "missing" in found[f"journal seq {help_seq + 1}"]
    assert "altered" in found[f"journal seq {a}"] and "altered" in found[f"journal seq {b}"]
    assert "swapped" in found["file 2026-11-25-buku-kendali-akses.csv"]
    assert "exited_at" in found["table visits id 3"]
    assert "row deleted" in found["table usages id 2"]
    # The signed day's own rows are checked against the seal's record digests too.
    assert "changed in place" in found["record visit:3 of 2026-11-25"]
    assert "vanished" in found["record usage:2 of 2026-11-25"]
    assert "resolved_at" in found["table help_requests id 1"]
    # The edited exit changes Siti's row of the sealed access book.
    assert "differs from the sealed book" in found["book access 2026-11-25, visit 2"]
    assert "file 2026-11-25-buku-kendali.pdf" not in found


async def test_export_bundle_verifies_offline_and_names_tampering(
    sealed: tuple[Scene, list[SealedFile]], tmp_path: Path
) -> None:
    scene, files = sealed
    bundle = tmp_path / "arsip-2026-11-25"
    written = await export_day(scene.rt.engine, DAY, bundle, WIB, scene.rt.config.site.name)
    names = {p.name for p in written}
    assert {"journal.jsonl", "context.json", "SHA256SUMS", "README.txt"} <= names
    assert {f.name for f in files} <= names
    assert verify_bundle(bundle) == []
    # A copy with one journal line edited and a book file altered.
    bad = tmp_path / "bad"
    shutil.copytree(bundle, bad)
    lines = (bad / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[5])
    entry["actor"] = "someone-else"
    lines[5] = json.dumps(entry)
    (bad / "journal.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    csv_path = bad / "2026-11-25-buku-kendali-akses.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b"11.04", b"11.40"))
    found = places(verify_bundle(bad))
    assert "altered" in found[f"journal seq {entry['seq']}"]
    assert "SHA256SUMS" in found["file 2026-11-25-buku-kendali-akses.csv"]
    assert "seal manifest" in found["file 2026-11-25-buku-kendali-akses.csv"]
    assert "file journal.jsonl" in found


async def test_bundle_of_a_later_day_carries_its_context(
    sealed: tuple[Scene, list[SealedFile]], tmp_path: Path
) -> None:
    scene, _ = sealed
    rt, clock, nextday = scene.rt, scene.clock, DAY + timedelta(days=1)
    w = Walker(rt, clock)
    uid = "04A1B2C3000001"  # badge K-001, enrolled the day before
    clock.at(nextday, 8, 0)
    vid = await w.register(Person("Rahmat Hidayat", "CV Batanghari", "1571015708850009", "T-200"))
    clock.at(nextday, 8, 2)
    await w.issue(vid, uid)
    for hh, mm, reader in ((8, 3, "pintu-masuk"), (8, 5, "meja-01"), (9, 0, "meja-01")):
        clock.at(nextday, hh, mm)
        await w.tap(reader, uid)
    for hh, mm, reader in ((9, 1, "pintu-keluar"), (9, 3, "fo")):
        clock.at(nextday, hh, mm)
        await w.tap(reader, uid)
    clock.at(nextday, 9, 4)
    await w.return_document(vid)
    now = clock.at(nextday, 16, 5)
    await rt.execute(lambda tx: days.close_day(tx, rt.policy, nextday, now, "fo-rina"))
    await sign(rt, clock, nextday)
    await seal_day(rt, nextday)
    assert await verify_archive(rt.engine, rt.personal) == []
    bundle = tmp_path / "arsip"
    await export_day(rt.engine, nextday, bundle, WIB)
    assert verify_bundle(bundle) == []
    context = json.loads((bundle / "context.json").read_text(encoding="utf-8"))
    assert {"K-001", "K-005"} <= {b["label"] for b in context["badge"]}
    assert "PC-01" in {f["code"] for f in context["facility"]}
    assert all(v["name"] is None for v in context["visitor"])  # no personal data
    journal = (bundle / "journal.jsonl").read_text(encoding="utf-8")
    assert "Rahmat" not in journal and "Budi" not in journal


async def test_sign_off_seals_the_day_through_the_listener(tmp_path: Path) -> None:
    async with scenario(tmp_path, DAY, signed=False) as scene:
        rt = scene.rt
        listener = SealOnSignOff(rt)
        rt.fact_listeners.append(listener)
        try:
            assert await list_sealed(rt.engine, DAY) == []
            await sign(rt, scene.clock, DAY)
            await asyncio.wait_for(listener.wait(), timeout=10)
            files = await list_sealed(rt.engine, DAY)
            assert len(files) == 6
            manifest = await read_sealed(rt.engine, DAY, "2026-11-25-manifest.json")
            assert manifest is not None and json.loads(manifest)["day"] == "2026-11-25"
            assert await read_sealed(rt.engine, DAY, "nothing.pdf") is None
            assert await verify_archive(rt.engine, rt.personal, DAY) == []
        finally:
            await listener.stop()


async def test_cli_verifies_exports_and_checks_the_bundle(
    sealed: tuple[Scene, list[SealedFile]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scene, _ = sealed
    config = scene.rt.config

    async def run(*argv: str) -> int:
        parser = argparse.ArgumentParser(prog="bidroom")
        add_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(argv)
        return int(await args.run(args, config))

    assert await run("archive", "verify") == 0
    assert await run("archive", "verify", "--day", "2026-11-25") == 0
    assert "archive intact" in capsys.readouterr().out
    bundle = tmp_path / "bundle"
    assert await run("archive", "export", "--day", "2026-11-25", "--to", str(bundle)) == 0
    assert await run("archive", "verify", "--bundle", str(bundle)) == 0
    capsys.readouterr()
    pdf = bundle / "2026-11-25-laporan-kunjungan.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"%")
    assert await run("archive", "verify", "--bundle", str(bundle)) == 1
    out = capsys.readouterr().out
    assert "file 2026-11-25-laporan-kunjungan.pdf: content differs from SHA256SUMS" in out
