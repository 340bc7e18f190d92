"""The API's contract: every route is in the OpenAPI document, every route checks its
role (the whole matrix is walked), and errors are JSON a clerk can read."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestClient

from service.api.routing import ROUTES
from service.auth import Role
from service.demo import DEMO_PASSWORD
from tests.support.site import running_site, site_config

PROBE_ID = "999999"


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: "2026-11-25" if m.group(1) == "day" else PROBE_ID, path)


async def test_openapi_matches_the_routes(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        doc = await site["fo"].call("GET", "/api/v1/openapi.json")
        # The API, and the probes and metrics beside it (/healthz, /readyz, /metrics).
        ops = {r.path for r in ROUTES if not r.path.startswith("/api/")}
        app_routes = {
            (r.method, r.resource.canonical)
            for r in site.server.app.router.routes()
            if r.resource is not None
            and (r.resource.canonical.startswith("/api/") or r.resource.canonical in ops)
            and r.method != "HEAD"
        }
    assert ops == {"/healthz", "/readyz", "/metrics"}
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert app_routes == documented
    assert doc["openapi"].startswith("3.")
    for ops in doc["paths"].values():
        for op in ops.values():
            assert op["summary"] and op["responses"]


async def test_every_route_checks_its_role(tmp_path: Path) -> None:
    """Walk the matrix: each role, and a device token, gets 403 exactly where the route
    does not list it (no role passes by rank: the admin does not sign a day off)."""
    logins = {Role.FRONT_OFFICE: "fo", Role.HELPDESK: "hd", Role.HEAD: "head", Role.ADMIN: "admin"}
    async with running_site(site_config(tmp_path)) as site:
        anonymous = TestClient(site.server)
        await anonymous.start_server()
        body = {"name": "matrix", "role": "device", "readers": ["meja-pc-01"]}
        body["current_password"] = DEMO_PASSWORD
        made = await site["admin"].call("POST", "/api/v1/tokens", body, expect=201)
        device = {"Authorization": f"Bearer {made['token']}"}
        try:
            for route in ROUTES:
                if route.path.endswith("/events") or route.path == "/api/v1/logout":
                    continue
                path = concrete(route.path)
                own = path.replace(f"/readers/{PROBE_ID}/", "/readers/meja-pc-01/")
                response = await anonymous.request(route.method, own, json={}, headers=device)
                if route.roles is not None and Role.DEVICE in route.roles:
                    assert response.status != 403, (route.method, route.path, "device")
                elif route.roles is not None:
                    assert response.status == 403, (route.method, route.path, response.status)
                response = await anonymous.request(route.method, path, json={})
                if route.roles is None:
                    assert response.status not in (401, 403), (route.path, response.status)
                else:
                    assert response.status == 401, (route.method, route.path, response.status)
                    body = await response.json()
                    assert body["error"] == "unauthorized" and body["message"]
                for role, key in logins.items():
                    if route.path == "/api/v1/logout":
                        continue
                    staff = site[key]
                    response = await staff.client.request(
                        route.method, path, json={}, headers={"X-CSRF-Token": staff.csrf}
                    )
                    allowed = route.roles is None or role in route.roles
                    if allowed:
                        assert response.status != 403, (role, route.method, route.path)
                    else:
                        assert response.status == 403, (
                            role,
                            route.method,
                            route.path,
                            response.status,
                        )
        finally:
            await anonymous.close()


async def test_device_token_may_only_tap(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        admin = site["admin"]
        token = (
            await admin.call(
                "POST",
                "/api/v1/tokens",
                {
                    "name": "agent-pc-01",
                    "role": "device",
                    "readers": ["meja-pc-01"],
                    "current_password": DEMO_PASSWORD,
                },
                expect=201,
            )
        )["token"]
        client = site["fo"].client
        headers = {"Authorization": f"Bearer {token}"}
        tap = await client.post(
            "/api/v1/taps",
            headers=headers,
            json={"reader": "meja-pc-01", "uid": "04D3E000000001", "event_id": "dev-1"},
        )
        assert tap.status == 200
        denied = await client.get("/api/v1/status", headers=headers)
        assert denied.status == 403
        bad = await client.get("/api/v1/status", headers={"Authorization": "Bearer nope"})
        assert bad.status == 401


async def test_csrf_is_required_for_cookie_sessions(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        client = site["fo"].client
        response = await client.post("/api/v1/help", json={"category": "other", "problem": "x"})
        assert response.status == 403
        assert "CSRF" in (await response.json())["message"]


async def test_errors_are_clear_json_and_lose_nothing(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        bad_nik = await fo.call(
            "POST",
            "/api/v1/visits",
            {
                "name": "A",
                "company": "B",
                "doc_type": "ktp",
                "doc_number": "1571015708850",
                "rules_ack": True,
                "privacy_ack": True,
            },
            expect=422,
        )
        assert bad_nik == {
            "error": "invalid_nik",
            "message": "NIK harus 16 digit.",
            "message_id": "NIK harus 16 digit.",
            "message_en": "NIK must be 16 digits.",
            "field": "doc_number",
        }
        english = await fo.client.post(
            "/api/v1/visits?lang=en", headers={"X-CSRF-Token": fo.csrf}, json={"name": "A"}
        )
        assert (await english.json())["message"] == "Company is required."
        unknown = await fo.tap("front-office", 99)  # not enrolled
        assert unknown["granted"] is False and unknown["reason"] == "unknown_badge"
        assert unknown["message"] == "Kartu tidak dikenal"
        bad_uid = await fo.call(
            "POST",
            "/api/v1/taps",
            {"reader": "pintu-masuk", "uid": "zz", "event_id": "x"},
            expect=422,
        )
        assert bad_uid["field"] == "uid"
        not_json = await fo.client.post(
            "/api/v1/help",
            data=b"{nope",
            headers={"X-CSRF-Token": fo.csrf, "Content-Type": "application/json"},
        )
        assert not_json.status == 422
        assert await fo.call("GET", "/api/v1/visits/12345", expect=404)
        events = await fo.call("GET", "/api/v1/access-events")
        assert [e["reason"] for e in events] == ["unknown_badge"]
