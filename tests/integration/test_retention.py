"""Retention: personal data erased after the period, aggregates and the archive intact."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from service.reports.commands import add_commands
from service.reports.render import render_books, render_visit_report
from service.reports.retention import RetentionJob, purge
from service.reports.sample import Scene, scenario
from service.reports.seal import seal_day
from service.reports.subject import export_subject
from service.reports.verify import verify_archive

DAY = date(2025, 11, 26)
BUDI_NIK = "1571015708850001"


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    async with scenario(tmp_path, DAY) as s:
        await seal_day(s.rt, DAY)
        yield s


def db(scene: Scene) -> sqlite3.Connection:
    return sqlite3.connect(scene.rt.config.database_url.split("///", 1)[1])


def without_names(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    return [[c for n, c in enumerate(r) if n != 2] for r in rows]


async def report_rows(scene: Scene) -> str:
    rt = scene.rt
    data = await render_visit_report(rt.engine, rt.config, DAY, DAY, "csv", now=scene.clock.now)
    kept = [line for line in data.decode("utf-8-sig").splitlines() if "(" not in line]
    return "\n".join(kept)  # every figure; lines naming a person carry "(company)"


async def test_subject_export_gives_everything_and_journals_the_read(scene: Scene) -> None:
    out = await export_subject(scene.rt, BUDI_NIK, "admin-ani")
    (budi,) = out["visitors"]
    assert budi["name"] == "Budi Santoso" and budi["doc_number"] == BUDI_NIK
    assert budi["phone"] == "+6281234567890"
    assert [v["tender_code"] for v in budi["visits"]] == ["T-101"]
    assert len(budi["door_and_desk_taps"]) == 6 and len(budi["help_requests"]) == 1
    conn = db(scene)
    read = conn.execute("select actor, payload from journal where kind = 'privacy.read'")
    (actor, payload), *_ = read.fetchall()
    assert actor == "admin-ani" and BUDI_NIK not in payload and '"visitor_id":1' in payload
    assert '"what":"subject_export"' in payload


async def test_purge_after_retention_erases_personal_data_only(scene: Scene) -> None:
    rt, clock = scene.rt, scene.clock
    books_before = await render_books(rt.engine, rt.config, DAY, DAY, "csv", book="access")
    figures_before = await report_rows(scene)
    early = await purge(rt, clock.at(DAY + timedelta(days=300), 2, 0))
    assert early.visitor_ids == () and early.cutoff == DAY - timedelta(days=65)
    now = clock.at(DAY + timedelta(days=366), 2, 0)
    preview = await purge(rt, now, dry_run=True)
    assert preview.visitor_ids == (1, 2, 3)  # Dewi's visit is still open: kept
    assert db(scene).execute("select name from visitors where id = 1").fetchone() == (
        "Budi Santoso",
    )
    done = await purge(rt, now)
    assert done.visitor_ids == (1, 2, 3) and not done.dry_run
    conn = db(scene)
    visitors = conn.execute(
        "select id, name, doc_enc, phone_enc, doc_hash, erased_at is not null from visitors"
    ).fetchall()
    assert [v[:5] for v in visitors[:3]] == [(i, "(dihapus)", None, None, None) for i in (1, 2, 3)]
    assert visitors[3][1] == "Dewi Lestari" and visitors[3][2] is not None
    keys = conn.execute(
        "select subject, wrapped is null from data_keys where subject like 'visitor:%'"
        " order by subject"
    ).fetchall()
    assert keys == [("visitor:1", 1), ("visitor:2", 1), ("visitor:3", 1), ("visitor:4", 0)]
    assert conn.execute("select problem from help_requests").fetchone() == ("(dihapus)",)
    erased = conn.execute("select payload from journal where kind = 'privacy.erased'").fetchall()
    assert len(erased) == 3 and not any("Budi" in p or "1571" in p for (p,) in erased)
    # Aggregates and every non-personal column are unchanged; the archive still verifies.
    books_after = await render_books(rt.engine, rt.config, DAY, DAY, "csv", book="access")
    assert without_names(books_after) == without_names(books_before)
    assert "(dihapus)" in books_after.decode("utf-8-sig") and "Dewi Lestari" in books_after.decode(
        "utf-8-sig"
    )
    assert await report_rows(scene) == figures_before
    assert await verify_archive(rt.engine, rt.personal) == []
    assert (await export_subject(rt, BUDI_NIK, "admin-ani"))["visitors"] == []
    assert (await purge(rt, now)).visitor_ids == ()


async def test_daily_job_runs_once_a_day(scene: Scene) -> None:
    scene.clock.at(DAY + timedelta(days=400), 1, 0)
    job = RetentionJob(scene.rt)
    first = await job.run_once()
    assert first is not None and first.visitor_ids == (1, 2, 3)
    assert await job.run_once() is None
    scene.clock.at(DAY + timedelta(days=401), 1, 0)
    again = await job.run_once()
    assert again is not None and again.visitor_ids == ()


async def test_daily_job_runs_in_the_background_and_stops(scene: Scene) -> None:
    scene.clock.at(DAY + timedelta(days=400), 1, 0)
    job = RetentionJob(scene.rt, interval_s=0.05)
    job.start()
    try:
        async with asyncio.timeout(10):
            while job.last_day is None:
                await asyncio.sleep(0.01)
    finally:
        await job.stop()
    assert job.last_day == DAY + timedelta(days=400)
    names = db(scene).execute("select name from visitors order by id").fetchall()
    assert names == [("(dihapus)",)] * 3 + [("Dewi Lestari",)]


async def test_cli_dry_run_and_subject_export(
    scene: Scene, capsys: pytest.CaptureFixture[str]
) -> None:
    async def run(*argv: str) -> int:
        parser = argparse.ArgumentParser(prog="bidroom")
        add_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(argv)
        return int(await args.run(args, scene.rt.config))

    assert await run("privacy", "purge", "--dry-run", "--days", "0") == 0
    out = capsys.readouterr().out
    assert "would erase personal data of 3 visitor(s)" in out and "visitor ids: 1 2 3" in out
    assert db(scene).execute(
        "select count(*) from visitors where erased_at is null"
    ).fetchone() == (4,)
    assert await run("privacy", "export", "--nik", BUDI_NIK, "--actor", "ani") == 0
    body = json.loads(capsys.readouterr().out)
    assert body["visitors"][0]["doc_number"] == BUDI_NIK and body["exported_by"] == "cli:ani"
    actors = db(scene).execute("select actor from journal where kind = 'privacy.read'")
    assert actors.fetchall() == [("cli:ani",)]
