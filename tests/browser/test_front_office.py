"""Front-office pages in a real browser: login and roles, language, forms, fit, live link."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from service.demo import demo_uid
from tests.browser.sop_steps import NIK, WAIT, WIB, Api, fill_all_pcs, fill_arrival

pytestmark = pytest.mark.browser


async def test_pages_need_login_and_roles(site: Any, browser: Any, demo_login: Any) -> None:
    context = await browser.new_context(locale="id-ID")
    page = await context.new_page()
    await page.goto(site.url + "/arrival")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.fill("#username", "frontoffice")
    await page.fill("#password", "salah")
    await page.click("button[type=submit]")
    await expect(page.locator(".form-error")).not_to_be_empty(timeout=WAIT)
    await context.close()

    helpdesk = await demo_login(browser, site, "helpdesk")
    page = await helpdesk.new_page()
    await page.goto(site.url + "/")
    nav = page.get_by_role("navigation")
    await expect(nav.get_by_role("link", name="Helpdesk")).to_be_visible()
    await expect(nav.get_by_role("link", name="Kedatangan")).to_have_count(0)
    response = await page.goto(site.url + "/arrival")
    assert response is not None and response.status == 403
    await expect(page.get_by_role("heading", name="Akses ditolak")).to_be_visible()
    await helpdesk.close()


async def test_english_switch_is_remembered(site: Any, browser: Any, demo_login: Any) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/")
    await expect(page.get_by_role("heading", name="Jumlah di dalam ruangan")).to_be_visible()
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", name="People inside")).to_be_visible(timeout=WAIT)
    await page.goto(site.url + "/arrival")
    await expect(page.get_by_role("heading", name="Bidding-room access form")).to_be_visible()
    await page.fill("#doc_number", "12")
    await expect(page.locator("#nik-msg")).to_have_text("NIK must be 16 digits.", timeout=WAIT)
    await page.get_by_role("button", name="Bahasa Indonesia").click()
    await expect(page.get_by_role("heading", name="Formulir Akses Bidding Room")).to_be_visible(
        timeout=WAIT
    )
    await fo.close()


async def test_returning_visitor_is_prefilled(site: Any, browser: Any, demo_login: Any) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/arrival")
    api = await Api(page, site.url).start()
    await api.visit(1, doc_type="ktp", doc_number=NIK, name="Sari Dewi", npwp=None)
    await page.fill("#doc_number", NIK)
    await expect(page.locator("#lookup-msg")).to_contain_text("Pengunjung lama", timeout=WAIT)
    await expect(page.locator("#name")).to_have_value("Sari Dewi")
    await expect(page.locator("#company")).to_have_value("CV Contoh 1")
    await fo.close()


async def test_back_entry_needs_and_keeps_the_arrival_time(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/arrival")
    await page.select_option("#doc_type", "sim")
    await page.fill("#doc_number", "123456789012")
    await fill_arrival(page)
    await page.check("#rules_ack")
    await page.check("#privacy_ack")
    await page.check("#back_entered")
    await page.click("#arrival button[type=submit]")
    # No arrival time: the server names the field, the form keeps everything typed.
    await expect(page.locator('[data-error-for="arrived_at"]')).not_to_be_empty(timeout=WAIT)
    await expect(page.locator("#arrived_at")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#company")).to_have_value("CV Maju Jaya")
    arrived = datetime.now(WIB).replace(second=0, microsecond=0) - timedelta(minutes=1)
    await page.fill("#arrived_at", arrived.strftime("%Y-%m-%dT%H:%M"))
    await page.click("#arrival button[type=submit]")
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    # No reader at hand: the officer issues a badge by its label instead.
    await page.fill("#badge-label", "K-005")
    await page.get_by_role("button", name="Berikan kartu").click()
    await expect(page.locator("#badge-result")).to_contain_text("K-005", timeout=WAIT)
    day = await fo.new_page()
    await day.goto(f"{site.url}/day?day={arrived.date().isoformat()}")
    row = day.locator("#day-visits tr", has_text="Budi Santoso")
    await expect(row).to_contain_text(arrived.strftime("%H.%M") + " WIB", timeout=WAIT)
    await fo.close()


async def test_board_fits_the_desk_monitor_and_roll_call_a_phone(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    board = await fo.new_page()
    await board.goto(site.url + "/")
    api = await Api(board, site.url).start()
    await fill_all_pcs(api, first=True)
    for n in range(2, 9):
        await api.post(
            "/api/v1/taps", {"reader": "pintu-masuk", "uid": demo_uid(n), "event_id": f"fit-{n}"}
        )
    await expect(board.locator("#occ-inside")).to_have_text("7", timeout=WAIT)
    # The whole board on one 1366x768 screen: no page scrolling.
    size = await board.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert size[0] <= 1366 and size[1] <= 768, size
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        locale="id-ID",
        storage_state=await fo.storage_state(),
    )
    page = await phone.new_page()
    await page.goto(site.url + "/roll-call")
    await expect(page.locator("#rc-count")).to_have_text("7", timeout=WAIT)
    await expect(page.locator("#rc-people")).to_contain_text("Pengunjung 2")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    await phone.close()
    await fo.close()


async def test_staff_checkout_from_the_open_visits(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/return")
    api = await Api(page, site.url).start()
    devices = [{"kind": "Laptop", "serial": "SN-9"}]
    visit = await api.visit(3, devices=devices)
    await api.post(f"/api/v1/visits/{visit['id']}/badge", {"label": "K-003"})
    await page.fill("#search", "pengunjung 3")
    await page.get_by_role("button", name=re.compile("Pengunjung 3")).click()
    await expect(page.locator("#cur-slot")).to_have_text(visit["deposit"]["slot"], timeout=WAIT)
    await page.get_by_label(re.compile("Laptop")).check()
    await page.get_by_role("button", name="Kartu kembali (tutup kunjungan)").click()
    await expect(page.locator("#cur-meta")).to_contain_text("Selesai", timeout=WAIT)
    await page.get_by_role("button", name="Serahkan kartu identitas").click()
    await expect(page.locator("#cur-notice")).to_contain_text("sudah diserahkan", timeout=WAIT)
    closed = await page.request.get(f"{site.url}/api/v1/visits/{visit['id']}")
    assert (await closed.json())["devices_checked"] is True
    await fo.close()


async def test_refused_call_is_explained(site: Any, browser: Any, demo_login: Any) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    board = await fo.new_page()
    await board.goto(site.url + "/")
    api = await Api(board, site.url).start()
    number = await fill_all_pcs(api, first=True)
    queue = board.locator("#queue")
    await expect(queue).to_contain_text(number, timeout=WAIT)
    # Every PC is taken: the server refuses to call, and the board says why.
    await queue.get_by_role("button", name="Panggil berikutnya").click()
    await expect(board.locator("#toast")).to_have_text(
        "Belum ada fasilitas yang kosong.", timeout=WAIT
    )
    await fo.close()


async def test_board_shows_disconnect_and_reconnects(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    board = await fo.new_page()
    await board.goto(site.url + "/")
    conn = board.locator("#conn")
    await expect(conn).to_have_text("Tersambung", timeout=WAIT)
    await site.stop()
    await expect(conn).to_contain_text("Terputus", timeout=WAIT)
    await site.start()  # same port, same database: the session cookie still holds
    await expect(conn).to_have_text("Tersambung", timeout=15000)
    api = await Api(board, site.url).start()
    visit = await api.visit(1)
    await api.post(f"/api/v1/visits/{visit['id']}/badge", {"label": "K-001"})
    await api.post(
        "/api/v1/taps", {"reader": "pintu-masuk", "uid": demo_uid(1), "event_id": "reconnect-1"}
    )
    await expect(board.locator("#occ-inside")).to_have_text("1", timeout=WAIT)
    await fo.close()
