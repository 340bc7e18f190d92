"""The badges page and the staff and devices page in Debian's Chromium at 1366x768:
enrol a badge by a (simulated) front-desk tap, lost with a reason then found; a device
token made for a reader, listed, revoked and refused within a second; a staff account
added, disabled, and its session ended."""

from __future__ import annotations

import re
import time
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from service.demo import DEMO_PASSWORD
from tests.browser.sop_steps import WAIT, demo_tap

pytestmark = pytest.mark.browser
NEW_UID = "04C0FFEE00BB01"


async def open_page(context: Any, url: str) -> Page:
    page = await context.new_page()
    await page.goto(url)
    return page


async def fits(page: Page, selector: str) -> None:
    box = await page.locator(selector).bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768, (selector, box)


async def test_enrol_by_tap_then_lost_with_a_reason_then_found(
    site: Any, browser: Any, demo_login: Any
) -> None:
    context = await demo_login(browser, site, "admin")
    badges = await open_page(context, site.url + "/badges")
    await expect(badges.locator("#badge-rows tr")).to_have_count(30, timeout=WAIT)
    state = badges.get_by_test_id("enrol-state")
    await expect(state).to_contain_text("Mode daftar tidak aktif")
    await expect(state).to_contain_text("K-031")
    await badges.click("#enrol-start")
    await badges.click("#enrol-start")  # a double click arms once, nothing else
    await expect(state).to_have_attribute("data-armed", "1", timeout=WAIT)
    await expect(state).to_contain_text("front-office")
    await fits(badges, "#enrol-start")

    board = await open_page(context, site.url + "/")
    said = await demo_tap(board, "front-office", NEW_UID)
    assert "Kartu baru didaftarkan" in said and "K-031" in said, said
    row = badges.locator('#badge-rows tr[data-label="K-031"]')
    await expect(row).to_contain_text("Tersedia", timeout=WAIT)
    await expect(badges.locator("#enrol-notice")).to_contain_text("Kartu baru terdaftar: K-031")
    await expect(state).to_have_attribute("data-armed", "0")
    # The mode ended: a second new badge is refused as unknown.
    again = await demo_tap(board, "front-office", "04C0FFEE00BB02")
    assert "Kartu tidak dikenal" in again, again

    # Lost: the reason is required (said in Indonesian, nothing changes), then saved.
    await badges.fill("#filter-text", "K-031")
    await expect(badges.locator("#badge-rows tr")).to_have_count(1)
    await row.locator("button[data-action=lost]").click()
    await badges.click("#action-form button[type=submit]")
    await expect(badges.locator("#action-form .form-error")).to_have_text("Alasan wajib diisi.")
    await expect(row).to_contain_text("Tersedia")
    await badges.fill("#action-reason", "Tertinggal di meja lobi")
    await badges.dblclick("#action-form button[type=submit]")
    await expect(row).to_contain_text("Hilang", timeout=WAIT)
    await expect(row).to_contain_text("Tertinggal di meja lobi")
    await expect(badges.locator("#action-box")).to_be_hidden()
    lost = await demo_tap(board, "pintu-masuk", NEW_UID)
    assert "Kartu dilaporkan hilang" in lost, lost
    # Found, with its own reason; the state filter shows it among the available ones.
    await row.locator("button[data-action=found]").click()
    await badges.fill("#action-reason", "Diserahkan satpam")
    await badges.click("#action-form button[type=submit]")
    await expect(row).to_contain_text("Tersedia", timeout=WAIT)
    await badges.select_option("#filter-state", "available")
    await expect(row).to_be_visible()
    await badges.select_option("#filter-state", "lost")
    await expect(badges.locator('#badge-rows tr[data-label="K-031"]')).to_have_count(0)
    # After a reload the badge and its last reason are still there.
    await badges.reload()
    await badges.fill("#filter-text", "K-031")
    await expect(row).to_contain_text("Diserahkan satpam", timeout=WAIT)
    await context.close()


async def test_front_office_sees_the_pool_but_cannot_enrol(
    site: Any, browser: Any, demo_login: Any
) -> None:
    context = await demo_login(browser, site, "frontoffice")
    badges = await open_page(context, site.url + "/badges")
    await expect(badges.locator("#badge-rows tr")).to_have_count(30, timeout=WAIT)
    await expect(badges.locator("#enrol-form")).to_have_count(0)
    await expect(badges.locator("main")).to_contain_text("Hanya administrator")
    await expect(badges.locator("button[data-action=retire]")).to_have_count(0)
    admin = await open_page(context, site.url + "/admin")
    assert "Staf dan perangkat" not in await admin.content()
    await context.close()


async def tap_status(site: Any, token: str, event_id: str) -> int:
    body = {"reader": "meja-pc-01", "uid": "04C0FFEE00CC01", "event_id": event_id}
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(site.url + "/api/v1/taps", json=body, headers=headers) as response,
    ):
        return response.status


async def test_device_token_made_listed_revoked_and_refused_within_a_second(
    site: Any, browser: Any, demo_login: Any
) -> None:
    context = await demo_login(browser, site, "admin")
    page = await open_page(context, site.url + "/admin")
    await page.click("#token-add-box summary")
    await page.fill("#token-name", "agen-pc-01")
    await page.fill("#token-current", DEMO_PASSWORD)
    await page.click("#token-add button[type=submit]")  # no reader ticked: refused plainly
    await expect(page.locator("#token-add .form-error")).to_contain_text("pembaca kartu")
    await page.check('#token-readers input[value="meja-pc-01"]')
    await page.click("#token-add button[type=submit]")
    shown = page.get_by_test_id("token-shown")
    await expect(shown).to_be_visible(timeout=WAIT)
    token = (await page.locator("#token-value").text_content()) or ""
    assert token.startswith("brt_"), token
    row = page.locator('#token-rows tr[data-token="agen-pc-01"]')
    await expect(row).to_contain_text("meja-pc-01")
    await expect(row).to_contain_text("Berlaku")
    await expect(row).to_contain_text("belum pernah dipakai")
    assert token not in (await page.locator("#token-rows").text_content() or "")
    assert await tap_status(site, token, "tok-1") == 200
    await page.click("#token-hide")
    await expect(shown).to_be_hidden()

    await row.locator("button[data-act=revoke]").click()
    await row.locator("button[data-confirm=yes]").click()
    revoked_at = time.monotonic()
    await expect(row).to_contain_text("Dicabut", timeout=WAIT)
    status = 200
    n = 0
    while status == 200 and time.monotonic() - revoked_at < 1.0:
        n += 1
        status = await tap_status(site, token, f"tok-after-{n}")
    assert status in (401, 403), status
    assert time.monotonic() - revoked_at < 1.5
    await page.reload()
    after = page.locator('#token-rows tr[data-token="agen-pc-01"]')
    await expect(after).to_contain_text("Dicabut", timeout=WAIT)
    await expect(after).to_contain_text("terakhir dipakai")
    await context.close()


async def test_staff_account_added_then_disabled_ends_its_session(
    site: Any, browser: Any, demo_login: Any
) -> None:
    context = await demo_login(browser, site, "admin")
    page = await open_page(context, site.url + "/admin")
    await expect(page.locator('#staff-rows tr[data-username="admin"]')).to_be_visible(timeout=WAIT)
    await page.click("#staff-add-box summary")
    await page.fill("#add-username", "petugas2")
    await page.fill("#add-name", "Petugas Dua")
    await page.select_option("#add-role", "front_office")
    await page.fill("#add-password", "pendek")
    await page.fill("#add-current", DEMO_PASSWORD)
    await page.click("#staff-add button[type=submit]")
    await expect(page.locator("#staff-add .form-error")).to_contain_text("minimal 12 karakter")
    await expect(page.locator('#staff-rows tr[data-username="petugas2"]')).to_have_count(0)
    await page.fill("#add-password", "meja-depan-jambi-2026")
    await page.click("#staff-add button[type=submit]")
    row = page.locator('#staff-rows tr[data-username="petugas2"]')
    await expect(row).to_contain_text("Petugas Front Office", timeout=WAIT)
    await expect(row.locator("td").nth(3)).to_have_text("Akun aktif")

    # The new officer logs in and works.
    theirs = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    clerk = await theirs.new_page()
    await clerk.goto(site.url + "/login")
    await clerk.fill("#username", "petugas2")
    await clerk.fill("#password", "meja-depan-jambi-2026")
    await clerk.click("button[type=submit]")
    await clerk.wait_for_url(site.url + "/")
    assert (await clerk.request.get(site.url + "/api/v1/me")).status == 200

    # Disabled: a second, explicit click; the session ends.
    await row.locator("button[data-act=disable]").click()
    await row.locator("button[data-confirm=yes]").click()
    await expect(row.locator("button[data-act=enable]")).to_be_visible(timeout=WAIT)
    await expect(row.locator("td").nth(3)).to_have_text("Akun nonaktif")
    assert (await clerk.request.get(site.url + "/api/v1/me")).status == 401
    await clerk.goto(site.url + "/arrival")
    await expect(clerk).to_have_url(re.compile(r"/login\?next=(%2F|/)arrival"), timeout=WAIT)

    # The only admin cannot demote themself: said plainly, nothing changes.
    mine = page.locator('#staff-rows tr[data-username="admin"]')
    await mine.locator("button[data-act=edit]").click()
    await page.select_option("#edit-role", "front_office")
    await page.fill("#edit-current", DEMO_PASSWORD)
    await page.click("#staff-edit button[type=submit]")
    await expect(page.locator("#staff-edit .form-error")).to_contain_text(
        "administrator aktif terakhir"
    )
    await expect(mine).to_contain_text("Administrator")
    await theirs.close()
    await context.close()


async def test_enrol_mode_survives_a_daemon_restart(
    site: Any, browser: Any, demo_login: Any
) -> None:
    context = await demo_login(browser, site, "admin")
    badges = await open_page(context, site.url + "/badges")
    await badges.fill("#enrol-label", "Cadangan-1")
    await badges.click("#enrol-start")
    state = badges.get_by_test_id("enrol-state")
    await expect(state).to_contain_text("Cadangan-1", timeout=WAIT)
    await site.stop()
    await expect(badges.locator("#conn")).to_have_text(re.compile("Terputus"), timeout=WAIT)
    await site.start()
    await badges.reload()
    await expect(state).to_have_attribute("data-armed", "1", timeout=WAIT)
    await expect(state).to_contain_text("Cadangan-1")
    board = await open_page(context, site.url + "/")
    said = await demo_tap(board, "front-office", NEW_UID)
    assert "Kartu baru didaftarkan" in said and "Cadangan-1" in said, said
    await expect(badges.locator('#badge-rows tr[data-label="Cadangan-1"]')).to_contain_text(
        "Tersedia", timeout=WAIT
    )
    await context.close()
