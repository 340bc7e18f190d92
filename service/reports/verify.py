"""``bidroom archive verify``: the chain, the tables against the journal, the seals.

One pass over the journal does it all: the chain is checked row by row, the
journal is replayed into plain records (compared with every table row at the
end), and at each seal's journal head the sealed day's books are re-derived and
compared with the digests the seal kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from service.domain.model import ENTITIES, FIELDS
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
from service.reports.data import Records, Row, day_range, load_all
from service.reports.replay import Opener, Replay, opener_for, read_journal
from service.store.journal import PERSONAL_FIELDS, JournalEntry, verify_rows
from service.store.tables import ENTITY_TABLES

_LOGGER = logging.getLogger(__name__)
Keep = Callable[[str, Row], bool]


def _everything(entity: str, row: Row) -> bool:
    return True


def day_filter(day: date, tz: ZoneInfo, *sources: Records) -> Keep:
    """Only the rows that belong to ``day`` (its visits and what hangs off them)."""
    lo, hi = day_range(tz, day, day)
    visits = {i for s in sources for i, v in s["visit"].items() if v["day"] == day}
    visitors = {v["visitor_id"] for s in sources for v in s["visit"].values() if v["day"] == day}

    def keep(entity: str, row: Row) -> bool:
        if entity in ("visit", "ticket", "justification"):
            return bool(row["day"] == day)
        if entity == "day":
            return bool(row["id"] == day)
        if entity == "visitor":
            return row["id"] in visitors
        if entity in ("deposit", "usage"):
            return row["visit_id"] in visits
        if entity in ("help", "access_event"):
            at = row["opened_at"] if entity == "help" else row["at"]
            return row["visit_id"] in visits or bool(lo <= at < hi)
        return True

    return keep


def table_faults(
    tables: Records, replayed: Replay, keep: Keep, *, personal: bool = True
) -> list[Fault]:
    """Every table row against the replayed journal (personal fields only with the keys)."""
    faults: list[Fault] = []
    for entity in ENTITIES:
        name = ENTITY_TABLES[entity].name
        skip = frozenset() if personal else PERSONAL_FIELDS.get(entity, frozenset())
        compared = [f for f in FIELDS[entity] if f not in skip]
        mine, theirs = tables[entity], replayed.records[entity]
        for ident in sorted(mine.keys() | theirs.keys(), key=str):
            stored, derived = mine.get(ident), theirs.get(ident)
            if not keep(entity, stored or derived or {}):
                continue
            place = f"table {name} id {ident}"
            seq = replayed.last_seq.get((entity, ident))
            if stored is None:
                faults.append(Fault(place, f"row deleted (journaled at seq {seq})"))
            elif derived is None:
                faults.append(Fault(place, "row not in the journal (written outside it)"))
            else:
                changed = [f for f in compared if stored.get(f) != derived.get(f)]
                if changed:
                    problem = f"{', '.join(changed)} differ(s) from the journal (seq {seq})"
                    faults.append(Fault(place, problem))
    return faults


def _manifest(rows: list[Any], day: date) -> tuple[dict[str, Any] | None, list[Fault]]:
    row = next((r for r in rows if r.name == manifest_name(day)), None)
    if row is None:
        return None, [Fault(f"file {manifest_name(day)}", "seal manifest is missing")]
    try:
        return json.loads(row.content), []
    except ValueError:
        return None, [Fault(f"file {row.name}", "seal manifest is unreadable")]


class _Checkpoints:
    """Re-derive each sealed day's books when the replay reaches its seal's head."""

    def __init__(self, seals: dict[date, tuple[int, dict[str, Any] | None]]) -> None:
        self._pending = sorted((seq, day) for day, (seq, _) in seals.items())
        self._seals = seals
        self.faults: list[Fault] = []

    def before(self, replayed: Replay, seq: int | None) -> None:
        while self._pending and (seq is None or self._pending[0][0] < seq):
            _, day = self._pending.pop(0)
            body = self._seals[day][1]
            if body is not None:
                books = build_books(replayed.records, day, day)
                self.faults += digest_faults(day, body.get("rows", {}), books)


def replay_checked(
    entries: list[JournalEntry], opener: Opener, checkpoints: _Checkpoints, base: Replay
) -> Replay:
    for entry in entries:
        checkpoints.before(base, entry.seq)
        base.apply(entry, opener)
    checkpoints.before(base, None)
    return base


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
    async with engine.connect() as conn:
        entries = await read_journal(conn)
        opener = await opener_for(conn, personal)
        tables = await load_all(conn)
    faults = [
        Fault(f"journal seq {f.seq}", f.describe().split(": ", 1)[1]) for f in verify_rows(entries)
    ]
    by_seq = {e.seq: e for e in entries}
    sealed = await sealed_rows(engine, day)
    seals: dict[date, tuple[int, dict[str, Any] | None]] = {}
    for d, rows in sealed.items():
        body, problems = _manifest(rows, d)
        faults += problems
        seq, head = rows[0].journal_seq, rows[0].journal_hash
        if by_seq.get(seq) is None or by_seq[seq].hash != head:
            faults.append(Fault(f"journal seq {seq}", f"head sealed for {d} was changed"))
        seals[d] = (seq, body)
    checkpoints = _Checkpoints(seals)
    replayed = replay_checked(entries, opener, checkpoints, Replay())
    faults += checkpoints.faults
    for d, rows in sealed.items():
        faults += file_faults(rows, journaled_hashes(replayed.seals, d), seals[d][1])
    keep = _everything if day is None else day_filter(day, tz, tables, replayed.records)
    faults += table_faults(tables, replayed, keep, personal=personal is not None)
    _LOGGER.info("archive verify: %d journal rows, %d fault(s)", len(entries), len(faults))
    return faults
