"""Visit search across days, a visit's whole history, and the front desk's question
about another visitor's badge, through the HTTP API (SQLite, the real application)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from service.store import visit_records
from tests.support.site import KTP_A, KTP_B, KTP_C, Site, running_site, site_config

FORM = {
    "company": "PT Maju Jaya",
    "doc_type": "ktp",
    "purpose": "Unggah penawaran",
    "tender_code": "10012345",
    "wanted_kind": "pc",
    "rules_ack": True,
    "privacy_ack": True,
}
FRONT = "front-office"


async def arrive(site: Site, name: str, nik: str, badge: int | None, **form: Any) -> Any:
    fo = site["fo"]
    body = {**FORM, "name": name, "doc_number": nik, **form}
    visit = await fo.call("POST", "/api/v1/visits", body, expect=201)
    if badge is not None:
        await fo.call("POST", f"/api/v1/visits/{visit['id']}/arm-badge", {"reader": FRONT})
        assert (await fo.tap(FRONT, badge))["reason"] == "badge_issued"
    return await fo.call("GET", f"/api/v1/visits/{visit['id']}")


async def search(site: Site, expect: int = 200, **terms: Any) -> Any:
    return await site["fo"].call("POST", "/api/v1/visits/search", terms, expect=expect)


def names(found: Any) -> list[str]:
    return [v["name"] for v in found["visits"]]


async def test_search_finds_visits_of_every_day(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        siti = await arrive(site, "Siti Aminah", KTP_A, 1)
        await fo.call("POST", f"/api/v1/visits/{siti['id']}/checkout", {})
        site.clock.advance(days=1)  # Thursday
        await arrive(site, "Budi Santoso", KTP_B, 2, company="CV Sinar Jambi", tender_code="T-77")
        site.clock.advance(days=1)  # Friday
        await arrive(site, "Nguyễn Thị Lan", KTP_C, None, company="PT Ñandú")

        assert names(await search(site)) == ["Nguyễn Thị Lan", "Budi Santoso", "Siti Aminah"]
        assert names(await search(site, name="siti")) == ["Siti Aminah"]
        assert names(await search(site, name="Nguyễn")) == ["Nguyễn Thị Lan"]
        # Case folds in every script, not only ASCII.
        assert names(await search(site, name="NGUYỄN thị")) == ["Nguyễn Thị Lan"]
        assert names(await search(site, company="ñandú")) == ["Nguyễn Thị Lan"]
        assert names(await search(site, company="sinar")) == ["Budi Santoso"]
        assert names(await search(site, doc_digits="01")) == ["Siti Aminah"]
        assert names(await search(site, doc_digits="3")) == ["Budi Santoso"]
        assert names(await search(site, label="K-002")) == ["Budi Santoso"]
        # The badge went back, but the visit still names the badge it had.
        assert names(await search(site, label="K-001")) == ["Siti Aminah"]
        assert names(await search(site, tender_code="t-77")) == ["Budi Santoso"]
        assert names(await search(site, from_day="2026-11-26")) == [
            "Nguyễn Thị Lan",
            "Budi Santoso",
        ]
        assert names(await search(site, to_day="2026-11-26", from_day="2026-11-26")) == [
            "Budi Santoso"
        ]
        assert names(await search(site, name="siti", company="sinar")) == []
        # A LIKE wildcard typed in is a character, not a pattern.
        assert names(await search(site, name="%")) == []
        hit = (await search(site, name="siti"))["visits"][0]
        assert hit["slot"] == "L-01" and hit["doc_masked"] == "1571**********01"
        assert hit["state"] == "closed" and hit["day"] == "2026-11-25" and hit["badge"] == "K-001"
        assert KTP_A not in str(await search(site))
    # The query's personal data never reaches the logs.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "siti" not in logged.lower() and "Nguyễn" not in logged


async def test_search_pages_newest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visit_records, "PAGE_SIZE", 2)
    async with running_site(site_config(tmp_path)) as site:
        for n, nik in enumerate((KTP_A, KTP_B, KTP_C)):
            await arrive(site, f"Tamu {n}", nik, None)
        first = await search(site)
        assert names(first) == ["Tamu 2", "Tamu 1"] and first["more"] is True
        second = await search(site, page=2)
        assert names(second) == ["Tamu 0"] and second["more"] is False
        assert names(await search(site, page=3)) == []


@pytest.mark.parametrize(
    ("terms", "field", "words"),
    [
        ({"doc_digits": "12a"}, "doc_digits", "Angka terakhir"),
        ({"doc_digits": "0001"}, "doc_digits", "Angka terakhir"),
        ({"from_day": "2026-11-26", "to_day": "2026-11-25"}, "from_day", "Tanggal awal"),
        ({"from_day": "25-11-2026"}, "from_day", "TTTT-BB-HH"),
        ({"page": 0}, "page", "Halaman"),
        ({"page": True}, "page", "Halaman"),
        ({"name": "a\u0000b"}, "name", "Nama"),
        ({"name": "x" * 201}, "name", "Nama"),
    ],
)
async def test_bad_search_terms_are_refused_plainly(
    tmp_path: Path, terms: dict[str, Any], field: str, words: str
) -> None:
    async with running_site(site_config(tmp_path)) as site:
        refused = await search(site, expect=422, **terms)
        assert refused["field"] == field and words in refused["message"], refused
        assert field not in refused["message"] and refused["message_en"]


async def test_search_is_for_the_front_office_only(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        await site["hd"].call("POST", "/api/v1/visits/search", {}, expect=403)
        for role in ("fo", "head", "admin"):
            await site[role].call("POST", "/api/v1/visits/search", {})


async def test_a_visits_history_tells_it_all_in_order(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo, hd = site["fo"], site["hd"]
        siti = await arrive(site, "Siti Aminah", KTP_A, 1)
        site.clock.advance(minutes=2)
        assert (await fo.tap("pintu-masuk", 1))["reason"] == "entry"
        assert (await fo.tap("meja-pc-01", 1))["reason"] == "usage_started"
        req = await fo.call(
            "POST",
            "/api/v1/help",
            {"visit_id": siti["id"], "category": "upload", "problem": "Gagal unggah"},
            expect=201,
        )
        await hd.call("POST", f"/api/v1/help/{req['id']}/claim")
        await hd.call("POST", f"/api/v1/help/{req['id']}/resolve", {"resolution": "Berhasil"})
        site.clock.advance(minutes=30)
        assert (await fo.tap("meja-pc-01", 1))["reason"] == "usage_ended"
        assert (await fo.tap("pintu-keluar", 1))["reason"] == "exit"
        assert (await fo.tap(FRONT, 1))["reason"] == "badge_returned"
        await fo.call("POST", f"/api/v1/visits/{siti['id']}/document-return", {"to": "Siti"})

        got = await hd.call("GET", f"/api/v1/visits/{siti['id']}/history")
        assert got["visit"]["name"] == "Siti Aminah" and got["visit"]["slot"] == "L-01"
        assert got["visit"]["badge"] == "K-001" and got["visit"]["state"] == "closed"
        kinds = [e["kind"] for e in got["history"]]
        assert kinds[0] == "registered" and kinds[-1] == "document_returned"
        for step in (
            "badge_issued",
            "facility_assigned",
            "usage_started",
            "help_opened",
            "help_resolved",
            "usage_ended",
            "badge_returned",
            "closed",
        ):
            assert step in kinds, (step, kinds)
        taps = [(e["reader"], e["reason"]) for e in got["history"] if e["kind"] == "tap"]
        assert taps == [
            (FRONT, "badge_issued"),
            ("pintu-masuk", "entry"),
            ("meja-pc-01", "usage_started"),
            ("meja-pc-01", "usage_ended"),
            ("pintu-keluar", "exit"),
            (FRONT, "badge_returned"),
        ]
        times = [e["at"] for e in got["history"]]
        assert times == sorted(times)
        assert "uid" not in str(got["history"]) and KTP_A not in str(got)
        assert got["live"]["id"] == siti["id"]
        missing = await fo.call("GET", "/api/v1/visits/999/history", expect=404)
        assert missing["message"] == "Kunjungan 999 tidak ditemukan."
        await fo.call(
            "GET", "/api/v1/visits/abc/history", expect=404
        )  # not digits: no such address


async def _asked(site: Site) -> Any:
    status = await site["fo"].call("GET", "/api/v1/status")
    return next(a for a in status["armed"] if a["reader"] == FRONT)["asked"]


async def test_a_tap_of_another_badge_while_serving_asks_then_ignore_or_return(
    tmp_path: Path,
) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        budi = await arrive(site, "Budi Santoso", KTP_B, 2)
        siti = await arrive(site, "Siti Aminah", KTP_A, 1)
        served = await fo.call("POST", f"/api/v1/visits/{siti['id']}/serve", {"reader": FRONT})
        assert served["id"] == siti["id"]
        # Reloading the page serves again: nothing new is recorded.
        await fo.call("POST", f"/api/v1/visits/{siti['id']}/serve", {"reader": FRONT})
        decision = await fo.tap(FRONT, 2)
        assert (decision["granted"], decision["reason"]) == (False, "confirm_return")
        asked = await _asked(site)
        assert asked["name"] == "Budi Santoso" and asked["slot"] == "L-01"
        assert asked["badge"] == "K-002" and asked["served_name"] == "Siti Aminah"
        assert (await fo.call("GET", f"/api/v1/visits/{budi['id']}"))["state"] == "admitted"

        ignored = await fo.call(
            "POST", f"/api/v1/desk/{FRONT}/answer", {"visit_id": budi["id"], "answer": "ignore"}
        )
        assert ignored["visit"]["state"] == "admitted" and await _asked(site) is None
        # A double click on the answer: the second is refused plainly, nothing changes.
        again = await fo.call(
            "POST",
            f"/api/v1/desk/{FRONT}/answer",
            {"visit_id": budi["id"], "answer": "return"},
            expect=409,
        )
        assert again["message"] == "Pertanyaan ini sudah dijawab atau tidak berlaku lagi."
        assert (await fo.call("GET", f"/api/v1/visits/{budi['id']}"))["state"] == "admitted"

        assert (await fo.tap(FRONT, 2))["reason"] == "confirm_return"
        returned = await fo.call(
            "POST",
            f"/api/v1/desk/{FRONT}/answer",
            {"visit_id": budi["id"], "answer": "return", "devices_checked": True},
        )
        closed = returned["visit"]
        assert (closed["name"], closed["company"], closed["deposit"]["slot"]) == (
            "Budi Santoso",
            "PT Maju Jaya",
            "L-01",
        )
        assert closed["state"] == "closed" and await _asked(site) is None
        # Siti is still the one served, and open; her own badge is her return.
        assert (await fo.call("GET", f"/api/v1/visits/{siti['id']}"))["state"] == "admitted"
        back = await fo.tap(FRONT, 1)
        assert (back["reason"], back["slot"]) == ("badge_returned", "L-02")
        status = await fo.call("GET", "/api/v1/status")
        assert status["armed"] == []
        # The journal replays the desk's facts to the very same tables.
        verdict = await site["head"].call("GET", "/api/v1/archive/verify")
        assert verdict == {"ok": True, "faults": []}


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/api/v1/desk/front-office/answer", {"visit_id": 1, "answer": "maybe"}, 422, "answer"),
        ("/api/v1/desk/front-office/answer", {"answer": "ignore"}, 422, "visit_id"),
        # A reader that is not a front desk: no front-desk reader has that name (404).
        ("/api/v1/desk/pintu-masuk/answer", {"visit_id": 1, "answer": "ignore"}, 404, "reader"),
        ("/api/v1/desk/front-office/answer", {"visit_id": 1, "answer": "ignore"}, 409, None),
        ("/api/v1/visits/1/serve", {"reader": "pintu-masuk"}, 404, "reader"),
        ("/api/v1/visits/99/serve", {"reader": FRONT}, 404, None),
        ("/api/v1/desk/front-office/release", {"visit_id": "x"}, 422, "visit_id"),
    ],
)
async def test_malformed_desk_requests_change_nothing(
    tmp_path: Path, path: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    async with running_site(site_config(tmp_path)) as site:
        await arrive(site, "Siti Aminah", KTP_A, 1)
        before = await site["fo"].call("GET", "/api/v1/status")
        refused = await site["fo"].call("POST", path, body, expect=status)
        assert refused.get("field") == field and refused["message"]
        after = await site["fo"].call("GET", "/api/v1/status")
        assert after["armed"] == before["armed"] and after["counts"] == before["counts"]


async def test_the_question_survives_a_restart_and_release_ends_serving(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    async with running_site(config) as site:
        budi = await arrive(site, "Budi Santoso", KTP_B, 2)
        siti = await arrive(site, "Siti Aminah", KTP_A, 1)
        await site["fo"].call("POST", f"/api/v1/visits/{siti['id']}/serve", {"reader": FRONT})
        assert (await site["fo"].tap(FRONT, 2))["reason"] == "confirm_return"
    async with running_site(config) as site:
        fo = site["fo"]
        asked = await _asked(site)
        assert asked["visit_id"] == budi["id"] and asked["name"] == "Budi Santoso"
        verdict = await site["head"].call("GET", "/api/v1/archive/verify")
        assert verdict == {"ok": True, "faults": []}
        # A stale page releasing another visit leaves the desk serving Siti.
        await fo.call("POST", f"/api/v1/desk/{FRONT}/release", {"visit_id": budi["id"]})
        assert await _asked(site) is not None
        await fo.call("POST", f"/api/v1/desk/{FRONT}/release", {"visit_id": siti["id"]})
        assert (await fo.call("GET", "/api/v1/status"))["armed"] == []
        # Nobody served: Budi's badge is his return, as before.
        back = await fo.tap(FRONT, 2, event_id="after-restart")
        assert back["reason"] == "badge_returned"
        verdict = await site["head"].call("GET", "/api/v1/archive/verify")
        assert verdict == {"ok": True, "faults": []}
