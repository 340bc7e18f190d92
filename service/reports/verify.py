"""``bidroom archive verify``: the chain, the tables against the journal, the seals.

One streamed pass over the journal does it all, in bounded memory (a year is a
million journal rows and half a million taps): the journal is read in pages, the
access log is compared with the replayed taps as they pass, the other tables a page
at a time against the replayed state, and each sealed day's files, manifest and rows
are read one day at a time (:mod:`service.reports.verify_tables`).

- the chain is checked row by row;
- the facts are replayed with the same ``apply`` the daemon uses, and every table
  row (a signed day's rows with their later, amended versions laid over them) is
  compared with the replayed state at the end;
- when the replay reaches a sealed day's signature, that day's books are derived
  again and compared with the digests the seal kept;
- each sealed file is checked against its stored, journaled and manifest hashes;
- each sealed day's own rows are compared with the record digests its seal kept:
  a signed day never changes in place, so any row of it that changed, appeared or
  vanished since is named.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.domain import facts as f
from service.privacy import PersonalData
from service.reports.archive import (
    Fault,
    digest_faults,
    file_faults,
    journaled_hashes,
    manifest_name,
    sealed_rows,
)
from service.reports.books import build_books
from service.reports.replay import Opener, Replay, journal_chunks, opener_for, prefetch_keys
from service.reports.verify_tables import (
    Comparer,
    EventCheck,
    VisitMap,
    day_digests,
    day_keep,
    everything,
    overlay,
    record_faults,
    table_faults,
    visit_map,
)
from service.store.journal import ChainCheck, JournalEntry
from service.store.loader import journal_head
from service.store.tables import JournalRow, SealedFileRow, table_of

_LOGGER = logging.getLogger(__name__)
KEYS_HELD = 8192  # data keys held at once (a page's subjects are fetched before it)
_JOURNAL = table_of(JournalRow)
_SEALED = table_of(SealedFileRow)


@contextlib.asynccontextmanager
async def _reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection for the whole check (on PostgreSQL one REPEATABLE READ snapshot)."""
    async with engine.connect() as raw:
        if engine.dialect.name != "postgresql":
            yield raw
            return
        conn = await raw.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            yield conn


async def _manifest(
    conn: AsyncConnection, day: date, rows: list[Any]
) -> tuple[dict[str, Any] | None, list[Fault]]:
    """The newest seal's manifest of ``day``, read when needed (never all days at once)."""
    name = manifest_name(day)
    if not any(r.name == name for r in rows):
        return None, [Fault(f"file {name}", "seal manifest is missing")]
    stmt = select(_SEALED.c.content).where(
        _SEALED.c.day == day, _SEALED.c.name == name, _SEALED.c.journal_seq == rows[0].journal_seq
    )
    content = (await conn.execute(stmt.order_by(_SEALED.c.id.desc()).limit(1))).scalar()
    try:
        return json.loads(content or b""), []
    except ValueError:
        return None, [Fault(f"file {name}", "seal manifest is unreadable")]


async def _last_signatures(conn: AsyncConnection, upto: int) -> dict[date, int]:
    """The seq of each day's last signature (when its books are last derived)."""
    stmt = select(_JOURNAL.c.seq, _JOURNAL.c.payload).where(
        _JOURNAL.c.kind == f.DaySigned.KIND, _JOURNAL.c.seq <= upto
    )
    out: dict[date, int] = {}
    for seq, payload in (await conn.execute(stmt)).all():
        with contextlib.suppress(ValueError, KeyError, TypeError, msgspec.DecodeError):
            day = date.fromisoformat(msgspec.json.decode(payload)["fact"]["day"])
            out[day] = max(out.get(day, 0), seq)
    return out


class _Pass:
    """The one streamed pass: chain, replay, access log, books at each signature."""

    def __init__(
        self, conn: AsyncConnection, opener: Opener, sealed: dict[date, list[Any]], tz: ZoneInfo
    ) -> None:
        self.conn, self.opener, self.sealed, self.tz = conn, opener, sealed, tz
        self.chain: list[Fault] = []
        self.books: list[Fault] = []
        self.heads: dict[int, str] = {}  # the sealed heads' seqs -> hash as stored
        self.entries = 0

    async def run(
        self, upto: int, readable: set[date], events: EventCheck, replayed: Replay
    ) -> None:
        wanted = {rows[0].journal_seq for rows in self.sealed.values()}
        last_signed = await _last_signatures(self.conn, upto)
        replayed.watch = {d: set() for d in readable if d in last_signed}
        check = ChainCheck()
        async for chunk in journal_chunks(self.conn, upto):
            await prefetch_keys(self.conn, self.opener, chunk)
            for entry in chunk:
                self.chain += [
                    Fault(f"journal seq {c.seq}", c.describe().split(": ", 1)[1])
                    for c in check.feed(entry)
                ]
                if entry.seq in wanted:
                    self.heads[entry.seq] = entry.hash
                replayed.apply(entry, self.opener)
                if entry.kind == f.DaySigned.KIND:
                    await self._derive(entry, readable, replayed)
            self.entries += len(chunk)
            await events.catch_up(self.conn)
            for day in [d for d in replayed.watch if last_signed[d] <= replayed.head_seq]:
                replayed.unwatch(day)
        await events.catch_up(self.conn, final=True)

    async def _derive(self, entry: JournalEntry, readable: set[date], replayed: Replay) -> None:
        """A sealed day's signature: its books again, from the journal as of now."""
        for day in readable:
            if replayed.signed_at_seq.get(day) == entry.seq:
                body, _ = await _manifest(self.conn, day, self.sealed[day])
                if body is not None:
                    books = build_books(replayed.day_records(day, self.tz), day, day, self.tz)
                    self.books += digest_faults(day, body.get("rows", {}), books)


async def verify_archive(
    engine: AsyncEngine,
    personal: PersonalData | None,
    day: date | None = None,
    tz: ZoneInfo | None = None,
) -> list[Fault]:
    """Every fault in the archive (all of it, or one day's part); empty when intact.

    Without ``personal`` (no key file at hand) personal fields are not compared.
    """
    tz = tz or ZoneInfo("Asia/Jakarta")
    sealed = await sealed_rows(engine, day, content=False)
    async with _reading(engine) as conn:
        upto = (await journal_head(conn)).seq
        opener = await opener_for(conn, personal, bound=KEYS_HELD)
        later = await overlay(conn)
        # One day's check keeps that day's rows, found through every visit's day and
        # visitor; the whole archive's holds no such map (a year: 40,000 visits).
        view: VisitMap = {}
        if day is not None:
            view = await visit_map(conn) | {
                i: (v["day"], v["visitor_id"]) for i, v in later.get("visit", {}).items()
            }
        comparer = Comparer(everything if day is None else day_keep(day, tz, view), opener.keyed)
        events = EventCheck(comparer, later.get("access_event", {}))
        replayed = Replay(on_event=events.produced, tz=tz)
        problems: dict[date, list[Fault]] = {}
        readable: set[date] = set()
        for d, rows in sealed.items():
            body, problems[d] = await _manifest(conn, d, rows)
            if body is not None:
                readable.add(d)
        run = _Pass(conn, opener, sealed, tz)
        await run.run(upto, readable, events, replayed)
        faults = run.chain
        for d, rows in sealed.items():
            faults += problems[d]
            seq, head = rows[0].journal_seq, rows[0].journal_hash
            if run.heads.get(seq) != head:
                faults.append(Fault(f"journal seq {seq}", f"head sealed for {d} was changed"))
        faults += run.books
        faults += await _seal_faults(engine, conn, sealed, replayed, tz)
        if day is not None:
            derived: VisitMap = {i: (v.day, v.visitor_id) for i, v in replayed.state.visits.items()}
            comparer.keep = day_keep(day, tz, view, derived)
        await table_faults(conn, replayed, later, comparer)
    faults += comparer.faults()
    _LOGGER.info("archive verify: %d journal rows, %d fault(s)", run.entries, len(faults))
    return faults


async def _seal_faults(
    engine: AsyncEngine,
    conn: AsyncConnection,
    sealed: dict[date, list[Any]],
    replayed: Replay,
    tz: ZoneInfo,
) -> list[Fault]:
    """Each sealed day's files and own rows, one day in memory at a time."""
    faults: list[Fault] = []
    for d, meta in sealed.items():
        rows = (await sealed_rows(engine, d)).get(d, [])
        body, _ = await _manifest(conn, d, meta)
        faults += file_faults(rows, journaled_hashes(replayed.seals, d), body)
        if body is not None and "records" in body:
            faults += record_faults(await day_digests(conn, d, tz), d, body["records"])
    return faults
