"""Idempotency-Key on the API: a retried POST is answered once, for 24 hours, across a
restart; another body under the same key, a key still in flight and a malformed key
are refused clearly; a request without the header is not touched."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.store.tables import IdempotencyKeyRow, StaffRow
from tests.support.site import KTP_A, KTP_B, FakeClock, Site, Staff, running_site, site_config

FORM = {
    "name": "Siti Aminah",
    "company": "PT Maju Jaya",
    "doc_type": "ktp",
    "doc_number": KTP_A,
    "rules_ack": True,
    "privacy_ack": True,
}


async def post(
    staff: Staff, path: str, body: Any, key: str | None, *, lang: str = "id"
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {
        "X-CSRF-Token": staff.csrf,
        "Accept-Language": lang,
        "Content-Type": "application/json",
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    response = await staff.client.post(path, data=json.dumps(body), headers=headers)
    return response.status, await response.json(), dict(response.headers)


def visits_of(site: Site) -> int:
    return len(site.runtime.state.visits)


async def stored_keys(site: Site) -> int:
    async with site.runtime.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(IdempotencyKeyRow))).scalar_one()
        )


async def test_the_same_key_and_body_is_answered_once(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        first = await post(fo, "/api/v1/visits", FORM, '"k-1"')
        assert first[0] == 201 and "Idempotent-Replayed" not in first[2], first[1]
        again = await post(fo, "/api/v1/visits", FORM, '"k-1"')
        assert again[0] == 201 and again[1] == first[1]
        assert again[2]["Idempotent-Replayed"] == "true"
        assert again[2]["Content-Type"].startswith("application/json")
        assert visits_of(site) == 1
        # A refusal is an answer too: the same wrong form under its key is refused the same.
        bad = {**FORM, "doc_number": KTP_B, "rules_ack": False}
        refused = await post(fo, "/api/v1/visits", bad, '"k-2"')
        assert refused[0] == 422 and refused[1]["field"] == "rules_ack"
        assert (await post(fo, "/api/v1/visits", bad, '"k-2"'))[1] == refused[1]
        assert visits_of(site) == 1


async def test_another_body_under_the_same_key_is_refused(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        assert (await post(fo, "/api/v1/visits", FORM, '"k-1"'))[0] == 201
        other = {**FORM, "name": "Budi Santoso", "doc_number": KTP_B}
        status, body, _ = await post(fo, "/api/v1/visits", other, '"k-1"')
        assert status == 422 and body["error"] == "idempotency_key_reused"
        assert "sudah dipakai untuk permintaan lain" in body["message"]
        # Another path under the same key is another request too.
        status, body, _ = await post(fo, "/api/v1/nik/check", {"nik": KTP_A}, '"k-1"')
        assert status == 422 and body["error"] == "idempotency_key_reused"
        status, body, _ = await post(fo, "/api/v1/visits", other, '"k-1"', lang="en")
        assert body["message"].startswith("This Idempotency-Key was already used")
        assert visits_of(site) == 1


async def test_keys_are_per_user(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        assert (await post(site["fo"], "/api/v1/visits", FORM, '"shared"'))[0] == 201
        other = {**FORM, "name": "Budi Santoso", "doc_number": KTP_B}
        assert (await post(site["head"], "/api/v1/visits", other, '"shared"'))[0] == 201
        assert visits_of(site) == 2


async def test_a_double_click_racing_gets_one_visit_and_the_same_answer(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        answers = await asyncio.gather(
            *(post(fo, "/api/v1/visits", FORM, '"racing"') for _ in range(5))
        )
        assert {a[0] for a in answers} == {201}
        assert len({a[1]["id"] for a in answers}) == 1
        assert sum(a[2].get("Idempotent-Replayed") == "true" for a in answers) == 4
        assert visits_of(site) == 1


async def test_a_key_in_flight_elsewhere_is_a_conflict(tmp_path: Path) -> None:
    """Another daemon (or a lost one) still holds the key: 409, nothing runs; after the
    in-flight limit a retry runs."""
    clock = FakeClock()
    async with running_site(site_config(tmp_path), clock) as site:
        fo = site["fo"]
        async with site.runtime.engine.begin() as conn:
            await conn.execute(
                IdempotencyKeyRow.__table__.insert().values(
                    principal=await _principal_of(site, fo),
                    key="held",
                    method="POST",
                    path="/api/v1/visits",
                    digest=_digest("/api/v1/visits", FORM),
                    created_at=clock(),
                )
            )
        status, body, _ = await post(fo, "/api/v1/visits", FORM, '"held"')
        assert status == 409 and body["error"] == "idempotency_key_in_flight"
        assert "masih diproses" in body["message"]
        assert visits_of(site) == 0
        clock.advance(seconds=61)  # its daemon is gone: the retry runs, once
        assert (await post(fo, "/api/v1/visits", FORM, '"held"'))[0] == 201
        assert (await post(fo, "/api/v1/visits", FORM, '"held"'))[2]["Idempotent-Replayed"]
        assert visits_of(site) == 1


async def _principal_of(site: Site, staff: Staff) -> str:
    me = await staff.call("GET", "/api/v1/me")
    async with site.runtime.engine.connect() as conn:
        found = await conn.execute(select(StaffRow.id).where(StaffRow.username == me["username"]))
        return f"staff:{found.scalar_one()}"


def _digest(path: str, body: Any) -> str:
    from service.idempotency import fingerprint

    return fingerprint("POST", path, json.dumps(body).encode())


async def test_answers_are_stored_sealed(tmp_path: Path) -> None:
    """An answer may hold personal data: the database keeps it only as ciphertext."""
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        await post(fo, "/api/v1/visits", {**FORM, "phone": "0812 3456 7890"}, '"sealed"')
        found = await post(
            fo, "/api/v1/visitors/lookup", {"doc_type": "ktp", "doc_number": KTP_A}, '"lookup"'
        )
        assert found[1]["phone"].endswith("81234567890")
        async with site.runtime.engine.connect() as conn:
            stored = (await conn.execute(select(IdempotencyKeyRow.response))).scalars().all()
        assert len(stored) == 2
        for blob in stored:
            assert blob is not None
            assert b"Siti" not in blob and b"81234567890" not in blob
        again = await post(
            fo, "/api/v1/visitors/lookup", {"doc_type": "ktp", "doc_number": KTP_A}, '"lookup"'
        )
        assert again[1] == found[1] and again[2]["Idempotent-Replayed"] == "true"


async def test_keys_survive_a_restart(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    clock = FakeClock()
    async with running_site(config, clock) as site:
        first = await post(site["fo"], "/api/v1/visits", FORM, '"before-restart"')
        assert first[0] == 201
    async with running_site(config, clock) as site:
        again = await post(site["fo"], "/api/v1/visits", FORM, '"before-restart"')
        assert again[0] == 201 and again[1]["id"] == first[1]["id"]
        assert again[2]["Idempotent-Replayed"] == "true"
        assert visits_of(site) == 1


async def test_a_key_is_kept_24_hours_then_purged(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_site(site_config(tmp_path), clock) as site:
        fo = site["fo"]
        help_body = {"nik": KTP_A}
        first = await post(fo, "/api/v1/visits", FORM, '"day-old"')
        clock.advance(hours=23, minutes=59)
        assert (await post(fo, "/api/v1/visits", FORM, '"day-old"'))[1] == first[1]
        assert visits_of(site) == 1
        clock.advance(minutes=11)  # past 24 h: forgotten, and the next purge (10 min) removes it
        await post(fo, "/api/v1/nik/check", help_body, '"another"')
        assert await stored_keys(site) == 1  # only "another" is left
        assert (await post(fo, "/api/v1/visits", FORM, '"day-old"'))[0] == 201


async def test_a_malformed_key_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        for bad in ("unquoted-8e03978e", '""', '"' + "x" * 256 + '"', '"a", "b"', "?1", '"ü"'):
            status, body, _ = await post(fo, "/api/v1/visits", FORM, bad)
            assert status == 400, bad
            assert body["error"] == "idempotency_key_malformed"
            assert "tanda kutip" in body["message"]
        assert visits_of(site) == 0 and await stored_keys(site) == 0
        # A good request right after the bad ones goes through.
        assert (await post(fo, "/api/v1/visits", FORM, '"good"'))[0] == 201


async def test_without_the_header_nothing_changes(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        assert (await post(fo, "/api/v1/visits", FORM, None))[0] == 201
        second = await post(fo, "/api/v1/visits", {**FORM, "doc_number": KTP_B}, None)
        assert second[0] == 201 and "Idempotent-Replayed" not in second[2]
        assert visits_of(site) == 2 and await stored_keys(site) == 0
        tap = await fo.tap("front-office", 1)
        assert tap["reason"]
        assert await stored_keys(site) == 0


async def test_the_login_ignores_the_header(tmp_path: Path) -> None:
    """A replayed login would hand out a session: routes without login keep no keys."""
    async with running_site(site_config(tmp_path)) as site:
        response = await site["fo"].client.post(
            "/api/v1/login",
            json={"username": "nobody", "password": "wrong password!"},
            headers={"Idempotency-Key": '"login"'},
        )
        assert response.status == 401
        assert await stored_keys(site) == 0


async def test_the_openapi_document_declares_the_header(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        doc = await site["fo"].call("GET", "/api/v1/openapi.json")
    header = doc["components"]["parameters"]["IdempotencyKey"]
    assert header["in"] == "header" and header["name"] == "Idempotency-Key"
    # Inline in each operation (schemathesis' coverage phase ignores a $ref's pattern).
    create = doc["paths"]["/api/v1/visits"]["post"]
    assert header in create["parameters"] and "409" in create["responses"]
    assert header not in doc["paths"]["/api/v1/visits"]["get"].get("parameters", [])
    assert header not in doc["paths"]["/api/v1/login"]["post"].get("parameters", [])


@pytest.mark.postgres
@pytest.mark.timeout(120)
async def test_on_postgresql_the_same_rules_hold(tmp_path: Path, pg_url: str) -> None:
    config = site_config(tmp_path, pg_url)
    async with running_site(config) as site:
        fo = site["fo"]
        answers = await asyncio.gather(
            *(post(fo, "/api/v1/visits", FORM, '"pg-racing"') for _ in range(4))
        )
        assert {a[0] for a in answers} == {201} and len({a[1]["id"] for a in answers}) == 1
        other = {**FORM, "name": "Budi Santoso", "doc_number": KTP_B}
        assert (await post(fo, "/api/v1/visits", other, '"pg-racing"'))[0] == 422
        assert visits_of(site) == 1
    async with running_site(config) as site:  # restarted on the same database
        again = await post(site["fo"], "/api/v1/visits", FORM, '"pg-racing"')
        assert again[1]["id"] == answers[0][1]["id"] and again[2]["Idempotent-Replayed"]
        assert visits_of(site) == 1
