"""The whole SOP (steps 2 to 9) through the HTTP API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from service.store.audit import journal_faults
from service.store.tables import JournalRow
from tests.support.site import KTP_A, KTP_B, Site, running_site, site_config

FORM = {
    "company": "PT Maju Jaya",
    "doc_type": "ktp",
    "phone": "0812 3456 7890",
    "purpose": "Unggah penawaran",
    "tender_code": "12345678",
    "wanted_kind": "pc",
    "rules_ack": True,
    "privacy_ack": True,
    "devices": [{"kind": "laptop", "serial": "SN-1"}],
}


async def arrive(site: Site, name: str, nik: str, badge: int) -> dict[str, Any]:
    """Step 2: form + deposit, then a free badge tapped at the front desk."""
    fo = site["fo"]
    visit = await fo.call(
        "POST", "/api/v1/visits", {**FORM, "name": name, "doc_number": nik}, expect=201
    )
    await fo.call("POST", f"/api/v1/visits/{visit['id']}/arm-badge", {"reader": "front-office"})
    decision = await fo.tap("front-office", badge)
    assert decision["granted"] and decision["reason"] == "badge_issued", decision
    return await fo.call("GET", f"/api/v1/visits/{visit['id']}")


async def walk_the_sop(site: Site) -> None:
    fo, hd, head = site["fo"], site["hd"], site["head"]
    # Step 2-3: the first visitor gets the only PC, the second a queue number.
    a = await arrive(site, "Siti Aminah", KTP_A, 1)
    assert a["facility"] == "PC-01" and a["deposit"]["slot"] == "L-01"
    assert a["deposit"]["doc_masked"] == "1571**********01"
    site.clock.advance(minutes=6)  # the second form takes too long: a step-2 breach
    b_form = await fo.call(
        "POST", "/api/v1/visits", {**FORM, "name": "Budi Santoso", "doc_number": KTP_B}, expect=201
    )
    site.clock.advance(minutes=6)
    await fo.call("POST", f"/api/v1/visits/{b_form['id']}/arm-badge", {"reader": "front-office"})
    assert (await fo.tap("front-office", 2))["reason"] == "badge_issued"
    b = await fo.call("GET", f"/api/v1/visits/{b_form['id']}")
    assert b["state"] == "queued" and b["ticket"]["number"] == "PC-001"

    # Door: A enters; B, still waiting, is refused; A's replay changes nothing.
    entry = await fo.tap("pintu-masuk", 1, event_id="door-a-1")
    assert entry["granted"] and entry["feedback"]["open_door_s"] > 0
    assert (await fo.tap("pintu-masuk", 1, event_id="door-a-1"))["replayed"] is True
    assert (await fo.tap("pintu-masuk", 2))["reason"] == "not_admitted"
    status = await fo.call("GET", "/api/v1/status")
    assert status["occupancy"]["inside"] == 1

    # Step 4: desk session; steps 5-6: help request raised, claimed, resolved.
    assert (await fo.tap("meja-pc-01", 1))["reason"] == "usage_started"
    req = await fo.call(
        "POST",
        "/api/v1/help",
        {"visit_id": a["id"], "category": "upload", "problem": "Gagal unggah dokumen"},
        expect=201,
    )
    assert req["facility"] == "PC-01"
    await hd.call("POST", f"/api/v1/help/{req['id']}/claim")
    done = await hd.call(
        "POST",
        f"/api/v1/help/{req['id']}/resolve",
        {"resolution": "Ukuran berkas diperkecil, unggah berhasil"},
    )
    assert done["state"] == "resolved" and done["claimed_by"] == "helpdesk"

    # A is done: the PC frees, rests for the turnover gap, then B's number is called.
    assert (await fo.tap("meja-pc-01", 1))["reason"] == "usage_ended"
    await site.runtime.tick()
    assert (await fo.call("GET", f"/api/v1/visits/{b['id']}"))["ticket"]["state"] == "waiting"
    site.clock.advance(seconds=61)
    await site.runtime.tick()
    b = await fo.call("GET", f"/api/v1/visits/{b['id']}")
    assert b["ticket"]["state"] == "called"
    assert (await fo.tap("pintu-masuk", 2))["reason"] == "entry"
    assert (await fo.tap("meja-pc-01", 2))["reason"] == "usage_started"
    # The front office can also end a session by hand (a desk reader that is down).
    ended = await fo.call("POST", f"/api/v1/visits/{b['id']}/usage", {"action": "end"})
    assert ended["usage"] is None and ended["facility"] is None
    again = await fo.call(
        "POST", f"/api/v1/visits/{b['id']}/usage", {"action": "start"}, expect=409
    )
    assert again["message"] == "Kunjungan belum mendapat fasilitas."

    # Steps 7-8: A leaves and returns the badge; the slot is shown; the document goes back.
    assert (await fo.tap("pintu-keluar", 1))["reason"] == "exit"
    back = await fo.tap("front-office", 1)
    assert back["reason"] == "badge_returned" and back["slot"] == "L-01"
    await fo.call("POST", f"/api/v1/visits/{a['id']}/document-return", {"to": "Siti Aminah"})
    # B is checked out by staff action.
    site.clock.advance(minutes=30)
    out = await fo.call("POST", f"/api/v1/visits/{b['id']}/checkout", {"devices_checked": True})
    assert out["state"] == "closed" and out["deposit"]["slot"] == "L-02"
    await fo.call("POST", f"/api/v1/visits/{b['id']}/document-return", {})
    status = await fo.call("GET", "/api/v1/status")
    assert status["occupancy"]["inside"] == 0 and status["deposits"] == []

    # Step 9: close, sign refused while a breach has no justification, justify, sign.
    day = status["day"]
    await fo.call("POST", f"/api/v1/days/{day}/close", {"note": "Uji alur SOP lengkap"})
    breaches = await head.call("GET", f"/api/v1/breaches?day={day}")
    assert [(x["step"], x["subject"]) for x in breaches] == [("2", f"visit:{b['id']}")]
    refused = await head.call("POST", f"/api/v1/days/{day}/sign", expect=409)
    assert "alasan" in refused["message"]
    await fo.call(
        "POST",
        "/api/v1/breaches/justify",
        {
            "day": day,
            "step": "2",
            "subject": f"visit:{b['id']}",
            "text": "Pengunjung melengkapi data perusahaan",
        },
    )
    await head.call("POST", f"/api/v1/days/{day}/sign")
    summary = await head.call("GET", f"/api/v1/days/{day}")
    assert summary["state"] == "signed" and summary["breaches"][0]["justification"]

    # The signed day is sealed: its books are in the archive and verify clean.
    files: list[dict[str, Any]] = []
    for _ in range(200):
        files = await head.call("GET", f"/api/v1/archive/{day}")
        if files:
            break
        await asyncio.sleep(0.05)
    names = {f["name"] for f in files}
    assert any(n.endswith(".pdf") for n in names) and any(n.endswith(".xlsx") for n in names)
    csv_book = await head.client.get(f"/api/v1/reports/days/{day}/books?format=csv&book=access")
    assert csv_book.status == 200
    text = (await csv_book.read()).decode("utf-8-sig")
    assert "Siti Aminah" in text and "Budi Santoso" in text and "1571**********01" in text
    assert KTP_A not in text
    verdict = await head.call("GET", f"/api/v1/archive/verify?day={day}")
    assert verdict == {"ok": True, "faults": []}


async def check_journal(site: Site) -> None:
    engine = site.runtime.engine
    assert await journal_faults(engine) == []
    async with engine.connect() as conn:
        payloads = (await conn.execute(select(JournalRow.payload))).scalars().all()
    text = "\n".join(payloads)
    for secret in ("Siti Aminah", KTP_A, "6281234567890", "Budi Santoso"):
        assert secret not in text, f"personal data in clear in the journal: {secret}"
    async with engine.begin() as conn:
        await conn.execute(
            update(JournalRow).where(JournalRow.seq == 5).values(actor="someone-else")
        )
    faults = await journal_faults(engine)
    assert [(f.seq, f.problem) for f in faults] == [(5, "altered")]


@pytest.mark.timeout(120)
async def test_sop_on_sqlite(tmp_path: Path) -> None:
    config = site_config(
        tmp_path, facilities={"pc": {"count": 1, "label": "PC Desktop", "prefix": "PC"}}
    )
    async with running_site(config) as site:
        await walk_the_sop(site)
        await check_journal(site)


@pytest.mark.postgres
@pytest.mark.timeout(120)
async def test_sop_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    config = site_config(
        tmp_path, pg_url, facilities={"pc": {"count": 1, "label": "PC Desktop", "prefix": "PC"}}
    )
    async with running_site(config) as site:
        await walk_the_sop(site)
        await check_journal(site)
