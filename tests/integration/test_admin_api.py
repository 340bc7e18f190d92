"""The badges and admin screens' API: enrol mode on the front-desk reader, lost / found /
retire with a required reason, the pool with its holders; who may and who may not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.store.tables import JournalRow
from tests.integration.test_abuse import device_token, tap
from tests.integration.test_sop_api import FORM
from tests.support.hostile import assert_plain
from tests.support.site import KTP_A, Site, running_site, site_config

NEW_UID = "04C0FFEE00AA01"
MODE = "/api/v1/badges/enrol-mode"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with running_site(site_config(tmp_path)) as running:
        yield running


async def raw_tap(site: Site, uid: str, event_id: str, reader: str = "front-office") -> Any:
    body = {"reader": reader, "uid": uid, "event_id": event_id}
    return await site["fo"].call("POST", "/api/v1/taps", body)


async def journal_kinds(site: Site) -> list[str]:
    async with site.runtime.engine.connect() as conn:
        return list(
            (await conn.execute(select(JournalRow.kind).order_by(JournalRow.seq))).scalars()
        )


def by_label(badges: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {b["label"]: b for b in badges}


async def test_enrol_mode_enrols_the_next_unknown_badge_tapped(site: Site) -> None:
    admin = site["admin"]
    mode = await admin.call("GET", MODE)
    assert mode["readers"] == ["front-office"] and mode["armed"] == []
    proposed = mode["proposed"]
    armed = await admin.call("POST", MODE, {"reader": "front-office"})
    assert [a["reader"] for a in armed["armed"]] == ["front-office"]
    assert armed["armed"][0]["label"] is None and armed["armed"][0]["by"] == "admin"
    decision = await raw_tap(site, NEW_UID, "enrol-1")
    assert decision["granted"] and decision["reason"] == "badge_enrolled"
    assert decision["badge"] == proposed
    pool = by_label(await admin.call("GET", "/api/v1/badges"))
    assert pool[proposed]["state"] == "available" and pool[proposed]["holder"] is None
    assert (await admin.call("GET", MODE))["armed"] == []
    # A replay of the same tap enrols nothing more; a second new badge is unknown again.
    again = await raw_tap(site, NEW_UID, "enrol-1")
    assert again["replayed"] is True
    second = await raw_tap(site, "04C0FFEE00AA02", "enrol-2")
    assert not second["granted"] and second["reason"] == "unknown_badge"
    assert len(await admin.call("GET", "/api/v1/badges")) == len(pool)
    kinds = await journal_kinds(site)
    assert kinds.count("badge.enrol_armed") == 1 and kinds.count("badge.enrol_disarmed") == 1


async def test_a_typed_label_is_used_and_cancel_ends_the_mode(site: Site) -> None:
    admin = site["admin"]
    await admin.call("POST", MODE, {"reader": "front-office", "label": "Cadangan-1"})
    assert (await admin.call("GET", MODE))["armed"][0]["label"] == "Cadangan-1"
    await admin.call("POST", f"{MODE}/cancel", {"reader": "front-office"})
    assert (await admin.call("GET", MODE))["armed"] == []
    refused = await raw_tap(site, NEW_UID, "after-cancel")
    assert refused["reason"] == "unknown_badge"
    await admin.call("POST", MODE, {"reader": "front-office", "label": "Cadangan-1"})
    assert (await raw_tap(site, NEW_UID, "typed"))["badge"] == "Cadangan-1"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "reader"),
        # A door reader is no front-desk reader: none of that name to enrol at (404).
        ({"reader": "pintu-masuk"}, 404, "reader"),
        ({"reader": "no-such-reader"}, 404, "reader"),
        ({"reader": "front-office", "label": "K-001"}, 409, "label"),
        ({"reader": "front-office", "label": "x" * 41}, 422, "label"),
        ({"reader": ["front-office"]}, 422, "reader"),
    ],
)
async def test_bad_enrol_requests_are_refused_plainly_and_change_nothing(
    site: Site, body: dict[str, Any], status: int, field: str
) -> None:
    said = await site["admin"].call("POST", MODE, body, expect=status)
    assert_plain(said, field=field)
    assert (await site["admin"].call("GET", MODE))["armed"] == []


@pytest.mark.parametrize("role", ["fo", "hd", "head"])
async def test_only_the_admin_arms_or_cancels_enrol_mode(site: Site, role: str) -> None:
    staff = site[role]
    await staff.call("POST", MODE, {"reader": "front-office"}, expect=403)
    await staff.call("POST", f"{MODE}/cancel", {"reader": "front-office"}, expect=403)
    await staff.call("GET", MODE)  # anyone on staff sees whether the desk is enrolling


async def test_enrol_mode_survives_a_restart(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    async with running_site(config) as first:
        await first["admin"].call("POST", MODE, {"reader": "front-office", "label": "Baru-1"})
    async with running_site(config) as second:
        armed = (await second["admin"].call("GET", MODE))["armed"]
        assert [(a["reader"], a["label"]) for a in armed] == [("front-office", "Baru-1")]
        assert (await raw_tap(second, NEW_UID, "after-restart"))["badge"] == "Baru-1"


async def test_lost_found_retire_need_a_reason_and_are_journaled(site: Site) -> None:
    fo, admin = site["fo"], site["admin"]
    pool = by_label(await fo.call("GET", "/api/v1/badges"))
    badge = pool["K-003"]
    for note in (None, "", "   "):
        body = {} if note is None else {"note": note}
        said = await fo.call("POST", f"/api/v1/badges/{badge['id']}/lost", body, expect=422)
        assert_plain(said, field="note")
        assert said["message"] == "Alasan wajib diisi."
    assert by_label(await fo.call("GET", "/api/v1/badges"))["K-003"]["state"] == "available"
    lost = await fo.call("POST", f"/api/v1/badges/{badge['id']}/lost", {"note": "Jatuh di lobi"})
    assert lost["state"] == "lost"
    listed = by_label(await fo.call("GET", "/api/v1/badges"))["K-003"]
    assert listed["note"] == "Jatuh di lobi"
    # Twice lost is refused in plain words; found needs its own reason.
    twice = await fo.call("POST", f"/api/v1/badges/{badge['id']}/lost", {"note": "x"}, expect=409)
    assert_plain(twice)
    await fo.call("POST", f"/api/v1/badges/{badge['id']}/found", {}, expect=422)
    found = await fo.call(
        "POST", f"/api/v1/badges/{badge['id']}/found", {"note": "Ditemukan satpam"}
    )
    assert found["state"] == "available"
    await fo.call("POST", f"/api/v1/badges/{badge['id']}/retire", {"note": "Rusak"}, expect=403)
    await admin.call("POST", f"/api/v1/badges/{badge['id']}/retire", {}, expect=422)
    retired = await admin.call("POST", f"/api/v1/badges/{badge['id']}/retire", {"note": "Rusak"})
    assert retired["state"] == "retired"
    kinds = await journal_kinds(site)
    assert kinds.count("badge.state") == 3
    await site["hd"].call("POST", f"/api/v1/badges/{badge['id']}/found", {"note": "x"}, expect=403)


async def test_the_pool_names_each_badge_holder(site: Site) -> None:
    fo = site["fo"]
    visit = await fo.call(
        "POST",
        "/api/v1/visits",
        {**FORM, "name": "Siti Aminah", "doc_number": KTP_A},
        expect=201,
    )
    await fo.call("POST", f"/api/v1/visits/{visit['id']}/arm-badge", {"reader": "front-office"})
    assert (await fo.tap("front-office", 1))["reason"] == "badge_issued"
    pool = by_label(await fo.call("GET", "/api/v1/badges"))
    held = pool["K-001"]
    assert held["state"] == "issued" and held["visit_id"] == visit["id"]
    assert (held["holder"], held["company"]) == ("Siti Aminah", "PT Maju Jaya")
    assert pool["K-002"]["holder"] is None


async def test_a_token_says_when_it_was_last_used(site: Site) -> None:
    def last_used(tokens: list[dict[str, Any]]) -> str | None:
        return next(t["last_used_at"] for t in tokens if t["name"] == "agen-1")

    token = await device_token(site, "agen-1", ["meja-pc-01"])
    assert last_used(await site["admin"].call("GET", "/api/v1/tokens")) is None
    first = site.clock.now
    assert (await tap(site, token, "meja-pc-01", "lu-1")).status == 200
    assert last_used(await site["admin"].call("GET", "/api/v1/tokens")) == first.isoformat()
    site.clock.advance(seconds=30)  # within a minute: not written again
    assert (await tap(site, token, "meja-pc-01", "lu-2")).status == 200
    assert last_used(await site["admin"].call("GET", "/api/v1/tokens")) == first.isoformat()
    later = site.clock.advance(seconds=31)
    assert (await tap(site, token, "meja-pc-01", "lu-3")).status == 200
    assert last_used(await site["admin"].call("GET", "/api/v1/tokens")) == later.isoformat()
