"""``bidroom archive verify``: the chain, the tables against the journal, the seals.

One pass over the journal does it all:

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

import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.domain.model import ENTITIES, FIELDS, personal_fields
from service.privacy import PersonalData
from service.reports.archive import (
    Fault,
    day_of_record,
    digest_faults,
    file_faults,
    journaled_hashes,
    manifest_name,
    record_digest,
    sealed_rows,
)
from service.reports.books import build_books
from service.reports.data import Records, Row, load_all
from service.reports.replay import Opener, Replay, opener_for, read_journal
from service.store.journal import JournalEntry, verify_rows
from service.store.loader import entity_from_values
from service.store.persist import row_values
from service.store.tables import ENTITY_TABLES, AmendedRowRow

_LOGGER = logging.getLogger(__name__)
Keep = Callable[[str, Row], bool]


def _everything(entity: str, row: Row) -> bool:
    return True


def day_filter(day: date, tz: ZoneInfo, *sources: Records) -> Keep:
    """Only the rows that belong to ``day`` (its visits and what hangs off them)."""

    def keep(entity: str, row: Row) -> bool:
        if entity in ("badge", "facility", "armed", "enrol"):
            return True
        if entity == "visitor":
            return any(
                v["visitor_id"] == row["id"] and v["day"] == day
                for s in sources
                for v in s["visit"].values()
            )
        if entity == "amendment":
            return bool(row["day"] == day)
        return any(day_of_record(s, entity, row, tz) == day for s in sources)

    return keep


async def overlaid(conn: AsyncConnection) -> tuple[Records, Records]:
    """The tables as they stand, and as the state sees them (later versions laid over)."""
    main = await load_all(conn)
    view = Records(tables={entity: dict(rows) for entity, rows in main.tables.items()})
    rows = await conn.execute(
        select(AmendedRowRow.entity, AmendedRowRow.row_id, AmendedRowRow.row).order_by(
            AmendedRowRow.id
        )
    )
    for entity, _, values in rows.all():
        obj = entity_from_values(entity, values)
        view.tables[entity][obj.id] = row_values(entity, obj)
    return main, view


def table_faults(
    tables: Records,
    replayed: Records,
    last_seq: dict[tuple[str, Any], int],
    keep: Keep,
    *,
    personal: bool = True,
) -> list[Fault]:
    """Every table row against the replayed journal (personal fields only with the keys)."""
    faults: list[Fault] = []
    for entity, cls in ENTITIES.items():
        name = ENTITY_TABLES[entity].name
        skip = frozenset() if personal else personal_fields(cls)
        compared = [f for f in FIELDS[entity] if f not in skip]
        mine, theirs = tables[entity], replayed[entity]
        for ident in sorted(mine.keys() | theirs.keys(), key=str):
            stored, derived = mine.get(ident), theirs.get(ident)
            if not keep(entity, stored or derived or {}):
                continue
            place = f"table {name} id {ident}"
            seq = last_seq.get((entity, ident))
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


def record_faults(main: Records, day: date, sealed: dict[str, str], tz: ZoneInfo) -> list[Fault]:
    """The signed day's own rows now, against the digests kept when it was sealed."""
    now = {
        f"{entity}:{ident}": record_digest(entity, row)
        for entity, rows in main.tables.items()
        for ident, row in rows.items()
        if entity in _DAY_ENTITIES and day_of_record(main, entity, row, tz) == day
    }
    faults: list[Fault] = []
    for ref in sorted(sealed.keys() | now.keys()):
        place = f"record {ref} of {day.isoformat()}"
        if ref not in now:
            faults.append(Fault(place, "vanished after the day was sealed"))
        elif ref not in sealed:
            faults.append(Fault(place, "appeared after the day was sealed (not as an amendment)"))
        elif sealed[ref] != now[ref]:
            faults.append(Fault(place, "changed in place after the day was sealed"))
    return faults


_DAY_ENTITIES = frozenset(
    {"visit", "deposit", "usage", "ticket", "help", "justification", "access_event", "day"}
)


def _manifest(rows: list[Any], day: date) -> tuple[dict[str, Any] | None, list[Fault]]:
    row = next((r for r in rows if r.name == manifest_name(day)), None)
    if row is None:
        return None, [Fault(f"file {manifest_name(day)}", "seal manifest is missing")]
    try:
        return json.loads(row.content), []
    except ValueError:
        return None, [Fault(f"file {row.name}", "seal manifest is unreadable")]


def replay_checked(
    entries: list[JournalEntry],
    opener: Opener,
    manifests: dict[date, dict[str, Any] | None],
    tz: ZoneInfo,
    base: Replay | None = None,
) -> tuple[Replay, list[Fault]]:
    """Replay, re-deriving each sealed day's books right after its signature."""
    replayed = base or Replay()
    faults: list[Fault] = []
    for entry in entries:
        replayed.apply(entry, opener)
        if entry.kind != "day.signed":
            continue
        for day, body in manifests.items():
            if body is not None and replayed.signed_at_seq.get(day) == entry.seq:
                books = build_books(replayed.day_records(day, tz), day, day, tz)
                faults += digest_faults(day, body.get("rows", {}), books)
    return replayed, faults


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
        main, view = await overlaid(conn)
    faults = [
        Fault(f"journal seq {f.seq}", f.describe().split(": ", 1)[1]) for f in verify_rows(entries)
    ]
    by_seq = {e.seq: e for e in entries}
    sealed = await sealed_rows(engine, day)
    manifests: dict[date, dict[str, Any] | None] = {}
    for d, rows in sealed.items():
        body, problems = _manifest(rows, d)
        faults += problems
        seq, head = rows[0].journal_seq, rows[0].journal_hash
        if by_seq.get(seq) is None or by_seq[seq].hash != head:
            faults.append(Fault(f"journal seq {seq}", f"head sealed for {d} was changed"))
        manifests[d] = body
    replayed, book_faults = replay_checked(entries, opener, manifests, tz)
    faults += book_faults
    for d, rows in sealed.items():
        faults += file_faults(rows, journaled_hashes(replayed.seals, d), manifests[d])
        body = manifests[d]
        if body is not None and "records" in body:
            faults += record_faults(main, d, body["records"], tz)
    derived = replayed.records()
    keep = _everything if day is None else day_filter(day, tz, view, derived)
    faults += table_faults(view, derived, replayed.last_seq, keep, personal=opener.keyed)
    _LOGGER.info("archive verify: %d journal rows, %d fault(s)", len(entries), len(faults))
    return faults
