"""The login page in a real browser: its own form, with or without JavaScript, and the
refusals a clerk reads (Indonesian first, English by the switch, never a key)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from service.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser
WAIT = 10_000


async def submit(page: Any, username: str, password: str) -> None:
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")


async def test_login_without_javascript_lands_on_the_page_asked_for(
    site: Any, browser: Any
) -> None:
    context = await browser.new_context(java_script_enabled=False, locale="id-ID")
    page = await context.new_page()
    await page.goto(site.url + "/day")
    await expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)day"))
    await submit(page, "frontoffice", DEMO_PASSWORD)
    await expect(page).to_have_url(site.url + "/day", timeout=WAIT)
    await context.close()


async def test_refusals_are_plain_in_both_languages(site: Any, browser: Any) -> None:
    context = await browser.new_context(locale="id-ID")
    page = await context.new_page()
    await page.goto(site.url + "/login")
    await submit(page, "kepala", "salah-sekali")
    error = page.locator(".form-error")
    await expect(error).to_have_text("Nama pengguna atau kata sandi salah.", timeout=WAIT)
    await expect(page.locator("#username")).to_have_value("kepala")
    await context.add_cookies([{"name": "lang", "value": "en", "url": site.url}])
    for _ in range(2):
        await submit(page, "kepala", "salah-lagi")
        await expect(error).to_have_text("Wrong username or password.", timeout=WAIT)
    await submit(page, "kepala", DEMO_PASSWORD)  # the fourth attempt must wait
    await expect(error).to_have_text(
        re.compile(r"^Too many failed logins\. Try again in \d+ seconds\.$")
    )
    text = await error.text_content()
    assert text is not None and "_" not in text and "Error" not in text
    await context.close()
