"""Make ``docs/status-board.png``: the demo status board, lively, at 1366x768.

Starts the demo daemon on a free loopback port in a temporary folder, walks a few
visitors through the SOP over the JSON API (arrivals, badges, door and desk taps, a
queue number, a help request, a deposit waiting to be handed back), then has Debian's
headless Chromium photograph the board. Rerunnable by anyone:

    .venv/bin/python scripts/screenshot.py [--out docs/status-board.png] [--pages DIR]

``--pages DIR`` also photographs every other page into DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, CookieJar, web

from service.demo import DEMO_PASSWORD, demo_config, demo_uid
from service.server import create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
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
VISITORS = [
    ("Budi Santoso", "CV Maju Jaya"),
    ("Siti Rahmawati", "PT Batanghari Konstruksi"),
    ("Andi Pratama", "CV Sungai Asam"),
    ("Dewi Lestari", "PT Jambi Mandiri"),
    ("Rudi Hartono", "CV Telanaipura Teknik"),
    ("Yusuf Hakim", "PT Angso Duo"),
    ("Maya Sari", "CV Pasar Atas"),
    ("Fajar Nugroho", "PT Kota Baru Abadi"),
    ("Lina Marlina", "CV Sipin Jaya"),
]
EVENTS = itertools.count(1)


class Client:
    def __init__(self, session: ClientSession, base: str) -> None:
        self.session, self.base, self.csrf = session, base, ""

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        async with self.session.post(
            self.base + path, json=body, headers={"X-CSRF-Token": self.csrf}
        ) as response:
            data = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"{path}: {data}")
            return data

    async def tap(self, reader: str, n: int) -> Any:
        body = {"reader": reader, "uid": demo_uid(n), "event_id": f"shot-{next(EVENTS)}"}
        return await self.post("/api/v1/taps", body)


async def liven_up(client: Client) -> None:
    """Nine visitors: eight on PCs (some inside, one done), one queued; a help request,
    a desk used with no door entry (tailgating) and a slow form (a breach)."""
    now = datetime.now(UTC)
    for n, (name, company) in enumerate(VISITORS, start=1):
        visit = await client.post(
            "/api/v1/visits",
            {
                "name": name,
                "company": company,
                "doc_type": "sim",
                "doc_number": f"{n:012d}",
                "wanted_kind": "pc",
                "tender_code": f"1023{n:04d}",
                "purpose": "Unggah dokumen penawaran",
                "rules_ack": True,
                "privacy_ack": True,
                # Visitor 8's form took 8 minutes: a step-2 breach awaiting its justification.
                "form_started_at": (now - timedelta(minutes=8)).isoformat() if n == 8 else None,
            },
        )
        await client.post(f"/api/v1/visits/{visit['id']}/badge", {"label": f"K-{n:03d}"})
        if n <= 6:
            await client.tap("pintu-masuk", n)
            await client.tap(f"meja-pc-{n:02d}", n)
    await client.post(
        "/api/v1/help",
        {"category": "upload", "facility": "PC-03", "problem": "Unggah dokumen gagal (timeout)"},
    )
    await client.tap("meja-pc-07", 7)  # at the desk without a door entry: tailgating
    await client.tap("pintu-keluar", 1)
    await client.tap("front-office", 1)  # badge back: the document waits to be handed back


async def photograph(base: str, out: Path, pages_dir: Path | None) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1366, "height": 768}, locale="id-ID"
            )
            page = await context.new_page()
            await page.goto(base + "/login")
            await page.fill("#username", "frontoffice")
            await page.fill("#password", DEMO_PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(base + "/")
            await page.locator("#conn.up").wait_for()
            await page.screenshot(path=str(out))
            print(f"wrote {out}")
            if pages_dir is not None:
                for path in ("arrival", "return", "helpdesk", "day", "roll-call", "queue-display"):
                    await page.goto(f"{base}/{path}")
                    await page.wait_for_load_state("networkidle", timeout=3000)
                    target = pages_dir / f"{path}.png"
                    await page.screenshot(path=str(target), full_page=True)
                    print(f"wrote {target}")
        finally:
            await browser.close()


async def main(out: Path, pages_dir: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="bidroom-shot-") as folder:
        app = create_app(demo_config(Path(folder)), demo=True)
        runner = web.AppRunner(app, shutdown_timeout=1.0, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as session:
                client = Client(session, base)
                login = {"username": "frontoffice", "password": DEMO_PASSWORD}
                client.csrf = (await client.post("/api/v1/login", login))["csrf"]
                await liven_up(client)
            await photograph(base, out, pages_dir)
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "status-board.png")
    parser.add_argument("--pages", type=Path, default=None, help="also shoot every page here")
    args = parser.parse_args()
    out_path: Path = args.out
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if args.pages is not None:
        args.pages.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(out_path, args.pages))
    sys.exit(0)
