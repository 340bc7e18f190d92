"""OWASP ASVS 4.0.3, level 2, chapter V3 (session management), walked requirement by
requirement against the real application. Each test names its requirement; the
README says which ones do not apply and why."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from service.demo import DEMO_PASSWORD
from service.store.tables import SessionRow
from tests.support.site import Site, running_site, site_config

SESSION = "bidroom_session"
TIMEOUTS = {"session_idle_minutes": 30, "session_hours": 12}  # the defaults, and ASVS L2's


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    config = site_config(tmp_path, security=TIMEOUTS)
    async with running_site(config, pages=True) as running:
        yield running


async def client_of(site: Site) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(site.server)
    await client.start_server()
    return client


async def log_in(client: TestClient[Any, Any], username: str = "frontoffice") -> Any:
    response = await client.post(
        "/api/v1/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status == 200, await response.text()
    return response


def cookie_of(client: TestClient[Any, Any], name: str = SESSION) -> str:
    return next(c.value for c in client.session.cookie_jar if c.key == name)


async def me(client: TestClient[Any, Any], token: str | None = None) -> int:
    cookies = {SESSION: token} if token is not None else None
    response = await client.get("/api/v1/me", cookies=cookies)
    return response.status


async def test_v3_1_1_no_session_token_in_urls(site: Site) -> None:
    """V3.1.1: the session token is never in a URL: it is only set as a cookie (never in
    a body or a redirect), and a token put in the query string authenticates nothing."""
    client = await client_of(site)
    try:
        response = await log_in(client)
        token = cookie_of(client)
        assert token not in await response.text()
        assert token not in response.headers.get("Location", "")
        async with aiohttp.ClientSession() as anonymous:
            for query in (f"{SESSION}={token}", f"token={token}", f"access_token={token}"):
                url = site.server.make_url(f"/api/v1/me?{query}")
                assert (await anonymous.get(url)).status == 401
    finally:
        await client.close()


async def test_v3_2_1_a_new_session_token_at_every_login(site: Site) -> None:
    """V3.2.1: logging in makes a new token, and the browser's previous one ends (no
    fixation: a token planted before the login is never the one that is logged in)."""
    client = await client_of(site)
    try:
        await log_in(client)
        first = cookie_of(client)
        await log_in(client)
        second = cookie_of(client)
        assert first != second
        assert await me(client, first) == 401
        assert await me(client, second) == 200
        planted = await client.post(
            "/api/v1/login",
            json={"username": "kepala", "password": DEMO_PASSWORD},
            cookies={SESSION: "chosen-by-an-attacker"},
        )
        assert planted.cookies[SESSION].value not in ("chosen-by-an-attacker", second)
    finally:
        await client.close()


async def test_v3_2_2_tokens_have_at_least_64_bits_of_entropy(site: Site) -> None:
    """V3.2.2 and V3.2.4: 32 bytes from the ``secrets`` CSPRNG (256 bits), URL-safe base64."""
    tokens = set()
    client = await client_of(site)
    try:
        for _ in range(20):
            tokens.add((await log_in(client)).cookies[SESSION].value)
    finally:
        await client.close()
    assert len(tokens) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)


async def test_v3_2_3_tokens_are_kept_in_cookies_and_stored_hashed(site: Site) -> None:
    """V3.2.3: the browser keeps the token only in an HttpOnly cookie (scripts never see
    it); the database keeps only its SHA-256, so a copy of the database logs nobody in."""
    client = await client_of(site)
    try:
        response = await log_in(client)
        token = cookie_of(client)
        assert "httponly" in response.headers["Set-Cookie"].lower()
        async with site.runtime.engine.connect() as conn:
            stored = set((await conn.execute(select(SessionRow.token_hash))).scalars())
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    finally:
        await client.close()


async def test_v3_3_1_logout_and_expiry_end_the_session(site: Site) -> None:
    """V3.3.1: after logout the token is refused even when sent again (the back button, a
    copy of the cookie); so it is once the session has expired."""
    client = await client_of(site)
    try:
        await log_in(client)
        token = cookie_of(client)
        csrf = (await (await client.get("/api/v1/me")).json())["csrf"]
        await client.post("/api/v1/logout", headers={"X-CSRF-Token": csrf})
        assert await me(client, token) == 401
        page = await client.get("/", cookies={SESSION: token}, allow_redirects=False)
        assert page.status == 302 and page.headers["Location"].startswith("/login")
    finally:
        await client.close()


async def test_v3_3_2_idle_and_absolute_timeouts(site: Site) -> None:
    """V3.3.2 (level 2: 12 hours or 30 minutes idle): a session ends after
    ``security.session_idle_minutes`` without a request, and ``security.session_hours``
    after the login however busy it is."""
    idle, busy = await client_of(site), await client_of(site)
    try:
        await log_in(idle)
        await log_in(busy)
        for _ in range(35):  # 11 h 40 min of a request every 20 minutes
            site.clock.advance(minutes=20)
            assert await me(busy) == 200
        assert await me(idle) == 401  # long idle
        site.clock.advance(minutes=20)
        assert await me(busy) == 401  # 12 hours since the login
        fresh = await client_of(site)
        await log_in(fresh)
        site.clock.advance(minutes=29)
        assert await me(fresh) == 200
        site.clock.advance(minutes=30)
        assert await me(fresh) == 401
        await fresh.close()
    finally:
        await idle.close()
        await busy.close()


async def test_v3_3_3_a_password_change_ends_every_session(site: Site) -> None:
    """V3.3.3: changing one's password ends every session of the account (all browsers);
    the browser that changed it gets a new session."""
    phone, desk = await client_of(site), await client_of(site)
    try:
        await log_in(phone)
        await log_in(desk)
        csrf = (await (await desk.get("/api/v1/me")).json())["csrf"]
        body = {"current_password": DEMO_PASSWORD, "new_password": "teh kawa daun kopi"}
        response = await desk.post("/api/v1/me/password", json=body, headers={"X-CSRF-Token": csrf})
        assert response.status == 200, await response.text()
        assert await me(phone) == 401
        assert await me(desk) == 200  # the new session
    finally:
        await phone.close()
        await desk.close()


async def cookie_attributes(site: Site, **headers: str) -> dict[str, str]:
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            site.server.make_url("/api/v1/login"),
            json={"username": "frontoffice", "password": DEMO_PASSWORD},
            headers=headers,
        )
        assert response.status == 200
        line = next(
            v for v in response.headers.getall("Set-Cookie") if SESSION in v.split("=", 1)[0]
        )
    name, _, rest = line.partition("=")
    attributes = {"name": name}
    for part in rest.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attributes[key.lower()] = value
    return attributes


async def test_v3_4_1_and_v3_4_4_secure_and_host_prefix_over_https(tmp_path: Path) -> None:
    """V3.4.1 and V3.4.4: served over HTTPS (``security.https``, or a trusted proxy's
    ``X-Forwarded-Proto``) the cookie is ``Secure`` and named ``__Host-…`` (path ``/``, no
    domain); a header from anyone else changes nothing."""
    config = site_config(tmp_path, security={"https": True})
    async with running_site(config) as site:
        cookie = await cookie_attributes(site)
        assert cookie["name"] == "__Host-" + SESSION and "secure" in cookie
        assert cookie["path"] == "/" and "domain" not in cookie
    config = site_config(tmp_path, security={"trusted_proxies": ["127.0.0.1"]})
    async with running_site(config) as site:
        assert "secure" in await cookie_attributes(site, **{"X-Forwarded-Proto": "https"})
        assert "secure" not in await cookie_attributes(site)
    async with running_site(site_config(tmp_path)) as site:
        untrusted = await cookie_attributes(site, **{"X-Forwarded-Proto": "https"})
        assert "secure" not in untrusted and untrusted["name"] == SESSION


async def test_v3_4_2_v3_4_3_v3_4_5_httponly_samesite_and_path(site: Site) -> None:
    """V3.4.2 HttpOnly, V3.4.3 SameSite=Strict, V3.4.5 path ``/`` (the daemon owns its host:
    the pages and the API under it share the login)."""
    cookie = await cookie_attributes(site)
    assert "httponly" in cookie and cookie["samesite"] == "Strict" and cookie["path"] == "/"


async def test_v3_5_2_device_tokens_are_bound_revocable_and_hashed(site: Site) -> None:
    """V3.5.2 (and V3.5.1 for our own tokens): the one static credential, a device's
    bearer token, is bound to its readers, stored only as a hash, and revoked at once."""
    admin = site["admin"]
    body = {"name": "agent", "role": "device", "readers": ["meja-pc-01"]}
    made = await admin.call(
        "POST", "/api/v1/tokens", {**body, "current_password": DEMO_PASSWORD}, expect=201
    )
    token = made["token"]
    async with site.runtime.engine.connect() as conn:
        dump = str((await conn.exec_driver_sql("SELECT * FROM api_tokens")).all())
    assert token not in dump
    auth = {"Authorization": f"Bearer {token}"}
    heartbeat = "/api/v1/readers/meja-pc-01/heartbeat"
    assert (await admin.client.post(heartbeat, headers=auth)).status == 204
    await admin.call("POST", "/api/v1/tokens/agent/revoke")
    assert (await admin.client.post(heartbeat, headers=auth)).status == 401


async def test_v3_5_3_the_signed_device_cookie_cannot_be_forged(site: Site) -> None:
    """V3.5.3: the one self-contained token, the known-device cookie, is signed (HMAC with
    a key from the site key file) and bound to its user; a changed one is a stranger's."""
    client = await client_of(site)
    try:
        await log_in(client, "admin")
        device = cookie_of(client, "bidroom_device")
        ident, mac = device.split(".")
        forged = f"{ident}.{'0' * len(mac)}"
        from service import throttle

        key = site.runtime.keys.derive("device-cookie")
        assert throttle.device_of(key, device, "admin") == ident
        assert throttle.device_of(key, device, "kepala") is None
        assert throttle.device_of(key, forged, "admin") is None
    finally:
        await client.close()


async def test_v3_7_1_sensitive_changes_ask_for_the_password_again(site: Site) -> None:
    """V3.7.1: a changed password, a new account, a new role or a new token need the
    session's own password again; a wrong one is refused and counted as a failed login."""
    admin, fo = site["admin"], site["fo"]
    wrong = {"current_password": "bukan-sandi-saya"}
    await fo.call("POST", "/api/v1/me/password", {**wrong, "new_password": "x y z w v u t"}, 403)
    await admin.call("POST", "/api/v1/staff/helpdesk/role", {**wrong, "role": "head"}, 403)
    body = {"name": "a", "role": "device", "readers": ["meja-pc-01"]}
    await admin.call("POST", "/api/v1/tokens", {**body, **wrong}, 403)
    missing = await admin.call("POST", "/api/v1/staff/helpdesk/role", {"role": "head"}, 422)
    assert missing["field"] == "current_password"
    locks = await admin.call("GET", "/api/v1/login-locks")
    assert {(lock["value"], lock["failures"]) for lock in locks if lock["kind"] == "account"} == {
        ("frontoffice", 1),
        ("admin", 2),
    }


async def test_login_takes_json_or_the_pages_own_form_only(site: Site) -> None:
    """Not a V3 item, but the login's front door: ``/api/v1/login`` takes JSON only,
    ``/login`` the page's own URL-encoded form with its token (415 otherwise)."""
    client = await client_of(site)
    try:
        form = f"username=frontoffice&password={DEMO_PASSWORD}"
        for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
            response = await client.post("/api/v1/login", data=form, headers={"Content-Type": kind})
            assert response.status == 415
        response = await client.post(
            "/login",
            data='{"username": "frontoffice"}',
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 415
        no_token = await client.post(
            "/login", data={"username": "frontoffice", "password": DEMO_PASSWORD}
        )
        assert no_token.status == 422 and SESSION not in {c.key for c in client.session.cookie_jar}
        page = await (await client.get("/login?next=/day")).text()
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        done = await client.post(
            "/login",
            data={
                "csrf": token.group(1),
                "next": "/day",
                "username": "frontoffice",
                "password": DEMO_PASSWORD,
            },
            allow_redirects=False,
        )
        assert done.status == 303 and done.headers["Location"] == "/day"
        assert await me(client) == 200
    finally:
        await client.close()
