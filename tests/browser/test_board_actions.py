"""Status-board actions in a real browser: priority for a waiting number, facility service.

Each action is asked inline on the board (no blocking browser dialog), goes to the API,
and shows through the board's live update; a refusal is said in the page's notice.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Dialog, Locator, Page, expect

from tests.browser.sop_steps import WAIT, Api, fill_all_pcs

pytestmark = pytest.mark.browser

REASON = "Batas unggah penawaran tender 12345678 pukul 15.00"


async def open_board(context: Any, site: Any) -> tuple[Page, list[str]]:
    """The board in a new tab, with every browser dialog it raises recorded."""
    board = await context.new_page()
    dialogs: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    board.on("dialog", dismiss)
    await board.goto(site.url + "/")
    return board, dialogs


async def queue_two(api: Api) -> tuple[str, str]:
    """Every PC taken; visitors 9 and 10 wait, in that order. Their numbers."""
    first = await fill_all_pcs(api, first=True)
    visit = await api.visit(10)
    second = await api.post(f"/api/v1/visits/{visit['id']}/badge", {"label": "K-010"})
    return first, str(second["ticket"]["number"])


async def fits_the_screen(board: Page) -> None:
    size = await board.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert size[0] <= 1366 and size[1] <= 768, size


def waiting_row(board: Page, number: str) -> Locator:
    return board.locator(f'#queue li.waiting[data-number="{number}"]')


async def test_second_number_prioritised_with_reason_goes_first(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    board, dialogs = await open_board(fo, site)
    first, second = await queue_two(await Api(board, site.url).start())
    waiting = board.locator("#queue li.waiting")
    await expect(waiting).to_have_count(2, timeout=WAIT)
    await expect(waiting.first).to_have_attribute("data-number", first)

    row = waiting_row(board, second)
    await row.get_by_role("button", name="Prioritaskan").click()
    reason = row.get_by_label("Alasan prioritas")
    await expect(reason).to_be_focused(timeout=WAIT)
    await reason.fill(REASON)
    await fits_the_screen(board)  # the open form squeezes the board, never scrolls it
    await row.get_by_role("button", name="Simpan").click()

    # Marked, with its reason, and listed before the number that came earlier.
    await expect(waiting.first).to_have_attribute("data-number", second, timeout=WAIT)
    await expect(waiting.first.locator(".badge")).to_have_text("Prioritas")
    await expect(waiting.first).to_contain_text("Alasan prioritas: " + REASON)
    await expect(waiting.first.get_by_label("Alasan prioritas")).to_have_count(0)
    await expect(waiting.nth(1)).to_have_attribute("data-number", first)
    await expect(waiting.nth(1).locator(".badge")).to_have_count(0)
    assert dialogs == []
    # The queue follows it: the next call goes to the prioritised number.
    status = await (await board.request.get(site.url + "/api/v1/status")).json()
    pcs = next(k for k in status["queue"]["kinds"] if k["kind"] == "pc")
    assert [t["number"] for t in pcs["waiting"]] == [second, first]
    await fo.close()


async def test_priority_without_a_reason_is_refused_and_said(
    site: Any, browser: Any, demo_login: Any
) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    board, dialogs = await open_board(fo, site)
    number = await fill_all_pcs(await Api(board, site.url).start(), first=True)
    row = waiting_row(board, number)
    await row.get_by_role("button", name="Prioritaskan").click()
    await row.get_by_label("Alasan prioritas").fill("   ")
    await row.get_by_role("button", name="Simpan").click()

    toast = board.locator("#toast")
    await expect(toast).to_be_visible(timeout=WAIT)
    await expect(toast).to_contain_text("wajib diisi")
    # The form stays open on the field to fix; the number is not marked.
    reason = row.get_by_label("Alasan prioritas")
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await expect(reason).to_be_focused()
    await expect(row.locator(".badge")).to_have_count(0)
    # Cancel closes the form and leaves the number as it was.
    await row.get_by_role("button", name="Batal").click()
    await expect(reason).to_have_count(0)
    await expect(row.get_by_role("button", name="Prioritaskan")).to_be_visible()
    assert dialogs == []
    await fo.close()


async def confirm_service(board: Page, code: str, verb: str, question: str) -> None:
    tile = board.locator(f'[data-facility="{code}"]')
    await tile.get_by_role("button", name=verb).click()
    confirm = tile.get_by_role("group", name=question)
    await expect(confirm).to_be_visible(timeout=WAIT)
    await fits_the_screen(board)
    await confirm.get_by_role("button", name="Ya").click()


async def test_facility_out_of_service_and_back(site: Any, browser: Any, demo_login: Any) -> None:
    fo = await demo_login(browser, site, "frontoffice")
    board, dialogs = await open_board(fo, site)
    other, _ = await open_board(fo, site)  # a second desk sees each change live
    code = "LPT-02"
    tile, seen = (
        board.locator(f'[data-facility="{code}"]'),
        other.locator(f'[data-facility="{code}"]'),
    )
    await expect(tile.locator(".state")).to_have_text("Kosong", timeout=WAIT)

    # Nothing happens until confirmed: cancelling leaves the tile free.
    await tile.get_by_role("button", name="Nonaktifkan").click()
    await (
        tile.get_by_role("group", name=f"Nonaktifkan {code}?")
        .get_by_role("button", name="Batal")
        .click()
    )
    await expect(tile.get_by_role("group")).to_have_count(0)
    await expect(tile).to_have_class(re.compile(r"\bfree\b"))

    await confirm_service(board, code, "Nonaktifkan", f"Nonaktifkan {code}?")
    for view in (tile, seen):
        await expect(view).to_have_class(re.compile(r"\bout_of_service\b"), timeout=WAIT)
        await expect(view.locator(".state")).to_have_text("Tidak berfungsi")
    await expect(tile.get_by_role("group")).to_have_count(0)

    await confirm_service(board, code, "Aktifkan", f"Aktifkan {code} kembali?")
    for view in (tile, seen):
        await expect(view).to_have_class(re.compile(r"\bfree\b"), timeout=WAIT)
        await expect(view.locator(".state")).to_have_text("Kosong")
    await expect(tile.get_by_role("button", name="Nonaktifkan")).to_be_visible()
    assert dialogs == []
    await fo.close()


async def test_actions_follow_role_and_language(site: Any, browser: Any, demo_login: Any) -> None:
    fo = await demo_login(browser, site, "frontoffice", lang="en")
    board, _ = await open_board(fo, site)
    number = await fill_all_pcs(await Api(board, site.url).start(), first=True)
    row = waiting_row(board, number)
    await row.get_by_role("button", name="Prioritise").click()
    await expect(row.get_by_label("Reason for priority")).to_be_visible(timeout=WAIT)
    tile = board.locator('[data-facility="LPT-01"]')
    await tile.get_by_role("button", name="Deactivate").click()
    await expect(tile.get_by_role("group", name="Take LPT-01 out of service?")).to_be_visible()
    await expect(tile.get_by_role("button", name="Cancel")).to_be_visible()

    # The help desk sees the same queue and tiles, without the front-office actions.
    helpdesk = await demo_login(browser, site, "helpdesk")
    desk, _ = await open_board(helpdesk, site)
    await expect(waiting_row(desk, number)).to_be_visible(timeout=WAIT)
    await expect(desk.locator('[data-facility="LPT-01"]')).to_be_visible()
    await expect(desk.get_by_role("button", name="Prioritaskan")).to_have_count(0)
    await expect(desk.get_by_role("button", name="Nonaktifkan")).to_have_count(0)
    await helpdesk.close()
    await fo.close()
