"""A corrupt database moved aside at start: a red banner on every status board, in
Indonesian (English by the switch), until an admin marks it handled; then it leaves
every open board live. Only the admin sees the button."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from service.store.engine import sqlite_path
from tests.browser.conftest import Site, _need_chromium, site_config

pytestmark = pytest.mark.browser
WAIT = 15_000


@pytest.fixture
async def moved_site(tmp_path: Path) -> AsyncIterator[Site]:
    """The demo daemon started on a database file of garbage."""
    _need_chromium()
    config = site_config(tmp_path)
    path = sqlite_path(config.database_url)
    assert path is not None
    path.write_bytes(b"rusak / corrupt " * 500)
    running = Site(config)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_banner_until_an_admin_marks_it_handled(
    moved_site: Site, browser: Any, demo_login: Any, tmp_path: Path
) -> None:
    (aside,) = tmp_path.glob("bidroom.db.corrupt-*")
    fo = await demo_login(browser, moved_site, "frontoffice")
    fo_board = await fo.new_page()
    await fo_board.goto(moved_site.url + "/")
    banner = fo_board.locator(".sys-notice")
    await expect(banner).to_have_count(1, timeout=WAIT)
    await expect(banner).to_contain_text("Basis data rusak dipindahkan")
    await expect(banner).to_contain_text(str(aside))
    await expect(banner).to_contain_text("basis data KOSONG")
    await expect(banner).to_contain_text("Hanya admin")
    await expect(banner.locator("button")).to_have_count(0)
    size = await fo_board.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert size[0] <= 1366 and size[1] <= 768, size  # the board still fits with the banner

    english = await demo_login(browser, moved_site, "kepala", lang="en")
    en_board = await english.new_page()
    await en_board.goto(moved_site.url + "/")
    en_banner = en_board.locator(".sys-notice")
    await expect(en_banner).to_contain_text("Corrupt database moved aside", timeout=WAIT)
    await expect(en_banner).to_contain_text("EMPTY database")
    await expect(en_banner).to_contain_text("Only an admin")

    admin = await demo_login(browser, moved_site, "admin")
    admin_board = await admin.new_page()
    await admin_board.goto(moved_site.url + "/")
    button = admin_board.locator(".sys-notice button.ack")
    await expect(button).to_have_text("Tandai sudah ditangani", timeout=WAIT)
    await button.click()
    await expect(admin_board.locator(".sys-notice")).to_have_count(0, timeout=WAIT)
    await expect(banner).to_have_count(0, timeout=WAIT)  # the front office's board, live
    await expect(en_banner).to_have_count(0, timeout=WAIT)
    await fo_board.reload()
    await expect(fo_board.locator("#occ-inside")).not_to_have_text("–", timeout=WAIT)
    await expect(fo_board.locator(".sys-notice")).to_have_count(0)
    for context in (fo, english, admin):
        await context.close()


async def test_database_away_banner_comes_and_goes_live(
    site: Site, browser: Any, demo_login: Any
) -> None:
    """Another process holds the database: every board says so within a second, and what
    the doors do meanwhile; the banner leaves by itself once the database is back."""
    import sqlite3
    from datetime import UTC, datetime

    from service.api.app import RUNTIME
    from service.domain.taps import Reason, Tap

    assert site.app is not None
    runtime = site.app[RUNTIME]
    fo = await demo_login(browser, site, "frontoffice")
    board = await fo.new_page()
    await board.goto(site.url + "/")
    await expect(board.locator("#occ-inside")).not_to_have_text("–", timeout=WAIT)
    path = sqlite_path(site.config.database_url)
    assert path is not None
    locker = sqlite3.connect(path, timeout=1, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        tap = Tap("pintu-masuk", "04D3E000000001", datetime.now(UTC), "away-1")
        assert (await runtime.submit(tap)).reason is Reason.DATABASE_UNAVAILABLE
        banner = board.locator(".sys-notice[data-notice=database]")
        await expect(banner).to_contain_text("Basis data tidak tersedia", timeout=WAIT)
        await expect(banner).to_contain_text("pintu keluar tetap membuka")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    await expect(board.locator(".sys-notice[data-notice=database]")).to_have_count(0, timeout=WAIT)
    await fo.close()
