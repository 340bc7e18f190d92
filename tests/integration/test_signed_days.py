"""A signed day never changes in place: what comes later is an amendment the Head signs.

Through the HTTP API of the real application: a day is closed and signed with a
visit still open and a document still in its slot; then the badge comes back, the
document is handed back, a paper form of that day is entered, and a late tap
arrives. The signed rows stay as sealed, the amendments show on the day and in its
books, the Head signs them, and ``archive verify`` names any row edited in place.
"""

from __future__ import annotations

import io
import sqlite3
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest

from service.demo import demo_uid
from service.reports.archive import list_sealed
from service.reports.verify import verify_archive
from tests.support.site import KTP_A, KTP_B, KTP_C, START, Site, running_site, site_config

DAY = "2026-11-25"
FORM = {
    "company": "PT Maju Jaya",
    "doc_type": "ktp",
    "wanted_kind": "pc",
    "rules_ack": True,
    "privacy_ack": True,
}


async def arrive(site: Site, name: str, nik: str, badge: int) -> int:
    fo = site["fo"]
    visit = await fo.call("POST", "/api/v1/visits", {**FORM, "name": name, "doc_number": nik}, 201)
    await fo.call("POST", f"/api/v1/visits/{visit['id']}/arm-badge", {"reader": "front-office"})
    assert (await fo.tap("front-office", badge))["reason"] == "badge_issued"
    return int(visit["id"])


def row(site: Site, sql: str) -> tuple[object, ...]:
    path = site.runtime.config.database_url.split(":///", 1)[1]
    with sqlite3.connect(path) as conn:
        found = conn.execute(sql).fetchone()
    assert found is not None, sql
    return tuple(found)


async def signed_day(site: Site) -> tuple[int, int]:
    """Siti leaves and takes her KTP; Budi is still inside when the Head signs."""
    fo, head = site["fo"], site["head"]
    siti = await arrive(site, "Siti Aminah", KTP_A, 1)
    budi = await arrive(site, "Budi Santoso", KTP_B, 2)
    await fo.tap("pintu-masuk", 1)
    await fo.tap("pintu-masuk", 2)
    site.clock.advance(minutes=30)
    await fo.tap("pintu-keluar", 1)
    await fo.tap("front-office", 1)
    await fo.call("POST", f"/api/v1/visits/{siti}/document-return", {"to": "Siti"})
    site.clock.now = START.replace(hour=9, minute=5)  # 16.05 WIB
    await fo.call("POST", f"/api/v1/days/{DAY}/close", {"note": "Budi belum kembali"})
    summary = await head.call("GET", f"/api/v1/days/{DAY}")
    for breach in summary["breaches"]:
        await head.call(
            "POST",
            "/api/v1/breaches/justify",
            {
                "day": DAY,
                "step": breach["step"],
                "subject": breach["subject"],
                "text": "antri panjang",
            },
        )
    await head.call("POST", f"/api/v1/days/{DAY}/sign")
    await wait_for_seal(site, 1)
    return siti, budi


async def wait_for_seal(site: Site, count: int) -> None:
    import asyncio

    for _ in range(1000):  # about a second per seal (Unicode fonts), more on a loaded machine
        sealed = await list_sealed(site.runtime.engine, START.date())
        manifests = row(site, "select count(*) from sealed_files where name like '%manifest%'")
        if sealed and manifests[0] >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the day was not sealed")


@pytest.fixture
async def site(tmp_path: Path) -> object:
    async with running_site(site_config(tmp_path)) as running:
        yield running


async def test_later_facts_about_a_signed_day_are_amendments(site: Site) -> None:
    fo, head = site["fo"], site["head"]
    _siti, budi = await signed_day(site)
    sealed_budi = row(site, f"select state, closed_at, inside from visits where id = {budi}")
    assert sealed_budi[0] == "admitted" and sealed_budi[2] == 1

    # After the signature: Budi leaves and returns his badge, his KTP goes back,
    # and a paper form of that morning is entered.
    site.clock.advance(minutes=20)
    assert (await fo.tap("pintu-keluar", 2))["reason"] == "exit"
    assert (await fo.tap("front-office", 2))["reason"] == "badge_returned"
    await fo.call("POST", f"/api/v1/visits/{budi}/document-return", {"to": "Budi"})
    paper = await fo.call(
        "POST",
        "/api/v1/visits",
        {**FORM, "name": "Citra Kertas", "doc_number": KTP_C, "back_entered": True,
         "arrived_at": (START + timedelta(hours=1)).isoformat()},
        201,
    )  # fmt: skip
    assert paper["day"] == DAY

    # Operations go on: the board and the API see Budi's visit closed and the slot free.
    visit = await fo.call("GET", f"/api/v1/visits/{budi}")
    assert visit["state"] == "closed" and visit["deposit"]["returned_to"] == "Budi"
    # The signed rows themselves never changed; the later versions sit beside them.
    assert (
        row(site, f"select state, closed_at, inside from visits where id = {budi}") == sealed_budi
    )
    assert row(site, "select count(*) from visits where id = " + str(paper["id"])) == (0,)
    assert row(site, "select count(*) from amended_rows")[0] >= 3

    day = await head.call("GET", f"/api/v1/days/{DAY}")
    pending = [a for a in day["amendments"] if a["signed_at"] is None]
    assert len(pending) >= 3
    kinds = ",".join(a["kind"] for a in pending)
    assert "visit.returned" in kinds and "document.returned" in kinds
    assert "visit.registered" in kinds
    status = await fo.call("GET", "/api/v1/status")
    assert {a["id"] for a in status["amendments_pending"]} == {a["id"] for a in pending}

    # The archive is intact: the amendments are journaled, the sealed rows unchanged.
    rt = site.runtime
    assert await verify_archive(rt.engine, rt.personal) == []

    # Only the Head signs the amendments; the day is sealed again with them in its books.
    await fo.call("POST", f"/api/v1/days/{DAY}/amendments/sign", expect=403)
    signed = await head.call("POST", f"/api/v1/days/{DAY}/amendments/sign")
    assert sorted(signed["signed"]) == sorted(a["id"] for a in pending)
    await head.call("POST", f"/api/v1/days/{DAY}/amendments/sign", expect=409)
    await wait_for_seal(site, 2)
    pdf_row = row(
        site,
        "select content from sealed_files where name like '%buku-kendali.pdf' order by id desc",
    )
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf_row[0])).pages)
    assert "AMANDEMEN" in text and "identitas dikembalikan" in text
    assert await verify_archive(rt.engine, rt.personal) == []


async def test_verify_names_a_signed_row_changed_in_place(site: Site) -> None:
    _siti, budi = await signed_day(site)
    path = site.runtime.config.database_url.split(":///", 1)[1]
    with sqlite3.connect(path) as conn:
        conn.execute(f"update visits set company = 'PT Lain' where id = {budi}")
        conn.execute("update deposits set slot = 'L-40' where id = 1")
        conn.execute("delete from access_events where id = 1")
    rt = site.runtime
    places = {f.place: f.problem for f in await verify_archive(rt.engine, rt.personal)}
    assert "changed in place" in places[f"record visit:{budi} of {DAY}"]
    assert "changed in place" in places[f"record deposit:1 of {DAY}"]
    assert "vanished" in places[f"record access_event:1 of {DAY}"]


async def test_a_tap_reported_for_a_signed_day_lands_today_as_its_amendment(site: Site) -> None:
    fo = site["fo"]
    _siti, _budi = await signed_day(site)
    site.clock.advance(minutes=30)
    reported = START.replace(hour=9, minute=0)  # 16.00 WIB, before the signature
    body = {"reader": "pintu-keluar", "uid": demo_uid(2), "event_id": "agent-late-1",
            "at": reported.isoformat()}  # fmt: skip
    await fo.call("POST", "/api/v1/taps", body)
    day = await fo.call("GET", f"/api/v1/days/{DAY}")
    assert any("tap.decided" in a["kind"] for a in day["amendments"])
    events = await fo.call("GET", f"/api/v1/access-events?day={DAY}")
    late = next(e for e in events if e["reported_at"] is not None)
    assert late["reported_at"].startswith("2026-11-25T09:00")
    # Older than the last signed day: refused, the reader is told so.
    older = {**body, "event_id": "agent-late-2", "at": (START - timedelta(days=1)).isoformat()}
    await fo.call("POST", "/api/v1/taps", older, expect=422)
