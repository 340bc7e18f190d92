"""``archive verify`` streams: a long journal in small pages, the same faults as in one.

A few busy days (some 1,100 journal rows) walked through the real runtime, one day
signed and sealed, then verified with pages of 16 journal rows and 8 table rows, on
SQLite and on PostgreSQL: a clean archive stays clean, tampering in the middle is
found at its place, the faults are exactly those found with pages big enough to hold
everything at once, and no page, no waiting room and no replayed access log ever
holds more than a page or a day.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text

import service.reports.replay as replay_module
import service.reports.verify as verify_module
import service.reports.verify_tables as tables_module
from service.domain import days
from service.reports.archive import Fault
from service.reports.sample import Clock, Walker, add_scenario_staff, sample_config, walk_busy_day
from service.reports.seal import SealOnSignOff
from service.reports.verify import verify_archive
from service.reports.verify_tables import EventCheck
from service.runtime import Runtime
from service.store.tables import ENTITY_TABLES

DAYS = [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
CHUNK, PAGE = 16, 8


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'bidroom.db'}"


@pytest.fixture
async def room(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    url = database_url
    clock = Clock(datetime.now(UTC))
    clock.at(DAYS[0], 7, 0)
    rt = Runtime(sample_config(tmp_path, pcs=6, url=url), clock=clock, start_readers=False)
    await rt.start()
    sealer = SealOnSignOff(rt)
    rt.fact_listeners.append(sealer)
    try:
        await add_scenario_staff(rt, clock.now)
        walker = Walker(rt, clock)
        await walker.enroll(10)
        rng = random.Random(11)
        for day in DAYS:
            await walk_busy_day(walker, day, 20, rng)
            if day == DAYS[0]:  # the first day signed and sealed before the next begins
                await close_and_sign(rt, clock, day)
                await sealer.wait()
        yield rt
    finally:
        await sealer.stop()
        await rt.stop()


async def close_and_sign(rt: Runtime, clock: Clock, day: date) -> None:
    now = clock.at(day, 16, 10)
    await rt.execute(lambda tx: days.close_day(tx, rt.policy, day, now, "fo-rina"))
    signed = clock.at(day, 16, 12)
    await rt.execute(lambda tx: days.sign_day(tx, rt.policy, day, signed, "kepala"))


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """Pages of CHUNK journal rows and PAGE table rows, and what each one held."""
    seen: dict[str, list[int]] = {"chunks": [], "pages": [], "waiting": [], "events": []}
    chunks, pages = replay_module.journal_chunks, tables_module.table_pages

    async def spied_chunks(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async for chunk in chunks(*args, **{**kwargs, "chunk": CHUNK}):
            seen["chunks"].append(len(chunk))
            yield chunk

    async def spied_pages(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async for page in pages(*args, **kwargs):
            seen["pages"].append(len(page))
            yield page

    catch_up = EventCheck.catch_up

    async def spied_catch_up(self: EventCheck, conn: Any, final: bool = False) -> None:
        seen["waiting"].append(len(self.pending) + len(self.stored))
        await catch_up(self, conn, final)

    apply = replay_module.Replay.apply

    def spied_apply(self: replay_module.Replay, entry: Any, opener: Any) -> None:
        apply(self, entry, opener)
        seen["events"].append(len(self.events))

    monkeypatch.setattr(verify_module, "journal_chunks", spied_chunks)
    monkeypatch.setattr(tables_module, "table_pages", spied_pages)
    monkeypatch.setattr(tables_module, "PAGE", PAGE)
    monkeypatch.setattr(EventCheck, "catch_up", spied_catch_up)
    monkeypatch.setattr(replay_module.Replay, "apply", spied_apply)
    return seen


async def sql(rt: Runtime, statement: str, **params: Any) -> Any:
    async with rt.engine.begin() as conn:
        result = await conn.execute(text(statement), params)
        return result.all() if statement.startswith("select") else None


async def tamper(rt: Runtime) -> dict[str, int]:
    """Faults in the middle of the journal and of the access log, behind the daemon's back."""
    (count,) = (await sql(rt, "select count(*) from journal"))[0]
    middle = count // 2
    taps = await sql(
        rt, "select seq from journal where kind = 'tap.decided' and seq > :m order by seq", m=middle
    )
    altered, deleted = taps[0][0], taps[5][0]
    await sql(rt, "update journal set actor = 'someone' where seq = :s", s=altered)
    await sql(rt, "delete from journal where seq = :s", s=deleted)
    (events,) = (await sql(rt, "select count(*) from access_events"))[0]
    ids = [r[0] for r in await sql(rt, "select id from access_events order by id")]
    edited, gone = ids[len(ids) // 2], ids[len(ids) // 2 + 7]
    await sql(rt, "update access_events set reader = 'pintu-belakang' where id = :i", i=edited)
    await sql(rt, "delete from access_events where id = :i", i=gone)
    forged = {"id": ids[-1] + 1000, "reader": "pintu-masuk", "role": "door_in", "uid": "X"}
    forged |= {"granted": True, "reason": "entry", "event_id": "forged"}
    forged["at"] = datetime.combine(DAYS[1], datetime.min.time(), UTC) + timedelta(hours=5)
    async with rt.engine.begin() as conn:
        await conn.execute(insert(ENTITY_TABLES["access_event"]).values(**forged))
    return {"altered": altered, "deleted": deleted, "edited": edited, "gone": gone,
            "forged": ids[-1] + 1000, "events": events, "rows": count}  # fmt: skip


def places(faults: list[Fault]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in faults:
        out[f.place] = f"{out.get(f.place, '')} {f.problem}".strip()
    return out


@pytest.mark.timeout(180)  # three checks of ~1,100 journal rows in pages of 16, on a busy CI
async def test_streamed_verify_is_clean_then_finds_tampering_in_the_middle(
    room: Runtime, small_pages: dict[str, list[int]]
) -> None:
    rt = room
    assert await verify_archive(rt.engine, rt.personal) == []
    assert len(small_pages["chunks"]) > 50  # a long journal, many pages
    where = await tamper(rt)
    small_pages["chunks"].clear()
    streamed = await verify_archive(rt.engine, rt.personal)
    found = places(streamed)
    assert "altered" in found[f"journal seq {where['altered']}"]
    assert "missing" in found[f"journal seq {where['deleted'] + 1}"]
    assert "reader differ" in found[f"table access_events id {where['edited']}"]
    assert "row deleted" in found[f"table access_events id {where['gone']}"]
    assert "not in the journal" in found[f"table access_events id {where['forged']}"]
    # Exactly the faults of one pass holding everything (pages far bigger than the data).
    tables_module.PAGE = 10**9
    try:
        whole = [f async for f in _whole(rt)]
    finally:
        tables_module.PAGE = PAGE
    assert streamed == whole


async def _whole(rt: Runtime) -> AsyncIterator[Fault]:
    chunks = replay_module.journal_chunks

    async def one_chunk(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async for chunk in chunks(*args, **{**kwargs, "chunk": 10**9}):
            yield chunk

    saved = getattr(verify_module, "journal_chunks")  # noqa: B009
    setattr(verify_module, "journal_chunks", one_chunk)  # noqa: B010
    try:
        for fault in await verify_archive(rt.engine, rt.personal):
            yield fault
    finally:
        setattr(verify_module, "journal_chunks", saved)  # noqa: B010


@pytest.mark.timeout(120)
async def test_verify_never_holds_the_journal_or_the_access_log(
    room: Runtime, small_pages: dict[str, list[int]]
) -> None:
    rt = room
    (rows,) = (await sql(rt, "select count(*) from journal"))[0]
    (events,) = (await sql(rt, "select count(*) from access_events"))[0]
    per_day = max(r[1] for r in await sql(
        rt, "select substr(cast(at as text), 1, 10), count(*) from access_events group by 1"
    ))  # fmt: skip
    assert await verify_archive(rt.engine, rt.personal) == []
    assert max(small_pages["chunks"]) == CHUNK and sum(small_pages["chunks"]) == rows
    assert max(small_pages["pages"]) <= PAGE
    # The access log meets the replayed taps a page at a time, never whole.
    assert max(small_pages["waiting"]) <= 2 * CHUNK < events
    # The replay keeps the taps of a sealed day only until its books are derived again.
    assert max(small_pages["events"]) <= per_day + CHUNK < events
