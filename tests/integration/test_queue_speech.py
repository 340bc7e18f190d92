"""The waiting-area TV's spoken calls over HTTP: a real WAV from espeak-ng, cached,
only for numbers called today, and a clear chime-only answer without the engine."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import wave
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from service.speech import Speech, SpeechUnavailable
from tests.integration.test_sop_api import FORM
from tests.support.site import KTP_A, KTP_B, KTP_C, Site, running_site, site_config

SPEECH = "/api/v1/queue/calls/{}/speech"
ONE_PC = {"pc": {"count": 1, "label": "PC Desktop", "prefix": "PC"}}


def need_espeak() -> None:
    if shutil.which("espeak-ng"):
        return
    if os.environ.get("CI"):
        pytest.fail("CI is set but espeak-ng is missing (apt-get install -y espeak-ng)")
    pytest.skip("espeak-ng not installed (apt-get install -y espeak-ng)")


async def arrive(site: Site, name: str, nik: str, badge: int) -> dict[str, Any]:
    fo = site["fo"]
    visit = await fo.call(
        "POST", "/api/v1/visits", {**FORM, "name": name, "doc_number": nik}, expect=201
    )
    await fo.call("POST", f"/api/v1/visits/{visit['id']}/arm-badge", {"reader": "front-office"})
    assert (await fo.tap("front-office", badge))["reason"] == "badge_issued"
    return await fo.call("GET", f"/api/v1/visits/{visit['id']}")


async def call_one(site: Site) -> tuple[dict[str, Any], dict[str, Any]]:
    """A holds the only PC, B and C queue (PC-001, PC-002); A is done, PC-001 is called."""
    a = await arrive(site, "Siti Aminah", KTP_A, 1)
    b = await arrive(site, "Budi Santoso", KTP_B, 2)
    c = await arrive(site, "Çağrı Nguyễn", KTP_C, 3)
    assert (b["ticket"]["number"], c["ticket"]["number"]) == ("PC-001", "PC-002")
    fo = site["fo"]
    await fo.call("POST", f"/api/v1/visits/{a['id']}/usage", {"action": "start"})
    await fo.call("POST", f"/api/v1/visits/{a['id']}/usage", {"action": "end"})
    site.clock.advance(seconds=61)
    await site.runtime.tick()
    public = await (await anonymous(site).get("/api/v1/queue/public")).json()
    return b, public


def anonymous(site: Site) -> TestClient[Any, Any]:
    # A logged-in client without its cookie: the display has no login.
    client = site["hd"].client
    client.session.cookie_jar.clear()
    return client


async def test_a_called_number_is_spoken_as_a_real_wav_once(tmp_path: Path) -> None:
    need_espeak()
    async with running_site(site_config(tmp_path, facilities=ONE_PC)) as site:
        _, public = await call_one(site)
        assert public["calls"][0]["number"] == "PC-001"
        assert public["calls"][0]["facility"] == "PC-01"
        tv = anonymous(site)
        response = await tv.get(SPEECH.format("PC-001"))
        assert response.status == 200, await response.text()
        assert response.content_type == "audio/wav"
        assert response.headers["X-Spoken-Text"] == (
            "Nomor antrian P C nol nol satu, silakan ke P C nol satu"
        )
        audio = await response.read()
        with wave.open(io.BytesIO(audio)) as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2
            seconds = w.getnframes() / w.getframerate()
            samples = w.readframes(w.getnframes())
        assert 2.0 < seconds < 15.0, seconds  # the whole sentence, said at a calm pace
        assert len(samples) == w.getnframes() * 2  # the header's length is the real one
        assert (
            max(
                abs(int.from_bytes(samples[i : i + 2], "little", signed=True))
                for i in range(0, len(samples), 200)
            )
            > 1000
        )  # not silence
        assert site.runtime.speech.runs == 1
        # Another display, a reload, five displays at once: the engine is not run again.
        again = await asyncio.gather(*(tv.get(SPEECH.format("pc-001")) for _ in range(5)))
        assert [r.status for r in again] == [200] * 5
        assert {await r.read() for r in again} == {audio}
        assert site.runtime.speech.runs == 1


async def test_only_a_number_called_today_is_spoken(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path, facilities=ONE_PC)) as site:
        await call_one(site)
        site.runtime.speech = Speech(program="espeak-ng-is-not-here")
        tv = anonymous(site)
        for number in ("PC-002", "PC-999", "HS-001", "xyz"):  # waiting, never issued, ...
            response = await tv.get(SPEECH.format(number))
            body = await response.json()
            assert response.status == 404, (number, body)
            assert body["message"] == "Nomor antrian ini belum dipanggil hari ini."
        english = await tv.get(SPEECH.format("PC-002") + "?lang=en")
        assert (await english.json())["message"] == "This number has not been called today."
        long = await tv.get(SPEECH.format("PC-" + "1" * 40))
        body = await long.json()
        assert long.status == 422 and "Nomor antrian" in body["message"], body
        assert "number" not in body["message"]
        for hostile in ("PC-%00", "%F0%9F%94%8A", "PC-%D9%A0%D9%A0%D9%A1", "..%2F..%2Fetc"):
            response = await tv.get(SPEECH.format(hostile))
            assert response.status in (404, 422), (hostile, response.status)
            body = await response.json()
            assert body["message"].startswith("Nomor antrian"), body
        # The good request beside them is still answered as before.
        assert (await tv.get(SPEECH.format("PC-001"))).status == 503  # (no engine here)
        # Tomorrow the numbers start again: yesterday's PC-001 is not spoken.
        site.clock.advance(days=1)
        assert (await tv.get(SPEECH.format("PC-001"))).status == 404
        assert site.runtime.speech.runs == 0


async def test_without_espeak_the_display_is_told_clearly_to_chime_only(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path, facilities=ONE_PC)) as site:
        _, public = await call_one(site)
        site.runtime.speech = Speech(program="espeak-ng-is-not-here")
        assert not site.runtime.speech.available
        tv = anonymous(site)
        response = await tv.get(SPEECH.format("PC-001"))
        body = await response.json()
        assert response.status == 503
        assert body["error"] == "no_speech"
        assert "espeak-ng" in body["message"] and "lonceng" in body["message"]
        english = await (await tv.get(SPEECH.format("PC-001") + "?lang=en")).json()
        assert "only chimes" in english["message"]
        # Nothing changed: the call is still on the display.
        assert await (await tv.get("/api/v1/queue/public")).json() == public


async def test_public_queue_names_no_one(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path, facilities=ONE_PC)) as site:
        _, public = await call_one(site)
        text = str(public)
        for personal in ("Siti", "Budi", "Nguyễn", KTP_A[:6], "visit_id", "name"):
            assert personal not in text
        assert set(public["calls"][0]) == {"number", "facility", "label", "called_at"}


async def test_the_last_five_calls_newest_first(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path)) as site:
        fo = site["fo"]
        # Eight PCs taken, then seven numbers; each PC freed in turn calls the next one.
        visits = []
        for n in range(1, 16):
            visit = await fo.call(
                "POST",
                "/api/v1/visits",
                {**FORM, "name": f"Pengunjung {n}", "doc_type": "sim", "doc_number": f"{n:012d}"},
                expect=201,
            )
            await fo.call("POST", f"/api/v1/visits/{visit['id']}/badge", {"label": f"K-{n:03d}"})
            visits.append(visit["id"])
        for visit_id in visits[:7]:
            await fo.call("POST", f"/api/v1/visits/{visit_id}/usage", {"action": "start"})
            await fo.call("POST", f"/api/v1/visits/{visit_id}/usage", {"action": "end"})
            site.clock.advance(seconds=61)
            await site.runtime.tick()
        calls = (await (await anonymous(site).get("/api/v1/queue/public")).json())["calls"]
        assert [c["number"] for c in calls] == ["PC-007", "PC-006", "PC-005", "PC-004", "PC-003"]
        # PC-001 was not claimed within the hold time: its PC-01 went to PC-006 (a no-show).
        assert [c["facility"] for c in calls] == ["PC-06", "PC-01", "PC-05", "PC-04", "PC-03"]
        assert all(c["label"] == "PC Desktop" for c in calls)


async def test_the_engine_is_bounded_by_a_timeout(tmp_path: Path) -> None:
    slow = tmp_path / "slow-espeak"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    speech = Speech(str(slow), timeout_s=0.5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SpeechUnavailable) as failed:
        await speech.wav("Nomor antrian P C nol nol satu")
    assert loop.time() - started < 5
    assert "tidak menjawab" in failed.value.message("id")
    assert "timed out" in failed.value.message("en")


async def test_an_engine_that_says_nothing_useful_is_a_clear_failure(tmp_path: Path) -> None:
    broken = tmp_path / "broken-espeak"
    broken.write_text("#!/bin/sh\necho 'not audio'\n")
    broken.chmod(0o755)
    failing = tmp_path / "failing-espeak"
    failing.write_text("#!/bin/sh\necho 'no voice id' >&2\nexit 1\n")
    failing.chmod(0o755)
    for program, why in ((broken, "bukan audio"), (failing, "mesin suara gagal")):
        speech = Speech(str(program))
        results = await asyncio.gather(
            *(speech.wav("Nomor antrian H S nol satu") for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, SpeechUnavailable) for r in results), results
        first = results[0]
        assert isinstance(first, SpeechUnavailable) and why in first.message("id")
        assert speech.runs == 1  # three asks at once, one engine run
        with pytest.raises(SpeechUnavailable):  # a failure is not cached: tried again
            await speech.wav("Nomor antrian H S nol satu")
        assert speech.runs == 2


async def test_the_cache_keeps_the_latest_texts(tmp_path: Path) -> None:
    need_espeak()
    speech = Speech(cache_size=2)
    texts = [
        "Nomor antrian H S nol satu",
        "Nomor antrian H S nol dua",
        "Nomor antrian H S nol tiga",
    ]
    for text in texts:
        await speech.wav(text)
    await speech.wav(texts[2])
    await speech.wav(texts[1])
    assert speech.runs == 3
    await speech.wav(texts[0])  # the oldest was let go
    assert speech.runs == 4
