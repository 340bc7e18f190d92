"""The waiting-area TV in Debian's Chromium: a call made through the API shows large and
unwrapped at 1920x1080 and 1366x768, joins the last five, chimes, and is spoken (the WAV
fetched from the daemon and played, with no click, as the kiosk browser is started)."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest
from playwright.async_api import Page, expect

from service.api.app import RUNTIME
from service.speech import Speech
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.sop_steps import WAIT, Api

# The README's kiosk start: sound without a click.
KIOSK_ARGS = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
# Every play() of a media element is recorded before it runs.
RECORD_PLAY = """
window.__played = [];
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.__played.push(this.src);
  return play.call(this);
};
"""
MEASURE = """(el) => {
  const box = el.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(el);
  const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  const ctx = document.createElement("canvas").getContext("2d");
  const style = getComputedStyle(el);
  ctx.font = style.fontWeight + " " + style.fontSize + " " + style.fontFamily;
  const m = ctx.measureText(el.textContent);
  return {
    glyphs: m.actualBoundingBoxAscent + m.actualBoundingBoxDescent,
    lines: lines.size, left: box.left, right: box.right, bottom: box.bottom,
    viewW: innerWidth, viewH: innerHeight,
    scrollH: document.documentElement.scrollHeight,
  };
}"""


async def queue_with_all_pcs_taken(api: Api) -> list[int]:
    """Visitors 1..8 take PC-01..PC-08; 9 and 10 get PC-001 and PC-002. Returns the ids."""
    ids = []
    for n in range(1, 11):
        visit = await api.visit(n)
        answer = await api.post(f"/api/v1/visits/{visit['id']}/badge", {"label": f"K-{n:03d}"})
        ids.append(visit["id"])
        if n > 8:
            assert answer["ticket"]["number"] == f"PC-{n - 8:03d}", answer
    return ids


async def free_pc(api: Api, visit_id: int) -> None:
    """The visitor is done at the PC: the queue's next number is called to it."""
    await api.post(f"/api/v1/visits/{visit_id}/usage", {"action": "start"})
    await api.post(f"/api/v1/visits/{visit_id}/usage", {"action": "end"})


async def open_display(browser: Any, site: Any, width: int, height: int) -> tuple[Any, Page]:
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
    await context.add_init_script(RECORD_PLAY)
    display = await context.new_page()
    await display.goto(site.url + "/queue-display")
    await expect(display.locator("#called")).to_contain_text("Belum ada nomor", timeout=WAIT)
    return context, display


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1366, 768)])
async def test_a_call_is_shown_large_and_spoken(
    site: Any, demo_login: Any, width: int, height: int
) -> None:
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed (apt-get install -y espeak-ng)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=KIOSK_ARGS)
        try:
            await _call_and_check(browser, site, demo_login, width, height)
        finally:
            await browser.close()


async def _call_and_check(
    browser: Any, site: Any, demo_login: Any, width: int, height: int
) -> None:
    context, display = await open_display(browser, site, width, height)
    await expect(display.locator("h1")).to_contain_text(site.config.room.name)
    await expect(display.locator("#clock")).to_have_text(re.compile(r"^\d\d\.\d\d WIB$"))
    assert await display.locator("#sound").is_hidden()  # the kiosk flag: no click needed
    speech = []
    display.on("response", lambda r: speech.append(r) if "/speech" in r.url else None)

    fo = await demo_login(browser, site, "frontoffice")
    api = await Api(await fo.new_page(), site.url).start()
    ids = await queue_with_all_pcs_taken(api)
    await free_pc(api, ids[0])

    ticket = display.locator('.tv-ticket[data-number="PC-001"]')
    await expect(ticket).to_contain_text("PC-01", timeout=WAIT)
    number = display.locator(".tv-number")
    m = await number.evaluate(MEASURE)
    assert m["glyphs"] >= m["viewH"] / 10, m  # the digits themselves, not only the box
    assert m["lines"] == 1, m
    assert m["left"] >= 0 and m["right"] <= m["viewW"], m
    assert m["scrollH"] <= m["viewH"], m  # nothing below the fold on the TV
    await expect(display.locator("#last .tv-last-item").first).to_have_attribute(
        "data-number", "PC-001"
    )
    body = display.locator("body")
    await expect(body).to_have_attribute("data-chimes", "1")
    await expect(body).to_have_attribute("data-speech", "on", timeout=WAIT)
    played = await display.evaluate("window.__played")
    assert played == [site.url + "/api/v1/queue/calls/PC-001/speech"], played
    assert [r.status for r in speech] == [200]
    assert speech[0].headers["content-type"] == "audio/wav"

    # A second call: the big number moves on, the first stays in the last calls, spoken too.
    await free_pc(api, ids[1])
    await expect(display.locator('.tv-ticket[data-number="PC-002"]')).to_contain_text(
        "PC-02", timeout=WAIT
    )
    last = display.locator("#last .tv-last-item")
    await expect(last).to_have_count(2)
    assert [await li.get_attribute("data-number") for li in await last.all()] == [
        "PC-002",
        "PC-001",
    ]
    await expect(body).to_have_attribute("data-spoken", "2", timeout=WAIT * 2)
    played = await display.evaluate("window.__played")
    assert played[-1].endswith("/api/v1/queue/calls/PC-002/speech"), played

    # A reload (or the TV switched off and on) shows the calls again without announcing them.
    await display.reload()
    await expect(display.locator('.tv-ticket[data-number="PC-002"]')).to_be_visible(timeout=WAIT)
    await expect(display.locator("#last .tv-last-item")).to_have_count(2)
    assert await body.get_attribute("data-chimes") is None
    assert await display.evaluate("window.__played") == []
    await fo.close()
    await context.close()


@pytest.mark.timeout(120)
async def test_without_espeak_the_tv_chimes_and_says_why(
    site: Any, browser: Any, demo_login: Any
) -> None:
    """The longest number of the room (a laptop desk's) at 1366x768, no speech engine, and
    the daemon restarted under the TV."""
    site.app[RUNTIME].speech = Speech(program="espeak-ng-is-not-here")
    context, display = await open_display(browser, site, 1366, 768)
    fo = await demo_login(browser, site, "frontoffice")
    api = await Api(await fo.new_page(), site.url).start()
    ids = [(await api.visit(n, wanted_kind="laptop_desk"))["id"] for n in range(1, 6)]
    for n, visit_id in enumerate(ids, 1):
        await api.post(f"/api/v1/visits/{visit_id}/badge", {"label": f"K-{n:03d}"})
    await free_pc(api, ids[0])
    ticket = display.locator('.tv-ticket[data-number="LPT-001"]')
    await expect(ticket).to_contain_text("LPT-01", timeout=WAIT)
    m = await display.locator(".tv-number").evaluate(MEASURE)
    assert m["glyphs"] >= m["viewH"] / 10 and m["lines"] == 1, m
    assert m["left"] >= 0 and m["right"] <= m["viewW"] and m["scrollH"] <= m["viewH"], m
    last = display.locator("#last .tv-last-item").first
    await expect(last).to_contain_text("LPT-01")
    assert await last.evaluate("(li) => li.scrollWidth <= li.clientWidth")  # the time shows
    body = display.locator("body")
    await expect(body).to_have_attribute("data-chimes", "1")
    await expect(body).to_have_attribute("data-speech", "off", timeout=WAIT)
    note = display.locator("#speech-note")
    await expect(note).to_contain_text("espeak-ng")
    await expect(note).to_contain_text("hanya membunyikan lonceng")

    # The daemon restarts: the TV reconnects by itself, keeps the call, announces nothing again.
    await site.stop()
    await expect(display.locator("#conn")).to_have_text(re.compile("Terputus"), timeout=WAIT)
    await site.start()
    await expect(display.locator("#conn")).to_have_text("Tersambung", timeout=WAIT)
    await expect(ticket).to_be_visible()
    await expect(display.locator("#last .tv-last-item")).to_have_count(1)
    assert await body.get_attribute("data-chimes") == "1"

    # A site whose prefix is longer (MEJAL-001) still gets one line: the type is made
    # smaller to fit the box, but never below a tenth of the screen's height.
    await display.evaluate(
        """render({kinds: [], calls: [{number: "MEJAL-001", facility: "MEJA-01",
           label: "Meja", called_at: new Date().toISOString()}]})"""
    )
    m = await display.locator('.tv-ticket[data-number="MEJAL-001"] .tv-number').evaluate(MEASURE)
    assert m["glyphs"] >= m["viewH"] / 10 and m["lines"] == 1, m
    box = await display.locator("#called .tv-ticket").bounding_box()
    assert box is not None and box["x"] <= m["left"] and m["right"] <= box["x"] + box["width"], m
    await fo.close()
    await context.close()
