"""The access form never records a visit twice: a double click on Simpan, the back
button, a reload; the result fits 1366x768 without scrolling and shows the badge when
it is tapped; a back-entry is refused a future time and asks about an open visit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Page, expect

from service.demo import demo_uid
from tests.browser.sop_steps import WAIT, WIB, Api, fill_arrival

pytestmark = pytest.mark.browser
SIM = "123456789012"


async def visits_today(api: Api) -> list[dict[str, Any]]:
    response = await api.page.request.get(api.base + "/api/v1/visits")
    assert response.ok
    return list((await response.json())["visits"])


async def filled_form(page: Page, *, doc_number: str = SIM) -> None:
    await page.select_option("#doc_type", "sim")
    await page.fill("#doc_number", doc_number)
    await fill_arrival(page)
    await page.check("#rules_ack")
    await page.check("#privacy_ack")


async def test_a_double_click_on_simpan_records_one_visit(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/arrival")
    api = await Api(page, site.url).start()
    await filled_form(page)
    await page.dblclick("#arrival button[type=submit]")
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    await expect(page.locator("#arrival")).to_be_hidden()  # replaced by the result
    assert len(await visits_today(api)) == 1

    # Harder than a double click: the form sent twice before any answer (the button is
    # not even disabled for the second); one key, one visit, the same answer twice.
    await page.click("#new-form")
    await expect(page.locator("#arrival")).to_be_visible(timeout=WAIT)
    await filled_form(page, doc_number="223456789012")
    await page.evaluate(
        """() => { const f = document.getElementById("arrival");
                   f.requestSubmit(); f.requestSubmit(); f.requestSubmit(); }"""
    )
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    await expect(page.locator("#after-slot")).to_have_text("L-02")
    assert len(await visits_today(api)) == 2
    await fo.close()


async def test_the_back_button_and_a_reload_never_send_the_form_again(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/")
    await page.goto(site.url + "/arrival")
    api = await Api(page, site.url).start()
    await filled_form(page)
    await page.click("#arrival button[type=submit]")
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    visit_id = (await visits_today(api))[0]["id"]
    await expect(page).to_have_url(f"{site.url}/arrival?visit={visit_id}")

    await page.go_back()
    await expect(page).to_have_url(site.url + "/")
    await page.go_forward()
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    await expect(page.locator("#arrival")).to_be_hidden()
    await expect(page.locator("#after-name")).to_contain_text("Budi Santoso")
    await page.reload()
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    await expect(page.locator("#after-slot")).to_have_text("L-01")
    await expect(page.locator("#arrival")).to_be_hidden()
    assert len(await visits_today(api)) == 1

    # The next visitor gets an empty form.
    await page.get_by_role("link", name="Pengunjung berikutnya").click()
    await expect(page).to_have_url(site.url + "/arrival")
    await expect(page.locator("#arrival")).to_be_visible(timeout=WAIT)
    await expect(page.locator("#name")).to_have_value("")
    assert len(await visits_today(api)) == 1
    await fo.close()


async def test_the_result_fits_the_screen_and_shows_the_tapped_badge(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/arrival")
    api = await Api(page, site.url).start()
    await filled_form(page)
    await page.click("#arrival button[type=submit]")  # far down: the page scrolled to it
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    instruction = page.locator("#tap-instruction")
    await expect(instruction).to_have_text(
        "Tempelkan kartu pada pembaca front office (front-office)", timeout=WAIT
    )
    assert await page.evaluate("() => window.scrollY") == 0
    for selector in ("#after h2", "#after-slot", "#tap-instruction", "#new-form"):
        box = await page.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768, selector
    await api.post(
        "/api/v1/taps", {"reader": "front-office", "uid": demo_uid(3), "event_id": "forms-1"}
    )
    await expect(page.locator("#badge-result")).to_contain_text("K-003", timeout=WAIT)
    await expect(page.locator("#issue-label")).to_be_hidden()  # nothing left to do here
    await expect(page.locator("#tap-instruction")).to_be_hidden()
    box = await page.locator("#badge-result").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768
    await fo.close()


async def test_a_back_entry_is_refused_a_future_time_and_asks_about_an_open_visit(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/arrival")
    api = await Api(page, site.url).start()
    await api.visit(7, doc_number=SIM, name="Budi Santoso")  # still open
    await filled_form(page)
    await page.check("#back_entered")
    later = datetime.now(WIB).replace(second=0, microsecond=0) + timedelta(hours=2)
    await page.fill("#arrived_at", later.strftime("%Y-%m-%dT%H:%M"))
    await page.click("#arrival button[type=submit]")
    message = page.locator('[data-error-for="arrived_at"]')
    await expect(message).to_contain_text(
        "Waktu kedatangan data susulan tidak boleh setelah sekarang", timeout=WAIT
    )
    await expect(page.locator("#arrived_at")).to_have_attribute("aria-invalid", "true")
    assert len(await visits_today(api)) == 1

    earlier = datetime.now(WIB).replace(second=0, microsecond=0) - timedelta(hours=1)
    await page.fill("#arrived_at", earlier.strftime("%Y-%m-%dT%H:%M"))
    await page.click("#arrival button[type=submit]")
    ask = page.locator("#open-visit")
    await expect(ask).to_be_visible(timeout=WAIT)
    await expect(ask).to_contain_text("masih tercatat pada kunjungan yang belum ditutup")
    await page.click("#open-visit-no")
    await expect(ask).to_be_hidden()
    assert len(await visits_today(api)) == 1
    await page.click("#arrival button[type=submit]")
    await expect(ask).to_be_visible(timeout=WAIT)
    await page.get_by_role("button", name="Tetap catat data susulan").click()
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    recorded = await visits_today(api)
    assert len(recorded) == 2
    await fo.close()


async def test_a_help_request_sent_twice_at_once_is_recorded_once(
    site: Any, browser: Any, demo_login: Any
) -> None:
    hd = await demo_login(browser, site, "helpdesk")
    page = await hd.new_page()
    await page.goto(site.url + "/helpdesk")
    form = page.locator(".help-form")
    await expect(form.locator('[name="category"] option')).not_to_have_count(0, timeout=WAIT)
    await form.locator('[name="problem"]').fill("Gagal unggah dokumen penawaran")
    await page.evaluate(
        """() => { const f = document.querySelector(".help-form");
                   f.requestSubmit(); f.requestSubmit(); }"""
    )
    await expect(form.locator(".notice")).to_contain_text("#", timeout=WAIT)
    response = await page.request.get(site.url + "/api/v1/help")
    assert [h["problem"] for h in await response.json()] == ["Gagal unggah dokumen penawaran"]
    await hd.close()


async def test_an_answer_lost_on_the_way_is_retried_without_a_second_visit(
    site: Any, browser: Any, demo_login: Any
) -> None:
    """The visit is committed but its answer never reaches the browser (the network
    drops it): the page retries with the same key and shows the one visit."""
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/arrival")
    api = await Api(page, site.url).start()
    keys: list[str] = []

    async def drop_the_first_answer(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            await route.fetch()  # the daemon records the visit ...
            await route.abort("connectionreset")  # ... and the answer is lost
        else:
            await route.continue_()

    await page.route("**/api/v1/visits", drop_the_first_answer)
    await filled_form(page)
    await page.click("#arrival button[type=submit]")
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    await expect(page.locator("#after-slot")).to_have_text("L-01")
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0].startswith('"')
    assert len(await visits_today(api)) == 1
    await fo.close()


async def test_a_lost_connection_is_said_plainly_and_the_retry_records_once(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/arrival")
    await filled_form(page)
    await site.stop()
    await page.click("#arrival button[type=submit]")
    await expect(page.locator("#arrival .form-error")).to_have_text(
        "Tidak tersambung ke server; periksa jaringan lalu tekan tombolnya lagi "
        "(data tidak akan tercatat dua kali).",
        timeout=15000,  # after its retries (about 4 s)
    )
    await expect(page.locator("#arrival button[type=submit]")).to_be_enabled()
    await site.start()  # same port, same database: the session cookie still holds
    await page.click("#arrival button[type=submit]")
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    api = await Api(page, site.url).start()
    assert len(await visits_today(api)) == 1
    await fo.close()
