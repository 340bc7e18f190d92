"""The SOP walked in a real browser, as the front office would, against the real daemon."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import BrowserContext, Page, expect

from service.demo import demo_uid

pytestmark = pytest.mark.browser
NIK = "1571011508850001"  # Kota Jambi, born 15-08-1985
WAIT = 5000  # ms: what a clerk would call "at once"
WIB = ZoneInfo("Asia/Jakarta")


class Api:
    """Set-up shortcuts through the JSON API, with the browser context's session."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base, self.csrf = page, base, ""

    async def start(self) -> Api:
        me = await self.page.request.get(self.base + "/api/v1/me")
        self.csrf = (await me.json())["csrf"]
        return self

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.page.request.post(
            self.base + path, data=body, headers={"X-CSRF-Token": self.csrf}
        )
        assert response.ok, await response.text()
        return await response.json()

    async def visit(self, n: int, **extra: Any) -> Any:
        body = {
            "name": f"Pengunjung {n}",
            "company": f"CV Contoh {n}",
            "doc_type": "sim",
            "doc_number": f"{n:012d}",
            "wanted_kind": "pc",
            "rules_ack": True,
            "privacy_ack": True,
            **extra,
        }
        return await self.post("/api/v1/visits", body)


async def demo_tap(board: Page, reader: str, badge: str) -> str:
    await board.select_option("#demo-reader", reader)
    await board.fill("#demo-badge", badge)
    result = board.locator("#demo-result")
    done = int(await result.get_attribute("data-done") or 0)
    await board.click("#demo-tap button[type=submit]")
    await expect(result).to_have_attribute("data-done", str(done + 1), timeout=WAIT)
    return (await result.text_content()) or ""


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


async def fill_arrival(page: Page) -> None:
    await page.fill("#name", "Budi Santoso")
    await page.fill("#company", "CV Maju Jaya")
    await page.fill("#phone", "081234567890")
    await page.fill("#tender_code", "12345678")
    await page.fill("#purpose", "Unggah dokumen penawaran")
    await page.select_option("#wanted_kind", "pc")
    await page.click("#add-device")
    await page.fill("#dev-kind-1", "Laptop")
    await page.fill("#dev-serial-1", "SN-001")


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


async def fill_all_pcs(api: Api, *, first: bool = False) -> str:
    """Visitors 2..8 take PC-02..PC-08 (and 1 PC-01 if ``first``); visitor 9 gets a
    queue number, which is returned."""
    for n in range(1 if first else 2, 9):
        visit = await api.visit(n)
        await api.post(f"/api/v1/visits/{visit['id']}/badge", {"label": f"K-{n:03d}"})
    queued = await api.visit(9)
    queued = await api.post(f"/api/v1/visits/{queued['id']}/badge", {"label": "K-009"})
    assert queued["ticket"] is not None, queued
    return str(queued["ticket"]["number"])


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


async def day_close_and_sign(fo: Any, api: Api, browser: Any, site: Any, demo_login: Any) -> None:
    # A form started 10 minutes before it was saved breaches step 2's 5-minute standard.
    started = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    for n in (20, 21):
        late = await api.visit(n, form_started_at=started)
        await api.post(f"/api/v1/visits/{late['id']}/badge", {"label": f"K-{n:03d}"})
    # One is justified right on the status board.
    board = await fo.new_page()
    await board.goto(site.url + "/")
    first = board.locator("#breaches li.breach").first
    await first.get_by_label("Alasan penyimpangan").fill("Printer formulir macet")
    await first.get_by_role("button", name="Simpan alasan").click()
    await expect(board.locator("#breaches")).to_contain_text("Printer formulir macet", timeout=WAIT)
    await board.close()

    day = await fo.new_page()
    await day.goto(site.url + "/day")
    books = day.locator("#reports a[href*='/books?format=pdf']")
    await expect(books).to_be_visible(timeout=WAIT)
    pdf = await day.request.get(site.url + str(await books.get_attribute("href")))
    assert pdf.ok and (await pdf.body()).startswith(b"%PDF")
    await day.get_by_role("button", name="Tutup hari").click()
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

    await sign.get_by_role("button", name="Sahkan (Kepala LPSE)").click()
    await expect(sign.locator("#day-state")).to_contain_text("Hari sudah disahkan", timeout=WAIT)
    # Signing seals the day's books; the page links the sealed files once they exist.
    await expect(sign.locator("#reports")).to_contain_text("Laporan Kunjungan")
    sealed = sign.locator("#reports a[href^='/api/v1/archive/']").first
    await expect(sealed).to_be_visible(timeout=30000)
    download = await sign.request.get(site.url + str(await sealed.get_attribute("href")))
    assert download.ok and len(await download.body()) > 0
    await head.close()
    await day.close()


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
