"""``archive verify``: the tables against the replayed journal, streamed in pages.

A year holds some 500,000 access events and a million journal rows, so nothing here
holds a whole table: every table is read in keyset pages of :data:`PAGE` rows on its
primary key (the same on SQLite and PostgreSQL). The access log is append-only, so
its rows are compared with the events the replay produces as the journal streams
past (:class:`EventCheck`) and then forgotten; the other tables are compared with the
replayed state at the end (:func:`table_faults`); a sealed day's own rows are read
by day (:func:`day_digests`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.domain.model import APPEND_ONLY, DAY_BOUND, ENTITIES, FIELDS, AccessEvent, row_day
from service.domain.model import personal_fields as personal_of
from service.reports.archive import Fault, record_digest
from service.reports.data import Row, day_range
from service.reports.replay import Replay
from service.store.loader import entity_from_values
from service.store.persist import row_values
from service.store.tables import ENTITY_TABLES, AmendedRowRow

PAGE = 2000
Keep = Callable[[str, Row], bool]
Overlay = dict[str, dict[Any, Row]]  # entity -> id -> the later version of a signed day's row
VisitMap = dict[int, tuple[date, int]]  # visit id -> (day, visitor id)


def everything(entity: str, row: Row) -> bool:
    return True


async def table_pages(
    conn: AsyncConnection, entity: str, after: Any = None, upto: Any = None
) -> AsyncIterator[list[Row]]:
    """A table's rows in id order, :data:`PAGE` at a time (``after`` < id <= ``upto``)."""
    table = ENTITY_TABLES[entity]
    names = FIELDS[entity]
    while True:
        stmt = select(table).order_by(table.c.id).limit(PAGE)
        if after is not None:
            stmt = stmt.where(table.c.id > after)
        if upto is not None:
            stmt = stmt.where(table.c.id <= upto)
        rows = (await conn.execute(stmt)).mappings().all()
        if not rows:
            return
        yield [{name: row[name] for name in names} for row in rows]
        if len(rows) < PAGE:
            return
        after = rows[-1]["id"]


async def overlay(conn: AsyncConnection) -> Overlay:
    """The later versions of signed days' rows (few: amendments), as the state sees them."""
    out: Overlay = {}
    rows = await conn.execute(
        select(AmendedRowRow.entity, AmendedRowRow.row_id, AmendedRowRow.row).order_by(
            AmendedRowRow.id
        )
    )
    for entity, _, values in rows.all():
        obj = entity_from_values(entity, values)
        out.setdefault(entity, {})[obj.id] = row_values(entity, obj)
    return out


async def visit_map(conn: AsyncConnection) -> VisitMap:
    """Every visit's day and visitor, from the table (the rule for a row's day needs it)."""
    t = ENTITY_TABLES["visit"].c
    rows = await conn.execute(select(t.id, t.day, t.visitor_id))
    return {int(r[0]): (r[1], int(r[2])) for r in rows.all()}


def day_keep(day: date, tz: tzinfo, *sources: VisitMap) -> Keep:
    """Only the rows that belong to ``day`` (its visits and what hangs off them)."""
    visitors = {v[1] for source in sources for v in source.values() if v[0] == day}

    def keep(entity: str, row: Row) -> bool:
        if entity in ("badge", "facility", "armed", "enrol"):
            return True
        if entity == "visitor":
            return row.get("id") in visitors
        if entity == "amendment":
            return bool(row["day"] == day)
        for source in sources:

            def visit_day(visit_id: int, s: VisitMap = source) -> date | None:
                found = s.get(visit_id)
                return found[0] if found is not None else None

            if row and row_day(entity, row.get, visit_day, tz) == day:
                return True
        return False

    return keep


class Comparer:
    """One table row against its replayed version; the faults by entity, in id order."""

    def __init__(self, keep: Keep, personal: bool) -> None:
        self.keep, self.personal = keep, personal
        self.found: dict[str, list[tuple[Any, Fault]]] = {}
        self._fields: dict[str, list[str]] = {}

    def compared(self, entity: str) -> list[str]:
        names = self._fields.get(entity)
        if names is None:
            skip = frozenset() if self.personal else personal_of(ENTITIES[entity])
            names = self._fields[entity] = [f for f in FIELDS[entity] if f not in skip]
        return names

    def check(
        self, entity: str, ident: Any, stored: Row | None, derived: Row | None, seq: int | None
    ) -> None:
        if not self.keep(entity, stored or derived or {}):
            return
        place = f"table {ENTITY_TABLES[entity].name} id {ident}"
        if stored is None:
            fault = Fault(place, f"row deleted (journaled at seq {seq})")
        elif derived is None:
            fault = Fault(place, "row not in the journal (written outside it)")
        else:
            changed = [f for f in self.compared(entity) if stored.get(f) != derived.get(f)]
            if not changed:
                return
            fault = Fault(place, f"{', '.join(changed)} differ(s) from the journal (seq {seq})")
        self.found.setdefault(entity, []).append((ident, fault))

    def faults(self) -> list[Fault]:
        """In entity order, each entity's rows sorted by id as text (as always printed)."""
        out: list[Fault] = []
        for entity in ENTITIES:
            out += [fault for _, fault in sorted(self.found.get(entity, []), key=_by_text)]
        return out


def _by_text(pair: tuple[Any, Fault]) -> str:
    return str(pair[0])


class EventCheck:
    """The access log against the replayed taps, as the journal streams past.

    Events come from the replay in journal order (ids rising, mostly); table rows are
    fetched in id order up to the highest event seen. A row and its event meet in
    whichever of the two small waiting rooms the other arrives in, so neither the
    log nor the events are ever held whole.
    """

    ENTITY = "access_event"

    def __init__(self, comparer: Comparer, overlaid: dict[Any, Row]) -> None:
        self.comparer = comparer
        # A tap dated on a signed day is kept as an amended row, not in the table.
        self.overlaid = dict(overlaid)
        self.amended = frozenset(overlaid)
        self.pending: dict[int, tuple[int, Row]] = {}  # replayed, row not fetched yet
        self.stored: dict[int, Row] = {}  # fetched, no event for it yet
        self.fetched: int | None = None  # every row with id <= this was fetched

    def produced(self, seq: int, event: AccessEvent) -> None:
        derived = row_values(self.ENTITY, event)
        if event.id in self.amended:
            self.comparer.check(self.ENTITY, event.id, self.overlaid.pop(event.id, None), derived,
                                seq)  # fmt: skip
            return
        stored = self.stored.pop(event.id, None)
        if stored is not None or (self.fetched is not None and event.id <= self.fetched):
            self.comparer.check(self.ENTITY, event.id, stored, derived, seq)
        else:
            self.pending[event.id] = (seq, derived)

    async def catch_up(self, conn: AsyncConnection, final: bool = False) -> None:
        """Fetch the rows up to the highest pending event (all of them when ``final``)."""
        if not self.pending and not final:
            return
        upto = None if final else max(self.pending)
        async for page in table_pages(conn, self.ENTITY, self.fetched, upto):
            for row in page:
                ident = row["id"]
                if ident in self.amended:
                    continue  # its later version stands for it
                waiting = self.pending.pop(ident, None)
                if waiting is None:
                    self.stored[ident] = row
                else:
                    self.comparer.check(self.ENTITY, ident, row, waiting[1], waiting[0])
            self.fetched = max(self.fetched or 0, page[-1]["id"])
        if upto is not None:
            self.fetched = max(self.fetched or 0, upto)
        # Every row up to the highest pending event is fetched now: what still waits is gone.
        for ident in sorted(self.pending):
            seq, derived = self.pending.pop(ident)
            self.comparer.check(self.ENTITY, ident, None, derived, seq)
        if final:
            left = self.stored | self.overlaid
            for ident, row in sorted(left.items()):
                self.comparer.check(self.ENTITY, ident, row, None, None)
            self.stored.clear()
            self.overlaid.clear()


async def table_faults(
    conn: AsyncConnection, replayed: Replay, overlaid: Overlay, comparer: Comparer
) -> None:
    """Every row of the other tables against the replayed state (a page at a time)."""
    for entity in ENTITIES:
        if entity in APPEND_ONLY:
            continue
        theirs = replayed.state.tables.get(entity, {})
        later = overlaid.get(entity, {})
        seen: set[Any] = set()
        async for page in table_pages(conn, entity):
            for row in page:
                ident = row["id"]
                seen.add(ident)
                _check(comparer, replayed, entity, ident, later.get(ident, row), theirs)
        for ident, row in later.items():
            if ident not in seen:
                seen.add(ident)
                _check(comparer, replayed, entity, ident, row, theirs)
        for ident in theirs.keys() - seen:
            _check(comparer, replayed, entity, ident, None, theirs)


def _check(
    comparer: Comparer,
    replayed: Replay,
    entity: str,
    ident: Any,
    stored: Row | None,
    theirs: dict[Any, Any],
) -> None:
    obj = theirs.get(ident)
    derived = row_values(entity, obj) if obj is not None else None
    comparer.check(entity, ident, stored, derived, replayed.last_seq.get((entity, ident)))


async def day_digests(conn: AsyncConnection, day: date, tz: ZoneInfo) -> dict[str, str]:
    """The digest of every stored row of ``day`` (``visit:12`` -> digest), read by day.

    Each table is asked for a superset of the day's rows through its indexes, then
    each row is kept by the one rule for a row's day (:func:`row_day`, the days of the
    visits those rows name read with them), so the result is exactly the rows a full
    scan would give, and nothing of the other days is held.
    """
    t = {name: ENTITY_TABLES[name].c for name in DAY_BOUND}
    lo, hi = day_range(tz, day, day)
    of_day = select(t["visit"].id).where(t["visit"].day == day)
    where = {
        "visit": t["visit"].day == day,
        "justification": t["justification"].day == day,
        "day": t["day"].id == day,
        "deposit": t["deposit"].visit_id.in_(of_day),
        "usage": t["usage"].visit_id.in_(of_day),
        "ticket": t["ticket"].visit_id.in_(of_day),
        "help": or_(t["help"].visit_id.in_(of_day), t["help"].opened_at.between(lo, hi)),
        "access_event": t["access_event"].at.between(lo, hi),
    }
    found: list[tuple[str, dict[str, Any]]] = []
    named: set[int] = set()
    for entity in sorted(DAY_BOUND):
        names = FIELDS[entity]
        rows = await conn.execute(select(ENTITY_TABLES[entity]).where(where[entity]))
        for mapping in rows.mappings():
            row = {name: mapping[name] for name in names}
            found.append((entity, row))
            if entity in ("deposit", "usage", "ticket", "help") and row["visit_id"] is not None:
                named.add(int(row["visit_id"]))
    days = await _visit_days(conn, named)
    out: dict[str, str] = {}
    for entity, row in found:
        if row_day(entity, row.get, days.get, tz) == day:
            out[f"{entity}:{row['id']}"] = record_digest(entity, row)
    return out


async def _visit_days(conn: AsyncConnection, ids: set[int]) -> dict[int, date]:
    """The day of each visit in ``ids`` (a day's worth), a bounded batch at a time."""
    t = ENTITY_TABLES["visit"].c
    wanted, out = sorted(ids), {}
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        rows = await conn.execute(select(t.id, t.day).where(t.id.in_(batch)))
        out.update({int(r[0]): r[1] for r in rows.all()})
    return out


def record_faults(now: dict[str, str], day: date, sealed: dict[str, str]) -> list[Fault]:
    """The signed day's own rows now, against the digests kept when it was sealed."""
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
