"""Steps the browser tests share: API shortcuts for set-up, the demo tap panel, the form."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

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
