"""Visit search, the visit's page and the front desk's question, in Debian Chromium at
1366x768: search -> the visit's page -> a badge issued by a tap there; a tap of another
visitor's badge while one is served is asked about: ignore leaves it open, return
closes it and shows which visit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from service.demo import demo_uid
from tests.browser.sop_steps import WAIT, Api

pytestmark = pytest.mark.browser
FRONT = "front-office"


async def tap(api: Api, badge: int, event_id: str) -> Any:
    return await api.post(
        "/api/v1/taps", {"reader": FRONT, "uid": demo_uid(badge), "event_id": event_id}
    )


async def test_search_opens_the_visit_where_a_tap_issues_its_badge(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/visits")
    api = await Api(page, site.url).start()
    other = await api.visit(1, company="PT Lain")
    await api.post(f"/api/v1/visits/{other['id']}/badge", {"label": "K-001"})
    visit = await api.visit(2, company="CV Ñandú Jaya", tender_code="T-2026-77")
    # Bad input: a clear message on the field, nothing searched.
    await page.fill("#q-doc", "ab")
    await page.get_by_role("button", name="Cari", exact=True).click()
    await expect(page.locator("[data-error-for=doc_digits]")).to_contain_text(
        "Angka terakhir", timeout=WAIT
    )
    await page.fill("#q-doc", "")
    await page.fill("#q-company", "ñandú")
    await page.get_by_role("button", name="Cari", exact=True).click()
    results = page.locator("#results tr")
    await expect(results).to_have_count(1, timeout=WAIT)
    await expect(results.first).to_contain_text("CV Ñandú Jaya")
    await expect(results.first).to_contain_text(visit["deposit"]["slot"])
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1366
    await page.get_by_role("link", name="Pengunjung 2").click()
    await page.wait_for_url(f"{site.url}/visits/{visit['id']}")
    await expect(page.locator("#v-title")).to_have_text(
        "Pengunjung 2 · CV Ñandú Jaya", timeout=WAIT
    )
    history = page.locator("#v-history")
    await expect(history).to_contain_text("Formulir akses dicatat", timeout=WAIT)
    await expect(history).to_contain_text("WIB")
    # No badge yet: arm the front-desk reader, then the tap issues it.
    await expect(page.locator("#issue-box")).to_be_visible(timeout=WAIT)
    await page.get_by_role("button", name="Tempelkan kartu", exact=True).click()
    await expect(page.locator("#tap-instruction")).to_contain_text(FRONT, timeout=WAIT)
    decision = await tap(api, 5, "visit-page-issue")
    assert decision["reason"] == "badge_issued", decision
    await expect(page.locator("#v-facts")).to_contain_text("K-005", timeout=WAIT)
    await expect(history).to_contain_text("Tanda pengenal khusus diberikan", timeout=WAIT)
    await expect(page.locator("#issue-box")).to_be_hidden()
    await expect(page.locator("#do-checkout")).to_be_visible()
    # Back to the search: the same results, without typing them again.
    await page.go_back()
    await expect(page.locator("#results tr")).to_have_count(1, timeout=WAIT)
    await expect(page.locator("#q-company")).to_have_value("ñandú")
    await fo.close()


async def test_a_badge_of_another_visit_while_serving_is_asked_ignore_or_return(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    page = await fo.new_page()
    await page.goto(site.url + "/return")
    api = await Api(page, site.url).start()
    budi = await api.visit(1)
    await api.post(f"/api/v1/visits/{budi['id']}/badge", {"label": "K-001"})
    siti = await api.visit(2)
    await api.post(f"/api/v1/visits/{siti['id']}/badge", {"label": "K-002"})
    # The clerk opens Pengunjung 2 by hand: the desk serves that visit.
    await page.fill("#search", "pengunjung 2")
    await page.get_by_role("button", name=re.compile("Pengunjung 2")).click()
    await expect(page.locator("#serving")).to_contain_text("Pengunjung 2", timeout=WAIT)
    # Pengunjung 1's badge is tapped meanwhile: asked, not returned.
    assert (await tap(api, 1, "ask-1"))["reason"] == "confirm_return"
    asked = page.locator("#desk-question")
    await expect(asked).to_be_visible(timeout=WAIT)
    await expect(asked).to_contain_text("Pengunjung 1")
    await expect(asked).to_contain_text(budi["deposit"]["slot"])
    box = await asked.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768, box
    await asked.get_by_role("button", name="Abaikan").click()
    await expect(asked).to_be_hidden(timeout=WAIT)
    await expect(page.locator("#cur-notice")).to_contain_text("tetap terbuka", timeout=WAIT)
    state = await (await page.request.get(f"{site.url}/api/v1/visits/{budi['id']}")).json()
    assert state["state"] == "admitted"
    await expect(page.locator("#cur-name")).to_have_text("Pengunjung 2")

    # Tapped again; a reload in the middle still asks (the server keeps the question).
    assert (await tap(api, 1, "ask-2"))["reason"] == "confirm_return"
    await expect(asked).to_be_visible(timeout=WAIT)
    await page.reload()
    await expect(asked).to_be_visible(timeout=WAIT)
    await asked.get_by_role("button", name="Kembalikan (tutup kunjungan)").dblclick()
    await expect(asked).to_be_hidden(timeout=WAIT)
    # The return shows the visit it closed: name, company, slot.
    await expect(page.locator("#cur-name")).to_have_text("Pengunjung 1", timeout=WAIT)
    await expect(page.locator("#cur-company")).to_have_text("CV Contoh 1")
    await expect(page.locator("#cur-slot")).to_have_text(budi["deposit"]["slot"])
    await expect(page.locator("#cur-notice")).to_contain_text("Kunjungan ditutup")
    closed = await (await page.request.get(f"{site.url}/api/v1/visits/{budi['id']}")).json()
    assert closed["state"] == "closed"
    served = await (await page.request.get(f"{site.url}/api/v1/visits/{siti['id']}")).json()
    assert served["state"] == "admitted"
    await fo.close()
