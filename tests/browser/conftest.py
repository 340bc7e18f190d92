"""Browser tests: the real daemon app on 127.0.0.1 and Debian's headless Chromium.

The app is the one ``bidroom serve --demo`` runs (simulated readers, demo badges and
logins), started on an ephemeral port inside the test and stopped at its end.
Playwright drives ``/usr/bin/chromium``; no browser is ever downloaded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from service.config import Config, QueueConfig
from service.demo import DEMO_PASSWORD, demo_config
from service.server import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {CHROMIUM} is missing (apt-get install -y chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")


class Site:
    """The demo daemon on an ephemeral loopback port; can be stopped and restarted."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.app: web.Application | None = None
        self._before: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._before = asyncio.all_tasks()
        self.app = create_app(self.config, demo=True, start_readers=True)
        self.runner = web.AppRunner(
            # A closed browser tab ends its event stream at once (as under `bidroom serve`).
            self.app,
            handle_signals=False,
            shutdown_timeout=0.5,
            handler_cancellation=True,
        )
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        # Connection handlers of closed streams end a few loop turns after cleanup.
        for _ in range(150):
            pending = [t for t in asyncio.all_tasks() - self._before if not t.done()]
            if pending == [asyncio.current_task()] or not pending:
                return
            await asyncio.sleep(0.02)


def site_config(tmp_path: Path) -> Config:
    config = demo_config(tmp_path)
    return dataclasses.replace(config, queue=QueueConfig(turnover_gap_s=0, hold_s=300))


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    _need_chromium()
    running = Site(site_config(tmp_path))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    _need_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        # launch() gives every run a fresh temporary user-data-dir.
        chromium = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def login(browser: Any, site: Site, username: str, *, lang: str | None = None) -> Any:
    """A fresh browser context logged in through the login page; returns the context."""
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    if lang:
        await context.add_cookies([{"name": "lang", "value": lang, "url": site.url}])
    page = await context.new_page()
    await page.goto(site.url + "/login")
    await page.fill("#username", username)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(site.url + "/")
    await page.close()
    return context


@pytest.fixture
def demo_login() -> Any:
    return login
