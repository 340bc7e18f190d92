"""Events and alarms, doors, through the HTTP API with the demo's simulated readers.

An alarm stays until acknowledged with a note (and stays acknowledged after a
restart); the day's list has every tap with its reason and every door event,
filterable; *buka pintu* needs a reason and the Head or an admin; a reader going
offline is on the status within a second. Bad input gets a clear message and
changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from devices import simulated
from service.reports.verify import verify_archive
from service.store.tables import JournalRow
from tests.support.site import Site, running_site, site_config


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with running_site(site_config(tmp_path), start_readers=True) as running:
        # Every reader up and seen so by the watch: unplugging one is then news at once.
        await wait_for(
            lambda: all(running.runtime.doors.watching(r) for r in running.runtime.health)
        )
        yield running


async def wait_for(check: Any, limit: float = 3.0) -> float:
    """Seconds until ``check()`` is true (fails after ``limit``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < limit, "timed out"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def journal_kinds(site: Site) -> list[str]:
    async with site.runtime.engine.connect() as conn:
        return list(
            (await conn.execute(select(JournalRow.kind).order_by(JournalRow.seq))).scalars()
        )


async def test_a_forced_door_stays_until_acknowledged_with_a_note_even_after_a_restart(
    tmp_path: Path,
) -> None:
    config = site_config(tmp_path)
    async with running_site(config, start_readers=True) as site:
        await wait_for(lambda: simulated.is_running("pintu-masuk"))
        fo = site["fo"]
        await simulated.simulate_door_event("pintu-masuk", "forced_open")
        await simulated.simulate_door_event("pintu-masuk", "forced_open")  # again: one alarm
        status = await fo.call("GET", "/api/v1/status")
        [alarm] = status["alarms"]
        assert (alarm["reader"], alarm["kind"], alarm["repeats"]) == (
            "pintu-masuk",
            "forced_open",
            1,
        )
        door = next(d for d in status["doors"] if d["reader"] == "pintu-masuk")
        assert door["state"] == "forced"

        # No note, a blank note, a note of two letters: refused in Indonesian, nothing kept.
        before = await journal_kinds(site)
        for body in ({}, {"note": "   "}, {"note": "ok"}):
            err = await fo.call("POST", f"/api/v1/alarms/{alarm['id']}/ack", body, expect=422)
            assert err["field"] == "note" and "Catatan" in err["message"], err
            assert "note" not in err["message"]
        # Not a number at all: no such address (the route's id is digits); 0: out of range.
        for bad, expect in (("abc", 404), ("-1", 404), ("0", 422)):
            await fo.call(
                "POST", f"/api/v1/alarms/{bad}/ack", {"note": "Sudah dicek"}, expect=expect
            )
        await fo.call("POST", "/api/v1/alarms/999/ack", {"note": "Sudah dicek"}, expect=404)
        assert await journal_kinds(site) == before
        assert (await fo.call("GET", "/api/v1/status"))["alarms"] == status["alarms"]

        note = "Satpam memeriksa, pintu ditutup kembali"
        acked = await fo.call("POST", f"/api/v1/alarms/{alarm['id']}/ack", {"note": note})
        assert (acked["acked_by"], acked["note"]) == ("frontoffice", note)
        second = await site["head"].call(
            "POST", f"/api/v1/alarms/{alarm['id']}/ack", {"note": note}, expect=409
        )
        assert "sudah" in second["message"]
        assert (await fo.call("GET", "/api/v1/status"))["alarms"] == []
        assert (await journal_kinds(site)).count("alarm.acknowledged") == 1
        # The alarms table is what the journal says (raised, repeated, acknowledged).
        assert await verify_archive(site.runtime.engine, site.runtime.personal) == []
        async with site.runtime.engine.begin() as conn:  # a note edited in place is found
            await conn.execute(text("UPDATE alarms SET note = 'Tidak ada apa-apa'"))
        faults = await verify_archive(site.runtime.engine, site.runtime.personal)
        assert any("table alarms" in f.place for f in faults), faults
        async with site.runtime.engine.begin() as conn:
            await conn.execute(text("UPDATE alarms SET note = :note"), {"note": note})

    async with running_site(config, start_readers=True) as again:
        status = await again["fo"].call("GET", "/api/v1/status")
        assert status["alarms"] == []
        listed = await again["fo"].call("GET", "/api/v1/alarms")
        [kept] = listed["alarms"]
        assert (kept["id"], kept["note"], kept["acked_by"]) == (
            alarm["id"],
            note,
            "frontoffice",
        )
        log = await again["fo"].call("GET", "/api/v1/events/log?reader=pintu-masuk")
        kinds = [e["kind"] for e in log["events"]]
        assert kinds.count("forced_open") == 2 and "acknowledged" in kinds
        ack = next(e for e in log["events"] if e["kind"] == "acknowledged")
        assert (ack["note"], ack["actor"]) == (note, "frontoffice")


async def test_the_days_list_has_every_tap_with_its_reason_and_filters(site: Site) -> None:
    fo = site["fo"]
    denied = await fo.tap("pintu-masuk", 5)  # a badge given to nobody
    assert not denied["granted"]
    await simulated.simulate_door_event("pintu-keluar", "tamper")
    log = await fo.call("GET", "/api/v1/events/log")
    tap = next(e for e in log["events"] if e["kind"] == "denied")
    assert tap["reader"] == "pintu-masuk" and tap["badge"] == "K-005"
    assert tap["message"] == denied["message"] and tap["reason"] == denied["reason"]
    assert any(e["kind"] == "tamper" and e["reader"] == "pintu-keluar" for e in log["events"])
    only = await fo.call("GET", "/api/v1/events/log?event=tamper")
    assert {e["kind"] for e in only["events"]} == {"tamper"}
    taps = await fo.call("GET", "/api/v1/events/log?event=denied&reader=pintu-masuk")
    assert [e["kind"] for e in taps["events"]] == ["denied"]
    none = await fo.call("GET", "/api/v1/events/log?reader=pintu-keluar&event=denied")
    assert none["events"] == []
    english = await fo.call("GET", "/api/v1/events/log?event=denied&lang=en")
    assert english["events"][0]["message"] != tap["message"]

    bad = await fo.call("GET", "/api/v1/events/log?event=meledak", expect=422)
    assert bad["field"] == "event" and "Jenis kejadian" in bad["message"]
    unknown = await fo.call("GET", "/api/v1/events/log?reader=pintu-lain", expect=404)
    assert unknown["field"] == "reader" and "tidak terdaftar" in unknown["message"]
    await fo.call("GET", "/api/v1/events/log?day=25-11-2026", expect=422)
    older = await fo.call("GET", "/api/v1/events/log?day=2026-11-24")
    assert older["events"] == []


async def test_buka_pintu_needs_a_reason_and_the_head_or_an_admin(site: Site) -> None:
    head, fo = site["head"], site["fo"]
    door = "/api/v1/doors/pintu-masuk/unlock"
    refused = await fo.call("POST", door, {"reason": "Tamu difabel"}, expect=403)
    assert refused["message"]
    await site["hd"].call("POST", door, {"reason": "Tamu difabel"}, expect=403)
    for body in ({}, {"reason": ""}, {"reason": "ya"}):
        err = await head.call("POST", door, body, expect=422)
        assert err["field"] == "reason" and "Alasan" in err["message"], err
    for seconds in (0, 31, "lama", 2.5):
        err = await head.call(
            "POST", door, {"reason": "Tamu difabel", "seconds": seconds}, expect=422
        )
        assert err["field"] == "seconds"
    await head.call(
        "POST", "/api/v1/doors/meja-pc-01/unlock", {"reason": "Salah pintu"}, expect=404
    )
    await head.call("POST", "/api/v1/doors/tidak-ada/unlock", {"reason": "Salah pintu"}, expect=404)
    assert "door.unlocked" not in await journal_kinds(site)
    sim = simulated._RUNNING["pintu-masuk"]
    assert sim.unlocked is None

    done = await head.call("POST", door, {"reason": "Tamu difabel dengan kursi roda", "seconds": 5})
    assert done == {"reader": "pintu-masuk", "seconds": 5.0, "unlocked": True}
    assert sim.unlocked is not None and sim.unlocked[1] == 5.0
    await site["admin"].call("POST", door, {"reason": "Teknisi memeriksa kunci"})
    assert (await journal_kinds(site)).count("door.unlocked") == 2
    log = await fo.call("GET", "/api/v1/events/log?event=unlocked")
    assert [e["actor"] for e in log["events"]] == ["admin", "kepala"]
    assert log["events"][1]["note"] == "Tamu difabel dengan kursi roda"
    tiles = (await fo.call("GET", "/api/v1/doors"))["doors"]
    assert {t["reader"] for t in tiles} == {"pintu-masuk", "pintu-keluar"}
    assert all(t["can_unlock"] for t in tiles)

    simulated.unplug("pintu-masuk")
    try:
        await wait_for(lambda: not site.runtime.health["pintu-masuk"].as_dict()["online"])
        offline = await head.call("POST", door, {"reason": "Tamu difabel"}, expect=409)
        assert "luring" in offline["message"]
        assert (await journal_kinds(site)).count("door.unlocked") == 2
    finally:
        simulated.plug("pintu-masuk")


async def test_a_reader_going_offline_and_back_is_on_the_status_within_a_second(site: Site) -> None:
    fo = site["fo"]
    client = site.runtime.hub.subscribe("status")
    try:
        simulated.unplug("front-office")
        started = time.monotonic()

        def offline_alarm(body: dict[str, Any]) -> bool:
            return any(
                a["reader"] == "front-office" and a["kind"] == "offline" for a in body["alarms"]
            )

        while True:
            body = __import__("json").loads(await asyncio.wait_for(client.queue.get(), 1.0))
            if offline_alarm(body):
                break
        assert time.monotonic() - started < 1.0
        reader = next(r for r in body["readers"] if r["name"] == "front-office")
        assert reader["online"] is False
        simulated.plug("front-office")
        await wait_for(lambda: site.runtime.health["front-office"].as_dict()["online"], 5.0)
        await wait_for(lambda: any(e.kind == "online" for e in site.runtime.device_events), 1.0)
    finally:
        simulated.plug("front-office")
        site.runtime.hub.unsubscribe(client)
    log = await fo.call("GET", "/api/v1/events/log?reader=front-office")
    assert [e["kind"] for e in log["events"]][:2] == ["online", "offline"]
    assert (await journal_kinds(site)).count("alarm.raised") == 1


async def test_the_demo_panel_makes_a_simulated_door_report_an_event(site: Site) -> None:
    fo = site["fo"]
    path = "/api/v1/readers/pintu-keluar/simulate-door"
    done = await fo.call("POST", path, {"event": "held_open"})
    assert done == {"reader": "pintu-keluar", "event": "held_open"}
    [alarm] = (await fo.call("GET", "/api/v1/status"))["alarms"]
    assert (alarm["reader"], alarm["kind"]) == ("pintu-keluar", "held_open")
    before = await journal_kinds(site)
    for body in ({}, {"event": "meledak"}, {"event": "offline"}, {"event": 3}):
        err = await fo.call("POST", path, body, expect=422)
        assert err["field"] == "event" and "Jenis kejadian" in err["message"], err
    await fo.call(
        "POST", "/api/v1/readers/tidak-ada/simulate-door", {"event": "tamper"}, expect=404
    )
    assert await journal_kinds(site) == before  # refused: nothing journaled
    simulated.unplug("pintu-masuk")
    try:
        await wait_for(lambda: not simulated.is_running("pintu-masuk"))
        gone = await fo.call(
            "POST", "/api/v1/readers/pintu-masuk/simulate-door", {"event": "tamper"}, expect=404
        )
        assert "simulasi" in gone["message"]
    finally:
        simulated.plug("pintu-masuk")
    assert "tamper" not in [a["kind"] for a in (await fo.call("GET", "/api/v1/alarms"))["alarms"]]
