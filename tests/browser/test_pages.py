"""The pages over plain HTTP (no browser): login gate, roles, language, headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from service import auth
from service.api.app import RUNTIME
from service.auth import Role
from service.demo import DEMO_PASSWORD, demo_config
from service.server import create_app

STAFF_PAGES = (
    "/",
    "/arrival",
    "/return",
    "/helpdesk",
    "/day",
    "/roll-call",
    "/visits",
    "/visits/1",
)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(demo_config(tmp_path), demo=True, start_readers=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def log_in(client: TestClient[Any, Any], username: str) -> None:
    body = {"username": username, "password": DEMO_PASSWORD}
    response = await client.post("/api/v1/login", json=body)
    assert response.status == 200


@pytest.mark.parametrize("path", STAFF_PAGES)
async def test_staff_pages_send_a_stranger_to_login(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/login?next=")


async def test_queue_display_needs_no_login_and_shows_no_personal_data(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/queue-display")
    assert response.status == 200
    text = await response.text()
    assert '<h1><span class="tv-room">Ruang Bidding (demo)</span>' in text  # room.name
    assert '"readers"' not in text and '"demo_badges"' not in text


async def test_pages_carry_security_headers(client: TestClient[Any, Any]) -> None:
    response = await client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_login_never_redirects_off_site(client: TestClient[Any, Any]) -> None:
    text = await (await client.get("/login?next=//evil.example/x")).text()
    assert 'name="next" value="/"' in text
    text = await (await client.get("/login?next=/return")).text()
    assert 'name="next" value="/return"' in text
    token = re.search(r'name="csrf" value="([^"]+)"', text)
    assert token is not None
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        form = {"csrf": token.group(1), "next": target, "username": "frontoffice"}
        form["password"] = DEMO_PASSWORD
        done = await client.post("/login", data=form, allow_redirects=False)
        assert done.status == 303 and done.headers["Location"] == "/", target
        await client.post("/api/v1/logout", headers={"X-CSRF-Token": await csrf_of(client)})
        text = await (await client.get("/login")).text()
        token = re.search(r'name="csrf" value="([^"]+)"', text)
        assert token is not None


async def csrf_of(client: TestClient[Any, Any]) -> str:
    return str((await (await client.get("/api/v1/me")).json())["csrf"])


async def test_helpdesk_role_sees_its_pages_only(client: TestClient[Any, Any]) -> None:
    await log_in(client, "helpdesk")
    assert (await client.get("/helpdesk")).status == 200
    assert (await client.get("/arrival")).status == 403
    assert (await client.get("/return")).status == 403
    board = await (await client.get("/")).text()
    assert 'href="/helpdesk"' in board and 'href="/arrival"' not in board


async def test_english_by_cookie_with_english_dates(client: TestClient[Any, Any]) -> None:
    await log_in(client, "frontoffice")
    client.session.cookie_jar.update_cookies({"lang": "en"})
    text = await (await client.get("/")).text()
    assert "<title>Status board — bidroom</title>" in text
    assert 'lang="en"' in text and "People inside" in text
    client.session.cookie_jar.update_cookies({"lang": "id"})
    text = await (await client.get("/")).text()
    assert "Jumlah di dalam ruangan" in text and 'lang="id"' in text


async def test_demo_panel_only_in_demo(tmp_path: Path) -> None:
    app = create_app(demo_config(tmp_path), demo=False, start_readers=False)
    async with TestClient(TestServer(app)) as plain:
        runtime = app[RUNTIME]
        await auth.add_staff(
            runtime.engine, "rina", "Rina", Role.FRONT_OFFICE, "sandi-rahasia-123", runtime.clock()
        )
        body = {"username": "rina", "password": "sandi-rahasia-123"}
        assert (await plain.post("/api/v1/login", json=body)).status == 200
        text = await (await plain.get("/")).text()
        assert 'id="occ-inside"' in text and 'id="demo-tap"' not in text
        assert "demo_badges" not in text


async def test_staff_pages_name_the_configured_room(client: TestClient[Any, Any]) -> None:
    """room.name (the demo's "Ruang Bidding (demo)"), never a name typed into a template."""
    await log_in(client, "frontoffice")
    text = await (await client.get("/")).text()
    assert 'class="brand" title="Ruang Bidding (demo) · LPSE Kota Jambi"' in text


# --- visits ---
async def test_visit_search_for_the_front_office_a_visits_page_for_all_staff(
    client: TestClient[Any, Any],
) -> None:
    await log_in(client, "helpdesk")
    assert (await client.get("/visits")).status == 403
    assert (await client.get("/visits/1")).status == 200
    assert (await client.get("/visits/abc")).status == 404
    board = await (await client.get("/")).text()
    assert 'href="/visits"' not in board
    await log_in(client, "frontoffice")
    client.session.cookie_jar.update_cookies({"lang": "en"})
    text = await (await client.get("/visits")).text()
    assert "<title>Visit Search — bidroom</title>" in text and "Last digits" in text
    assert 'href="/visits" aria-current="page"' in text
