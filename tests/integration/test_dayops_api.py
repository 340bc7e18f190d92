"""Day close guarded by the closing time, the Head's reopen, and a facility taken out of
service while it is used: through the HTTP API of the real application."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from service.reports.verify import verify_archive
from tests.support.hostile import assert_plain
from tests.support.site import KTP_A, KTP_B, START, Site, running_site, site_config

DAY = "2026-11-25"
FORM = {
    "company": "PT Maju Jaya",
    "doc_type": "ktp",
    "wanted_kind": "pc",
    "rules_ack": True,
    "privacy_ack": True,
}


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with running_site(site_config(tmp_path)) as running:
        yield running


async def arrive(site: Site, name: str, nik: str, badge: int) -> dict[str, Any]:
    fo = site["fo"]
    visit = await fo.call("POST", "/api/v1/visits", {**FORM, "name": name, "doc_number": nik}, 201)
    await fo.call("POST", f"/api/v1/visits/{visit['id']}/arm-badge", {"reader": "front-office"})
    assert (await fo.tap("front-office", badge))["reason"] == "badge_issued"
    return dict(await fo.call("GET", f"/api/v1/visits/{visit['id']}"))


def journal(site: Site, kind: str) -> list[tuple[str, str]]:
    path = site.runtime.config.database_url.split(":///", 1)[1]
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT kind, actor FROM journal WHERE kind = ?", (kind,)).fetchall()
    return [(str(k), str(a)) for k, a in rows]


async def test_closing_before_the_closing_time_needs_a_reason(site: Site) -> None:
    fo, head = site["fo"], site["head"]
    await arrive(site, "Siti Aminah", KTP_A, 1)
    summary = await fo.call("GET", f"/api/v1/days/{DAY}")
    assert summary["reason_needed"] is True and summary["open_items"]["open_visits"]
    for body in ({}, {"note": ""}, {"note": "  ab "}):
        said = await fo.call("POST", f"/api/v1/days/{DAY}/close", body, expect=422)
        assert_plain(said, "note")
        assert "16.00 WIB" in said["message"] and "alasan" in said["message"]
    assert (await fo.call("GET", f"/api/v1/days/{DAY}"))["state"] == "open"
    assert journal(site, "day.closed") == []
    closed = await fo.call("POST", f"/api/v1/days/{DAY}/close", {"note": "Listrik padam"})
    assert closed["state"] == "closed" and closed["open_items"]["badges_out"]
    again = await fo.call("POST", f"/api/v1/days/{DAY}/close", {"note": "Listrik padam"}, 409)
    assert again["message"] == "Hari ini sudah ditutup."
    summary = await head.call("GET", f"/api/v1/days/{DAY}")
    assert (summary["state"], summary["close_note"]) == ("closed", "Listrik padam")
    assert journal(site, "day.closed") == [("day.closed", "frontoffice")]


async def test_after_the_closing_time_no_reason_is_asked(site: Site) -> None:
    site.clock.now = START.replace(hour=9, minute=1)  # 16.01 WIB
    fo = site["fo"]
    assert (await fo.call("GET", f"/api/v1/days/{DAY}"))["reason_needed"] is False
    await fo.call("POST", f"/api/v1/days/{DAY}/close", {})


async def test_only_the_head_reopens_and_only_with_a_reason(site: Site) -> None:
    site.clock.now = START.replace(hour=9, minute=5)
    fo, head, admin = site["fo"], site["head"], site["admin"]
    await fo.call("POST", f"/api/v1/days/{DAY}/close", {})
    for who in (fo, admin, site["hd"]):
        said = await who.call("POST", f"/api/v1/days/{DAY}/reopen", {"reason": "Susulan"}, 403)
        assert_plain(said)
    for body in ({}, {"reason": "   "}):
        said = await head.call("POST", f"/api/v1/days/{DAY}/reopen", body, expect=422)
        assert_plain(said, "reason")
    said = await head.call("POST", f"/api/v1/days/{DAY}/reopen", {"reason": "ok"}, 422)
    assert "Alasan" in said["message"]
    assert (await head.call("GET", f"/api/v1/days/{DAY}"))["state"] == "closed"
    body = {"reason": "Formulir kertas susulan"}
    assert (await head.call("POST", f"/api/v1/days/{DAY}/reopen", body))["state"] == "open"
    assert journal(site, "day.reopened") == [("day.reopened", "kepala")]
    said = await head.call("POST", f"/api/v1/days/{DAY}/reopen", body, expect=409)
    assert said["message"] == "Hari ini belum ditutup."


async def test_occupied_facility_offers_a_move_and_moves(site: Site) -> None:
    fo = site["fo"]
    siti = await arrive(site, "Siti Aminah", KTP_A, 1)
    pc = siti["facility"]
    assert pc == "PC-01"
    body = {"out_of_service": True, "note": "Layar mati"}
    offer = await fo.call("POST", f"/api/v1/facilities/{pc}/service", body, expect=409)
    assert offer["error"] == "facility_occupied"
    assert offer["occupant"]["name"] == "Siti Aminah" and offer["alternatives"][0] == "PC-02"
    assert "Siti Aminah" in offer["message"]
    listed = {f["code"]: f for f in await fo.call("GET", "/api/v1/facilities")}
    assert listed[pc]["status"] != "out_of_service"  # the refusal changed nothing
    # A target that is not of the same kind, or that does not exist: refused, nothing moves.
    await fo.call("POST", f"/api/v1/facilities/{pc}/service", {**body, "move_to": "HS-01"}, 409)
    await fo.call("POST", f"/api/v1/facilities/{pc}/service", {**body, "move_to": "PC-99"}, 404)
    moved = await fo.call("POST", f"/api/v1/facilities/{pc}/service", {**body, "move_to": "PC-02"})
    assert moved["out_of_service"] is True and moved["note"] == "Layar mati"
    after = await fo.call("GET", f"/api/v1/visits/{siti['id']}")
    assert after["facility"] == "PC-02"
    # A second click of the same request: nothing left to move, already out.
    again = await fo.call("POST", f"/api/v1/facilities/{pc}/service", {**body, "move_to": "PC-02"})
    assert again["out_of_service"] is True
    assert (await fo.call("GET", f"/api/v1/visits/{siti['id']}"))["facility"] == "PC-02"


async def test_no_free_facility_of_the_kind_refuses(site: Site) -> None:
    fo = site["fo"]
    siti = await arrive(site, "Siti Aminah", KTP_A, 1)
    await arrive(site, "Budi Santoso", KTP_B, 2)
    for n in range(3, 9):
        await fo.call("POST", f"/api/v1/facilities/PC-0{n}/service", {"out_of_service": True})
    said = await fo.call(
        "POST", "/api/v1/facilities/PC-01/service", {"out_of_service": True}, expect=409
    )
    assert said["alternatives"] == [] and "tidak ada" in said["message"]
    assert (await fo.call("GET", f"/api/v1/visits/{siti['id']}"))["facility"] == "PC-01"


async def test_roll_call_and_a_muster_survive_a_reload(site: Site) -> None:
    fo, hd = site["fo"], site["hd"]
    siti = await arrive(site, "Siti Aminah", KTP_A, 1)
    budi = await arrive(site, "Budi Santoso", KTP_B, 2)
    await fo.tap("pintu-masuk", 1)
    assert (await fo.tap("meja-pc-02", 2))["granted"]  # Budi at PC-02 with no door entry
    call = await hd.call("GET", "/api/v1/roll-call")
    people = {p["name"]: p for p in call["people"]}
    assert call["count"] == 2 and call["muster"] is None
    assert people["Siti Aminah"]["sources"] == [
        {"kind": "door", "reader": "pintu-masuk", "at": people["Siti Aminah"]["entered_at"]}
    ]
    desk = people["Budi Santoso"]
    assert desk["desk_only"] is True
    assert [(s["kind"], s["reader"], s["facility"]) for s in desk["sources"]] == [
        ("desk", "meja-pc-02", "PC-02")
    ]
    started = await hd.call("POST", "/api/v1/musters", {})
    muster_id = started["muster"]["id"]
    assert (started["muster"]["listed"], started["muster"]["unmarked"]) == (2, 2)
    again = await fo.call("POST", "/api/v1/musters", {})  # a second click: the same muster
    assert again["muster"]["id"] == muster_id
    for bad, status in (({}, 422), ({"visit_id": "x"}, 422), ({"visit_id": 999}, 404)):
        said = await hd.call("POST", f"/api/v1/musters/{muster_id}/safe", bad, expect=status)
        assert_plain(said)
    marked = await hd.call("POST", f"/api/v1/musters/{muster_id}/safe", {"visit_id": siti["id"]})
    assert (marked["muster"]["marked"], marked["muster"]["unmarked"]) == (1, 1)
    row = next(p for p in marked["people"] if p["visit_id"] == siti["id"])
    assert row["safe_by"] == "helpdesk" and row["safe_at"]
    assert journal(site, "muster.safe") == [("muster.safe", "helpdesk")]
    # The state loaded again from the tables (as at a restart) is the same roll call.
    site.runtime.writer.request_reload()
    await site.runtime.execute(lambda tx: None)
    after = await fo.call("GET", "/api/v1/roll-call")
    assert after["muster"]["marked"] == 1 and after["muster"]["id"] == muster_id
    assert {p["visit_id"]: bool(p["safe_at"]) for p in after["people"]} == {
        siti["id"]: True,
        budi["id"]: False,
    }
    ended = await fo.call("POST", f"/api/v1/musters/{muster_id}/end", {})
    assert ended["muster"]["ended_at"] and ended["muster"]["ended_by"] == "frontoffice"
    late = {"visit_id": budi["id"]}
    said = await hd.call("POST", f"/api/v1/musters/{muster_id}/safe", late, expect=409)
    assert_plain(said)
    # The journal, replayed, gives the same muster tables (archive verify).
    assert await verify_archive(site.runtime.engine, site.runtime.personal) == []
