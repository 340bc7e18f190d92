"""A real day in Debian Chromium: the guarded day close and the Head's reopen, a facility
taken out of service (with its occupant moved, and across a daemon restart), the roll
call with a desk-only visitor and a muster whose marks survive a reload."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from playwright.async_api import Page, expect

from service.demo import demo_uid
from tests.browser.sop_steps import WAIT, WIB, Api

pytestmark = pytest.mark.browser


async def issued(api: Api, n: int) -> Any:
    visit = await api.visit(n)
    await api.post(f"/api/v1/visits/{visit['id']}/badge", {"label": f"K-{n:03d}"})
    return visit


async def tap(api: Api, reader: str, n: int, event: str) -> Any:
    return await api.post("/api/v1/taps", {"reader": reader, "uid": demo_uid(n), "event_id": event})


async def page_of(context: Any, site: Any, path: str) -> tuple[Page, list[str]]:
    page = await context.new_page()
    dialogs: list[str] = []

    async def dismiss(dialog: Any) -> None:  # window.alert/confirm: never used
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    await page.goto(site.url + path)
    return page, dialogs


async def test_day_close_is_guarded_and_the_head_reopens(
    site: Any, browser: Any, demo_login: Any
) -> None:
    today = datetime.now(WIB).date().isoformat()
    fo = await demo_login(browser, site, "frontoffice")
    day, dialogs = await page_of(fo, site, f"/day?day={today}")
    api = await Api(day, site.url).start()
    await issued(api, 1)  # a visit still open, its badge out, its document in a slot
    state = day.get_by_test_id("day-state")
    await expect(state).to_have_text("Hari masih terbuka", timeout=WAIT)
    await expect(day.locator("#reopen-day")).to_be_hidden()

    # The confirmation lists what is still open; the demo room closes at 23.59.
    await day.get_by_role("button", name="Tutup hari", exact=True).click()
    dialog = day.get_by_role("dialog", name="Tutup hari ini?")
    await expect(dialog).to_be_visible(timeout=WAIT)
    await expect(dialog.get_by_test_id("close-open")).to_contain_text("Kunjungan belum selesai")
    await expect(dialog.get_by_test_id("close-open")).to_contain_text("Kartu belum kembali")
    await expect(dialog.locator("#close-early")).to_contain_text("23.59")
    # Without a reason the server refuses, plainly, and nothing closes.
    await dialog.get_by_role("button", name="Ya, tutup hari").click()
    await expect(dialog.locator("#close-error")).to_contain_text("alasan", timeout=WAIT)
    await expect(dialog).to_be_visible()
    # Cancel leaves the day open.
    await dialog.get_by_role("button", name="Batal").click()
    await expect(dialog).to_be_hidden()
    await expect(state).to_have_text("Hari masih terbuka")

    await day.get_by_role("button", name="Tutup hari", exact=True).click()
    await dialog.get_by_label("Alasan menutup lebih awal (wajib)").fill("Listrik padam sore ini")
    await dialog.get_by_role("button", name="Ya, tutup hari").dblclick()
    await expect(dialog).to_be_hidden(timeout=WAIT)
    await expect(state).to_contain_text("Hari sudah ditutup", timeout=WAIT)
    await expect(state).to_contain_text("Listrik padam sore ini")
    await expect(day.locator("#reopen-day")).to_be_hidden()  # not the front office's
    await day.reload()
    await expect(state).to_contain_text("Hari sudah ditutup", timeout=WAIT)

    head = await demo_login(browser, site, "kepala")
    page, head_dialogs = await page_of(head, site, f"/day?day={today}")
    head_state = page.get_by_test_id("day-state")
    await expect(head_state).to_contain_text("Hari sudah ditutup", timeout=WAIT)
    await page.get_by_role("button", name="Buka kembali (Kepala LPSE)").click()
    reopen = page.get_by_role("dialog", name="Buka kembali hari ini?")
    await expect(reopen).to_be_visible(timeout=WAIT)
    await reopen.get_by_role("button", name="Ya, buka kembali").click()
    await expect(reopen.locator("#reopen-error")).to_contain_text("wajib diisi", timeout=WAIT)
    await expect(head_state).to_contain_text("Hari sudah ditutup")
    await reopen.get_by_label("Alasan membuka kembali (wajib)").fill("Formulir kertas susulan")
    await reopen.get_by_role("button", name="Ya, buka kembali").click()
    await expect(reopen).to_be_hidden(timeout=WAIT)
    await expect(head_state).to_have_text("Hari masih terbuka", timeout=WAIT)
    await expect(state).to_have_text("Hari masih terbuka", timeout=WAIT)  # live on the desk
    assert dialogs == [] and head_dialogs == []
    await fo.close()
    await head.close()


async def deactivate(board: Page, code: str) -> None:
    tile = board.locator(f'[data-facility="{code}"]')
    await tile.get_by_role("button", name="Nonaktifkan").click()
    await (
        tile.get_by_role("group", name=f"Nonaktifkan {code}?")
        .get_by_role("button", name="Ya")
        .click()
    )


async def test_a_pc_out_of_service_is_still_out_after_a_restart(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    board, _ = await page_of(fo, site, "/")
    tile = board.locator('[data-facility="PC-03"]')
    await expect(tile.locator(".state")).to_have_text("Kosong", timeout=WAIT)
    await deactivate(board, "PC-03")
    await expect(tile).to_have_class(re.compile(r"\bout_of_service\b"), timeout=WAIT)
    await site.stop()
    await site.start()  # the same database and port: a daemon restart
    await board.reload()
    await expect(tile).to_have_class(re.compile(r"\bout_of_service\b"), timeout=15000)
    await expect(tile.locator(".state")).to_have_text("Tidak berfungsi")
    await expect(tile.get_by_role("button", name="Aktifkan")).to_be_visible()
    await fo.close()


async def test_out_of_service_with_an_occupant_offers_the_move(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    board, dialogs = await page_of(fo, site, "/")
    api = await Api(board, site.url).start()
    await issued(api, 1)  # Pengunjung 1 gets PC-01
    tile, target = (
        board.locator('[data-facility="PC-01"]'),
        board.locator('[data-facility="PC-02"]'),
    )
    await expect(tile).to_contain_text("Pengunjung 1", timeout=WAIT)
    question = "Pindahkan Pengunjung 1 ke PC-02, lalu nonaktifkan PC-01?"

    await deactivate(board, "PC-01")
    offer = tile.get_by_role("group", name=question)
    await expect(offer).to_be_visible(timeout=WAIT)
    await offer.get_by_role("button", name="Batal").click()  # the clerk thinks again
    await expect(offer).to_have_count(0)
    await expect(tile).to_contain_text("Pengunjung 1")
    await expect(tile).not_to_have_class(re.compile(r"\bout_of_service\b"))

    await deactivate(board, "PC-01")
    await (
        tile.get_by_role("group", name=question)
        .get_by_role("button", name="Pindahkan → PC-02")
        .click()
    )
    await expect(tile).to_have_class(re.compile(r"\bout_of_service\b"), timeout=WAIT)
    await expect(target).to_contain_text("Pengunjung 1", timeout=WAIT)
    await expect(tile.get_by_role("group")).to_have_count(0)
    assert dialogs == []
    await fo.close()


async def test_roll_call_desk_only_visitor_and_a_muster_that_survives_a_reload(
    site: Any, browser: Any, demo_login: Any
) -> None:
    hd = await demo_login(browser, site, "helpdesk")
    page, dialogs = await page_of(hd, site, "/roll-call")
    fo = await demo_login(browser, site, "frontoffice")
    api = await Api(await fo.new_page(), site.url).start()
    await issued(api, 1)
    second = await issued(api, 2)  # PC-02
    await tap(api, "pintu-masuk", 1, "rc-door-1")
    assert (await tap(api, "meja-pc-02", 2, "rc-desk-2"))["granted"]  # no door entry
    await expect(page.get_by_test_id("roll-count")).to_have_text("2", timeout=WAIT)
    desk_row = page.locator(f'tr[data-visit="{second["id"]}"]')
    await expect(desk_row).to_contain_text("Meja meja-pc-02 (PC-02)")
    await expect(desk_row).to_contain_text("tanpa catatan masuk pintu")
    await expect(page.locator("#rc-people")).to_contain_text("Pintu pintu-masuk")

    await page.get_by_role("button", name="Mulai apel evakuasi").click()
    counts = page.get_by_test_id("muster-counts")
    await expect(counts).to_have_text("Aman: 0 · Belum: 2", timeout=WAIT)
    await desk_row.get_by_role("button", name="Tandai aman Pengunjung 2").dblclick()
    await expect(counts).to_have_text("Aman: 1 · Belum: 1", timeout=WAIT)
    await expect(desk_row).to_contain_text("Aman")
    await page.reload()
    await expect(counts).to_have_text("Aman: 1 · Belum: 1", timeout=WAIT)
    await expect(desk_row).to_contain_text("helpdesk")
    await expect(page.get_by_test_id("muster-state")).to_contain_text("Apel evakuasi berjalan")

    # Printed: the time on the page, the tick column, no buttons.
    await page.emulate_media(media="print")
    await expect(page.get_by_test_id("roll-at")).to_contain_text("WIB")
    await expect(page.locator("thead .print-only")).to_be_visible()
    await expect(page.get_by_role("button", name="Mulai apel evakuasi")).to_be_hidden()
    await page.emulate_media(media="screen")
    # On a phone: no sideways scrolling.
    await page.set_viewport_size({"width": 390, "height": 844})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert dialogs == []
    await hd.close()
    await fo.close()


async def test_the_dialogs_and_the_roll_call_in_english(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice", lang="en")
    day, _ = await page_of(fo, site, "/day")
    await day.get_by_role("button", name="Close the day", exact=True).click()
    dialog = day.get_by_role("dialog", name="Close this day?")
    await expect(dialog).to_be_visible(timeout=WAIT)
    await expect(dialog.get_by_label("Reason for closing early (required)")).to_be_visible()
    await dialog.get_by_role("button", name="Yes, close the day").click()
    await expect(dialog.locator("#close-error")).to_contain_text("write why", timeout=WAIT)
    roll, _ = await page_of(fo, site, "/roll-call")
    await expect(roll.get_by_role("button", name="Start evacuation muster")).to_be_visible(
        timeout=WAIT
    )
    await expect(roll.get_by_role("columnheader", name="Detected by")).to_be_visible()
    await fo.close()
