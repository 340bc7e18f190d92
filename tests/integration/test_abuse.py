"""Abuse, through the real application: device tokens bound to readers and revoked,
logins throttled and locked, weak passwords refused, accounts disabled, reset and
given another role, each ending the sessions concerned."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from service import throttle
from service.demo import DEMO_PASSWORD, demo_uid
from service.store.tables import ApiTokenRow
from tests.support.hostile import assert_plain
from tests.support.site import Site, login, running_site, site_config

PROXY = {"trusted_proxies": ["127.0.0.1"]}


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with running_site(site_config(tmp_path, security=PROXY)) as running:
        yield running


async def fresh(site: Site) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(site.server)
    await client.start_server()
    return client


async def attempt(
    client: TestClient[Any, Any], username: str, password: str, address: str = "10.0.0.9"
) -> Any:
    return await client.post(
        "/api/v1/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def device_token(site: Site, name: str, readers: list[str]) -> str:
    body = {"name": name, "role": "device", "readers": readers, "current_password": DEMO_PASSWORD}
    return str((await site["admin"].call("POST", "/api/v1/tokens", body, expect=201))["token"])


async def tap(site: Site, token: str, reader: str, event_id: str) -> Any:
    body = {"reader": reader, "uid": demo_uid(1), "event_id": event_id}
    return await site["fo"].client.post(
        "/api/v1/taps", json=body, headers={"Authorization": f"Bearer {token}"}
    )


async def test_a_device_token_taps_only_at_its_readers(site: Site) -> None:
    token = await device_token(site, "agent-pc-01", ["meja-pc-01"])
    assert (await tap(site, token, "meja-pc-01", "d-1")).status == 200
    other = await tap(site, token, "pintu-masuk", "d-2")
    said = await other.json()
    assert other.status == 403 and "pintu-masuk" in said["message"]
    assert_plain(said, field="reader")
    client = site["fo"].client
    auth = {"Authorization": f"Bearer {token}"}
    mine = await client.post("/api/v1/readers/meja-pc-01/heartbeat", headers=auth)
    assert mine.status == 204
    theirs = await client.post("/api/v1/readers/pintu-masuk/heartbeat", headers=auth)
    assert theirs.status == 403
    # Nothing was decided for the refused tap.
    events = await site["fo"].call("GET", "/api/v1/access-events")
    assert [e["reader"] for e in events] == ["meja-pc-01"]


async def test_a_device_token_must_name_known_readers(site: Site) -> None:
    admin = site["admin"]
    # None named: the schema's rule across fields (422); one not configured: 404.
    for readers, status in (([], 422), (["no-such-reader"], 404)):
        body = {"name": "x", "role": "device", "readers": readers}
        said = await admin.call(
            "POST", "/api/v1/tokens", {**body, "current_password": DEMO_PASSWORD}, expect=status
        )
        assert_plain(said, field="readers")


async def test_tokens_are_listed_without_secrets_and_revoked_at_once(site: Site) -> None:
    token = await device_token(site, "agent-pc-02", ["meja-pc-02", "meja-pc-03"])
    listed = await site["admin"].call("GET", "/api/v1/tokens")
    assert [(t["name"], t["readers"], t["revoked_at"]) for t in listed] == [
        ("agent-pc-02", ["meja-pc-02", "meja-pc-03"], None)
    ]
    assert token not in str(listed)
    assert (await tap(site, token, "meja-pc-02", "r-1")).status == 200
    await site["admin"].call("POST", "/api/v1/tokens/agent-pc-02/revoke")
    assert (await tap(site, token, "meja-pc-02", "r-2")).status == 401  # at once, here
    said = await site["admin"].call("POST", "/api/v1/tokens/agent-pc-02/revoke", expect=404)
    assert_plain(said)
    listed = await site["admin"].call("GET", "/api/v1/tokens")
    assert listed[0]["revoked_by"] == "admin"


async def test_a_revocation_elsewhere_takes_effect_within_a_second(site: Site) -> None:
    """Another daemon (or the CLI) revokes in the database: refused within the 1 s TTL."""
    token = await device_token(site, "agent-pc-04", ["meja-pc-04"])
    assert (await tap(site, token, "meja-pc-04", "e-1")).status == 200
    async with site.runtime.engine.begin() as conn:
        await conn.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.name == "agent-pc-04")
            .values(revoked_at=site.clock())
        )
    revoked = time.monotonic()
    n = 1
    while (await tap(site, token, "meja-pc-04", f"e-{n + 1}")).status != 401:
        assert time.monotonic() - revoked < 1.5, "still accepted 1.5 s after the revocation"
        n += 1
        await asyncio.sleep(0.05)


async def test_failed_logins_wait_longer_then_lock_until_an_admin_lifts(site: Site) -> None:
    client = await fresh(site)
    try:
        for _ in range(3):
            assert (await attempt(client, "kepala", "salah-sekali")).status == 401
        waiting = await attempt(client, "kepala", DEMO_PASSWORD)  # even the right one waits
        said = await waiting.json()
        assert waiting.status == 429 and waiting.headers["Retry-After"] == "1"
        assert_plain(said)
        delays = []
        for _ in range(7):  # failures 4 .. 10: 1, 2, 4, 8, 16, 32 s, then the lock
            site.clock.advance(seconds=60)
            assert (await attempt(client, "kepala", "salah-lagi")).status == 401
            response = await attempt(client, "kepala", "salah-lagi")
            delays.append(int(response.headers["Retry-After"]))
        assert delays[:6] == [2, 4, 8, 16, 32, 60]
        site.clock.advance(hours=5)
        locked = await attempt(client, "kepala", DEMO_PASSWORD)
        said = await locked.json()
        assert locked.status == 429 and "administrator" in said["message"]
        assert_plain(said)
        admin = await login(site.server, "admin")  # the first admin session has idled out
        locks = await admin.call("GET", "/api/v1/login-locks")
        assert {"kind": "account", "value": "kepala"} in [
            {"kind": lock["kind"], "value": lock["value"]} for lock in locks if lock["locked"]
        ]
        # A lift that names nothing (or only blanks) is refused and lifts nothing.
        for nothing in ({}, {"account": " ", "address": None}):
            said = await admin.call("POST", "/api/v1/login-locks/lift", nothing, expect=422)
            assert_plain(said, field="account")
        assert (await attempt(client, "kepala", DEMO_PASSWORD)).status == 429
        await admin.call("POST", "/api/v1/login-locks/lift", {"account": "kepala"})
        assert (await attempt(client, "kepala", DEMO_PASSWORD)).status == 200
        await admin.client.close()
    finally:
        await client.close()


async def test_nobody_locks_the_admin_out_of_the_admins_own_browser(site: Site) -> None:
    """The admin's browser logged in before (known-device cookie); an attacker from
    another address, and one from the admin's own address, lock the account and the
    address. The admin's browser still gets in; a new browser waits for the unlock."""
    admins_browser, attacker = await fresh(site), await fresh(site)
    try:
        assert (await attempt(admins_browser, "admin", DEMO_PASSWORD, "10.0.0.2")).status == 200
        for n in range(10):  # the account, from elsewhere
            site.clock.advance(minutes=2)
            assert (await attempt(attacker, "admin", f"tebakan-{n}", "10.0.0.66")).status == 401
        for n in range(50):  # the office's own address, with other names
            site.clock.advance(minutes=2)
            assert (await attempt(attacker, f"user{n}", "tebakan", "10.0.0.2")).status == 401
        locked = {
            (lock["kind"], lock["value"])
            for lock in await throttle.locks(site.runtime.engine, site.clock())
            if lock["locked"]
        }
        assert {("account", "admin"), ("address", "10.0.0.2")} <= locked
        for where in ("10.0.0.66", "10.0.0.2", "10.0.0.3"):
            assert (await attempt(attacker, "admin", DEMO_PASSWORD, where)).status == 429
        assert (await attempt(admins_browser, "admin", DEMO_PASSWORD, "10.0.0.2")).status == 200
    finally:
        await admins_browser.close()
        await attacker.close()


async def test_weak_passwords_are_refused(site: Site) -> None:
    admin = site["admin"]
    base = {"username": "petugas9", "name": "Petugas", "role": "helpdesk"}
    base["current_password"] = DEMO_PASSWORD
    for weak in ("12345678", "password", "qwerty123456", "1q2w3e4r5t6y", "petugas9-rahasia"):
        said = await admin.call("POST", "/api/v1/staff", {**base, "password": weak}, expect=422)
        assert_plain(said, field="password")
    await admin.call("POST", "/api/v1/staff", {**base, "password": "kopi tubruk di jambi"}, 201)


async def test_disable_enable_reset_and_role_end_the_sessions(site: Site) -> None:
    admin, hd = site["admin"], site["hd"]
    await admin.call("POST", "/api/v1/staff/helpdesk/disable")
    assert (await hd.client.get("/api/v1/me")).status == 401
    client = await fresh(site)
    try:
        assert (await attempt(client, "helpdesk", DEMO_PASSWORD)).status == 401
        await admin.call("POST", "/api/v1/staff/helpdesk/enable")
        assert (await attempt(client, "helpdesk", DEMO_PASSWORD)).status == 200
        reset = {"new_password": "sandi-baru-yang-panjang", "current_password": DEMO_PASSWORD}
        await admin.call("POST", "/api/v1/staff/helpdesk/password", reset)
        assert (await client.get("/api/v1/me")).status == 401
        assert (await attempt(client, "helpdesk", "sandi-baru-yang-panjang")).status == 200
        body = {"role": "front_office", "current_password": DEMO_PASSWORD}
        await admin.call("POST", "/api/v1/staff/helpdesk/role", body)
        assert (await client.get("/api/v1/me")).status == 401
        assert (await attempt(client, "helpdesk", "sandi-baru-yang-panjang")).status == 200
        assert (await (await client.get("/api/v1/me")).json())["role"] == "front_office"
    finally:
        await client.close()


async def test_the_last_admin_stays(site: Site) -> None:
    admin = site["admin"]
    said = await admin.call("POST", "/api/v1/staff/admin/disable", expect=409)
    assert_plain(said)
    body = {"role": "head", "current_password": DEMO_PASSWORD}
    await admin.call("POST", "/api/v1/staff/admin/role", body, expect=409)


async def test_only_the_head_signs(site: Site) -> None:
    day = (await site["fo"].call("GET", "/api/v1/status"))["day"]
    await site["fo"].call("POST", f"/api/v1/days/{day}/close", {"note": "Uji pengesahan"})
    said = await site["admin"].call("POST", f"/api/v1/days/{day}/sign", expect=403)
    assert_plain(said)
    await site["admin"].call("POST", f"/api/v1/days/{day}/amendments/sign", expect=403)
    assert (await site["head"].call("POST", f"/api/v1/days/{day}/sign"))["signed_by"] == "kepala"


async def test_attempts_at_once_cannot_slip_under_the_limit(site: Site) -> None:
    """Ten wrong passwords sent at the same instant: three are checked, seven wait; ten
    right ones at once (a room of clerks after a restart) all get in."""
    client = await fresh(site)
    try:
        wrong = await asyncio.gather(*(attempt(client, "kepala", f"salah-{n}") for n in range(10)))
        assert sorted(r.status for r in wrong) == [401] * 3 + [429] * 7
        site.clock.advance(minutes=5)
        right = await asyncio.gather(
            *(attempt(client, "frontoffice", DEMO_PASSWORD, f"10.0.1.{n}") for n in range(10))
        )
        assert [r.status for r in right] == [200] * 10
    finally:
        await client.close()
