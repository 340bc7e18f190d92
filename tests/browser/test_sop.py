"""The SOP walked in a real browser, as the front office would, against the real daemon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.browser.sop_steps import NIK, WAIT, Api, demo_tap, fill_all_pcs, fill_arrival

pytestmark = pytest.mark.browser


async def arrival_with_nik(fo: BrowserContext, site: Any, board: Page) -> Page:
    page = await fo.new_page()
    await page.goto(site.url + "/arrival")
    await page.fill("#doc_number", "1571011508")
    await expect(page.locator("#nik-msg")).to_have_text("NIK harus 16 digit.", timeout=WAIT)
    await page.fill("#doc_number", "9999011508850001")
    await expect(page.locator("#nik-msg")).to_contain_text("Kode wilayah", timeout=WAIT)
    await page.fill("#doc_number", NIK)
    await expect(page.locator("#nik-msg")).to_contain_text("NIK valid", timeout=WAIT)
    await fill_arrival(page)
    # Without the house-rules acknowledgement the server refuses; what was typed stays.
    await page.click("#arrival button[type=submit]")
    await expect(page.locator("#arrival .form-error")).not_to_be_empty(timeout=WAIT)
    await expect(page.locator("#name")).to_have_value("Budi Santoso")
    await page.check("#rules_ack")
    await page.check("#privacy_ack")
    await page.click("#arrival button[type=submit]")
    await expect(page.locator("#tap-instruction")).to_contain_text(
        "Tempelkan kartu pada pembaca front office", timeout=WAIT
    )
    await expect(page.locator("#after-slot")).not_to_be_empty()
    # The badge is bound by a tap on the front-desk reader and shows at once.
    assert "Diizinkan" in await demo_tap(board, "front-office", "K-001")
    await expect(page.locator("#badge-result")).to_contain_text("K-001", timeout=WAIT)
    return page


@pytest.mark.timeout(240)
async def test_sop_walk(site: Any, browser: Any, demo_login: Any) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    board = await fo.new_page()
    await board.goto(site.url + "/")
    second = await fo.new_page()
    await second.goto(site.url + "/")
    await expect(second.locator("#occ-inside")).to_have_text("0", timeout=WAIT)
    returns = await fo.new_page()
    await returns.goto(site.url + "/return")
    display_ctx = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    display = await display_ctx.new_page()
    await display.goto(site.url + "/queue-display")
    await expect(display.locator("#called")).to_contain_text("Belum ada nomor", timeout=WAIT)

    arrival = await arrival_with_nik(fo, site, board)
    slot = await arrival.locator("#after-slot").inner_text()

    # A door tap turns occupancy up on the second status page, without a reload.
    assert "Silakan masuk" in await demo_tap(board, "pintu-masuk", "K-001")
    await expect(second.locator("#occ-inside")).to_have_text("1", timeout=1000)

    api = await Api(board, site.url).start()
    await queue_round(board, second, display, api)
    await help_request_round(board, browser, site, demo_login)
    await return_round(board, returns, slot)
    await day_close_and_sign(fo, api, browser, site, demo_login)
    await display_ctx.close()
    await fo.close()


async def queue_round(board: Page, second: Page, display: Page, api: Api) -> None:
    """All PCs taken: the next visitor is queued; ending one usage calls the number."""
    number = await fill_all_pcs(api)
    await expect(second.locator("#queue")).to_contain_text(number, timeout=WAIT)
    assert "dimulai" in await demo_tap(board, "meja-pc-01", "K-001")
    assert "selesai" in await demo_tap(board, "meja-pc-01", "K-001")
    called = second.locator("#queue li.called")
    await expect(called).to_contain_text(number, timeout=WAIT)
    await expect(called).to_contain_text("PC-01")
    await expect(second.locator('[data-facility="PC-01"]')).to_contain_text(number)
    ticket = display.locator(f'.tv-ticket[data-number="{number}"]')
    await expect(ticket).to_contain_text("PC-01", timeout=WAIT)
    await expect(display.locator("body")).to_have_attribute("data-chimes", "1")


async def return_round(board: Page, returns: Page, slot: str) -> None:
    """The badge comes back at the front desk: the return page opens the visit, slot first."""
    assert "dikembalikan" in await demo_tap(board, "front-office", "K-001")
    await expect(returns.locator("#cur-slot")).to_have_text(slot, timeout=WAIT)
    await expect(returns.locator("#cur-name")).to_have_text("Budi Santoso")
    await expect(returns.locator("#cur-devices")).to_contain_text("SN-001")
    await returns.click("#do-return")
    await expect(returns.locator("#cur-notice")).to_contain_text("sudah diserahkan", timeout=WAIT)


async def help_request_round(board: Page, browser: Any, site: Any, demo_login: Any) -> None:
    await board.click("details.help-card-raise summary, .help details summary")
    await board.select_option("#hf-category", "network")
    await board.select_option("#hf-facility", "PC-02")
    await board.fill("#hf-problem", "Hotspot tidak tersambung")
    await board.click(".help-form button[type=submit]")
    await expect(board.locator("#help")).to_contain_text("Hotspot tidak tersambung", timeout=WAIT)

    desk = await demo_login(browser, site, "helpdesk")
    page = await desk.new_page()
    await page.goto(site.url + "/helpdesk")
    item = page.locator("#requests li.help-item").first
    await expect(item).to_contain_text("PC-02", timeout=WAIT)
    await item.get_by_role("button", name="Ambil").click()
    await expect(item).to_contain_text("Ditangani oleh helpdesk", timeout=WAIT)
    await item.get_by_label("Penyelesaian").fill("Kabel jaringan dipasang ulang")
    await item.get_by_role("button", name="Selesaikan").click()
    await expect(page.locator("#resolved")).to_contain_text("Kabel jaringan", timeout=WAIT)
    await expect(board.locator("#help")).not_to_contain_text("Hotspot tidak", timeout=WAIT)
    await desk.close()


async def late_forms_justified_on_the_board(fo: Any, api: Api, site: Any) -> None:
    """Two forms started 10 minutes before they were saved breach step 2's 5-minute
    standard; one is justified right on the status board."""
    started = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    for n in (20, 21):
        late = await api.visit(n, form_started_at=started)
        await api.post(f"/api/v1/visits/{late['id']}/badge", {"label": f"K-{n:03d}"})
    board = await fo.new_page()
    await board.goto(site.url + "/")
    first = board.locator("#breaches li.breach").first
    await first.get_by_label("Alasan penyimpangan").fill("Printer formulir macet")
    await first.get_by_role("button", name="Simpan alasan").click()
    await expect(board.locator("#breaches")).to_contain_text("Printer formulir macet", timeout=WAIT)
    await board.close()


async def day_close_and_sign(fo: Any, api: Api, browser: Any, site: Any, demo_login: Any) -> None:
    await late_forms_justified_on_the_board(fo, api, site)
    day = await fo.new_page()
    await day.goto(site.url + "/day")
    books = day.locator("#reports a[href*='/books?format=pdf']")
    await expect(books).to_be_visible(timeout=WAIT)
    pdf = await day.request.get(site.url + str(await books.get_attribute("href")))
    assert pdf.ok and (await pdf.body()).startswith(b"%PDF")
    # Step 9 before the demo room's closing time (23.59): confirmed, with a reason.
    await day.get_by_role("button", name="Tutup hari", exact=True).click()
    confirm = day.get_by_role("dialog", name="Tutup hari ini?")
    await confirm.get_by_label("Alasan menutup lebih awal (wajib)").fill("Uji alur SOP lengkap")
    await confirm.get_by_role("button", name="Ya, tutup hari").click()
    await expect(day.locator("#day-state")).to_contain_text("Hari sudah ditutup", timeout=WAIT)

    head = await demo_login(browser, site, "kepala")
    sign = await head.new_page()
    await sign.goto(site.url + "/day")
    await sign.get_by_role("button", name="Sahkan (Kepala LPSE)").click()
    await expect(sign.locator("#day-notice")).to_contain_text("belum diberi alasan", timeout=WAIT)

    await day.reload()
    breach = day.locator("#day-breaches li.breach:not(.justified)").first
    await breach.get_by_label("Alasan penyimpangan").fill("Antrian panjang di front office")
    await breach.get_by_role("button", name="Simpan alasan").click()
    await expect(day.locator("#day-breaches")).to_contain_text("Antrian panjang", timeout=WAIT)

    await signed_and_sealed(sign, site)
    await head.close()
    await day.close()


async def signed_and_sealed(sign: Page, site: Any) -> None:
    await sign.get_by_role("button", name="Sahkan (Kepala LPSE)").click()
    await expect(sign.locator("#day-state")).to_contain_text("Hari sudah disahkan", timeout=WAIT)
    # Signing seals the day's books; the page links the sealed files once they exist.
    await expect(sign.locator("#reports")).to_contain_text("Laporan Kunjungan")
    sealed = sign.locator("#reports a[href^='/api/v1/archive/']").first
    await expect(sealed).to_be_visible(timeout=30000)
    download = await sign.request.get(site.url + str(await sealed.get_attribute("href")))
    assert download.ok and len(await download.body()) > 0
