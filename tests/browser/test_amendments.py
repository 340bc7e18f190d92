"""After the Head signs a day, what happens later is an amendment: shown on the day page,
signed there by the Head (and only the Head)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.sop_steps import WAIT, WIB, Api

pytestmark = pytest.mark.browser


async def test_a_return_after_the_sign_off_is_an_amendment_the_head_signs(
    site: Any, browser: Any, demo_login: Any
) -> None:
    today = datetime.now(WIB).date().isoformat()
    fo = await demo_login(browser, site, "frontoffice")
    fo_page = await fo.new_page()
    await fo_page.goto(site.url + "/")
    fo_api = await Api(fo_page, site.url).start()
    visit = await fo_api.visit(41)
    await fo_api.post(f"/api/v1/visits/{visit['id']}/badge", {"label": "K-001"})

    head = await demo_login(browser, site, "kepala")
    page = await head.new_page()
    await page.goto(site.url + "/")
    head_api = await Api(page, site.url).start()
    await head_api.post(f"/api/v1/days/{today}/close", {"note": "uji pengesahan"})
    await head_api.post(f"/api/v1/days/{today}/sign", {})
    # The badge comes back after the signature: the visit closes, the signed row stays.
    await fo_api.post(f"/api/v1/visits/{visit['id']}/checkout", {"devices_checked": True})

    await fo_page.goto(site.url + f"/day?day={today}")
    box = fo_page.get_by_test_id("amendments")
    await expect(box).to_be_visible(timeout=WAIT)
    await expect(box).to_contain_text("kartu dikembalikan, kunjungan ditutup")
    await expect(box).to_contain_text("Menunggu pengesahan Kepala LPSE")
    await expect(
        fo_page.get_by_role("button", name="Sahkan amandemen (Kepala LPSE)")
    ).to_be_hidden()

    await page.goto(site.url + f"/day?day={today}")
    sign = page.get_by_role("button", name="Sahkan amandemen (Kepala LPSE)")
    await expect(sign).to_be_visible(timeout=WAIT)
    await sign.click()
    await expect(page.get_by_test_id("amendments")).to_contain_text("kepala", timeout=WAIT)
    await expect(sign).to_be_hidden(timeout=WAIT)
    await expect(page.get_by_test_id("amendments")).not_to_contain_text("Menunggu pengesahan")
    await fo.close()
    await head.close()
