"""The three ways to read a card into the access form, in headless Chromium: *Unggah*
(a file), *Foto KTP* (Chromium's fake camera playing a synthetic card) and *Pindai KTP*
(SANE's own test backend). The fields are filled and marked, nothing is saved before
the clerk saves, and without Tesseract the buttons say why and the form works as before.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from playwright.async_api import expect

from service.i18n import render
from service.scan import engine
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _need_chromium, login
from tests.browser.sop_steps import WAIT
from tests.conftest import need_service
from tests.support.ktp_cards import Shot, clean_scan, degrade, draw_card, make_nik, person

pytestmark = pytest.mark.browser
READ_WAIT = 20_000  # ms: OCR of one card is under a second; CI machines are shared


def need_ocr() -> None:
    reason = engine.unavailable_reason()
    need_service(reason is None, f"Tesseract OCR ({render(reason, 'en') if reason else ''})")


async def arrival_page(browser: Any, site: Any, lang: str | None = None) -> Any:
    context = await login(browser, site, "frontoffice", lang=lang)
    page = await context.new_page()
    await page.goto(site.url + "/arrival")
    return page


async def visits_today(page: Any, site: Any) -> list[Any]:
    response = await page.request.get(site.url + "/api/v1/visits")
    assert response.ok
    return list((await response.json())["visits"])


async def test_upload_fills_and_marks_the_form_and_saves_nothing(site: Any, browser: Any) -> None:
    need_ocr()
    who = person(21)
    page = await arrival_page(browser, site)
    await expect(page.locator("#upload-btn")).to_be_enabled(timeout=WAIT)
    png = clean_scan(draw_card(who, 21))
    await page.set_input_files(
        "#upload", files=[{"name": "ktp.png", "mimeType": "image/png", "buffer": png}]
    )
    await expect(page.locator("#doc_number")).to_have_value(who.nik, timeout=READ_WAIT)
    await expect(page.locator("#name")).to_have_value(who.name)
    tag = page.locator('[data-scan-for="doc_number"]')
    await expect(tag).to_have_text("dari pindaian — periksa")
    await expect(page.locator("#nik-msg")).to_contain_text("NIK valid", timeout=WAIT)
    await expect(page.locator("#scan-nik")).to_have_text(
        "NIK cocok dengan tanggal lahir dan jenis kelamin yang tercetak."
    )
    await expect(page.locator("#scan-fields")).to_contain_text(who.kecamatan)
    assert await visits_today(page, site) == []  # read, shown, nothing saved
    await page.fill("#company", "CV Maju Jaya")
    await page.check("#rules_ack")
    await page.check("#privacy_ack")
    await page.click("#arrival button[type=submit]")
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    saved = await visits_today(page, site)
    assert [v["name"] for v in saved] == [who.name]
    assert saved[0]["deposit"]["doc_masked"] == who.nik[:4] + "*" * 10 + who.nik[-2:]
    await page.context.close()


async def test_a_nik_that_disagrees_with_the_card_is_highlighted_in_english(
    site: Any, browser: Any
) -> None:
    need_ocr()
    who = person(22)
    other = make_nik(random.Random(2), who.nik[:4], date(1991, 3, 4), who.female)
    page = await arrival_page(browser, site, lang="en")
    await expect(page.locator("#upload-btn")).to_have_text("Upload")
    await expect(page.locator("#upload-btn")).to_be_enabled(timeout=WAIT)
    png = clean_scan(draw_card(dataclasses.replace(who, nik=other), 22))
    await page.set_input_files(
        "#upload", files=[{"name": "ktp.png", "mimeType": "image/png", "buffer": png}]
    )
    await expect(page.locator("#doc_number")).to_have_value(other, timeout=READ_WAIT)
    await expect(page.locator("#doc_number")).to_have_class("from-scan scan-low")
    await expect(page.locator('[data-scan-for="doc_number"]')).to_contain_text(
        "from the scan — check"
    )
    await expect(page.locator("#scan-nik")).to_have_text(
        "The birth date in the NIK differs from the printed one; check the card."
    )
    await page.fill("#doc_number", who.nik)  # the clerk corrects it: the mark goes
    await expect(page.locator('[data-scan-for="doc_number"]')).to_have_count(0)
    await page.context.close()


async def test_the_desk_camera_reads_the_card(site: Any, tmp_path: Path) -> None:
    """Chromium's fake camera plays a Y4M file of a card held under the desk camera."""
    _need_chromium()
    need_ocr()
    who = person(23)
    shot = Shot(camera=True, dpi=300, angle=2.0, blur=0.4, light=0.1, quality=90)
    jpeg = degrade(draw_card(who, 23), shot, 23)
    frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    frame = cv2.resize(frame, (1280, 960), interpolation=cv2.INTER_AREA)
    video = tmp_path / "card.y4m"
    yuv = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes()
    video.write_bytes(b"YUV4MPEG2 W1280 H960 F5:1 Ip A1:1 C420jpeg\n" + (b"FRAME\n" + yuv) * 3)
    from playwright.async_api import async_playwright

    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = await arrival_page(chromium, site)
            await expect(page.locator("#camera-btn")).to_be_enabled(timeout=WAIT)
            await page.click("#camera-btn")
            await expect(page.locator("#snap")).to_be_enabled(timeout=WAIT)
            await page.click("#snap")
            await expect(page.locator("#doc_number")).to_have_value(who.nik, timeout=READ_WAIT)
            await expect(page.locator("#name")).to_have_value(who.name)
            await expect(page.locator("#camera-box")).to_be_hidden()
        finally:
            await chromium.close()


async def test_the_scanner_button_scans_through_sane(
    site: Any, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SANE's test backend gives its test picture: no card on it, and the page says so."""
    import shutil

    from service.scan import scanners

    need_service(shutil.which("scanimage") is not None, "SANE's scanimage (sane-utils)")
    need_ocr()
    config = tmp_path / "sane.d"
    config.mkdir()
    (config / "dll.conf").write_text("test\n", encoding="utf-8")
    monkeypatch.setenv("SANE_CONFIG_DIR", str(config))
    monkeypatch.setattr(scanners, "_cache", None)
    page = await arrival_page(browser, site)
    await expect(page.locator("#scan-btn")).to_be_enabled(timeout=WAIT)
    await expect(page.locator("#scanner")).to_be_visible()  # test:0 and test:1: a choice
    await page.click("#scan-btn")
    await expect(page.locator("#scan-status")).to_have_text(
        "KTP tidak terbaca; coba pindai ulang.", timeout=READ_WAIT
    )
    await expect(page.locator("#doc_number")).to_have_value("")
    await page.context.close()


async def test_without_tesseract_the_buttons_say_why_and_the_form_works(
    site: Any, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = ("Tesseract belum terpasang (uji).", "Tesseract is not installed (test).")
    monkeypatch.setattr(engine, "unavailable_reason", lambda: reason)
    page = await arrival_page(browser, site)
    await expect(page.locator("#scan-why")).to_contain_text(reason[0], timeout=WAIT)
    for button in ("#scan-btn", "#camera-btn", "#upload-btn"):
        await expect(page.locator(button)).to_be_disabled()
    await page.fill("#doc_number", "1571011508850001")
    await page.fill("#name", "Budi Santoso")
    await page.fill("#company", "CV Maju Jaya")
    await page.check("#rules_ack")
    await page.check("#privacy_ack")
    await page.click("#arrival button[type=submit]")
    await expect(page.locator("#after")).to_be_visible(timeout=WAIT)
    await page.context.close()


async def test_the_notice_says_the_card_is_read_and_not_kept(site: Any, browser: Any) -> None:
    page = await arrival_page(browser, site)
    await expect(page.locator(".notice-text").nth(1)).to_contain_text(
        "gambar tidak disimpan, tidak dicatat dan tidak dikirim ke mana pun"
    )
    await page.context.close()
