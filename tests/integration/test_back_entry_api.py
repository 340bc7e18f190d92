"""Back-entry through the API: a future arrival time is refused with a clear message,
and a document with a visit still open needs ``confirm_open_visit``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.support.site import KTP_A, KTP_B, running_site, site_config

FORM = {
    "name": "Citra Kertas",
    "company": "PT Kertas",
    "doc_type": "ktp",
    "doc_number": KTP_A,
    "rules_ack": True,
    "privacy_ack": True,
}


async def test_a_future_arrival_is_refused(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        future = (site.clock() + timedelta(minutes=5)).isoformat()
        paper = {**FORM, "back_entered": True, "arrived_at": future}
        refused = await fo.call("POST", "/api/v1/visits", paper, expect=422)
        assert refused["field"] == "arrived_at"
        assert refused["message"] == (
            "Waktu kedatangan data susulan tidak boleh setelah sekarang (25-11-2026 09.00 WIB)."
        )
        assert site.runtime.state.visits == {}
        past = (site.clock() - timedelta(hours=1)).isoformat()
        visit = await fo.call("POST", "/api/v1/visits", {**paper, "arrived_at": past}, expect=201)
        assert visit["back_entered"] is True


async def test_an_open_visit_of_the_document_needs_confirmation(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        first = await fo.call("POST", "/api/v1/visits", FORM, expect=201)
        past = (site.clock() - timedelta(hours=1)).isoformat()
        paper = {**FORM, "back_entered": True, "arrived_at": past}
        warned = await fo.call("POST", "/api/v1/visits", paper, expect=409)
        assert warned["error"] == "open_visit" and warned["field"] == "confirm_open_visit"
        assert f"kunjungan {first['id']}" in warned["message"]
        assert len(site.runtime.state.visits) == 1
        # Another document is not asked about; this one goes on once confirmed.
        other = {**paper, "name": "Dodi", "doc_number": KTP_B}
        assert (await fo.call("POST", "/api/v1/visits", other, expect=201))["back_entered"]
        confirmed = {**paper, "confirm_open_visit": True}
        again = await fo.call("POST", "/api/v1/visits", confirmed, expect=201)
        assert again["back_entered"] and again["id"] != first["id"]
        assert len(site.runtime.state.visits) == 3
        bad = await fo.call(
            "POST", "/api/v1/visits", {**paper, "confirm_open_visit": "ya"}, expect=422
        )
        assert bad["field"] == "confirm_open_visit" and "confirm_open_visit" not in bad["message"]
        assert len(site.runtime.state.visits) == 3
