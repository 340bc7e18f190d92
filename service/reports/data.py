"""The records the books are made from: plain dicts per entity, from either source.

:class:`Records` holds ``{entity: {id: {field: value}}}`` with typed values
(aware UTC datetimes, dates, strings, enum values as strings). The tables fill it
fast with SQLAlchemy Core (:func:`load_records`); the journal fills it by replay
(:mod:`service.reports.replay`). The books are built from a :class:`Records`
whichever way it was filled, so the two derivations can be compared row by row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.domain import facts as f
from service.domain.model import ENTITIES, FIELDS
from service.store.journal import decode_fact
from service.store.tables import ENTITY_TABLES, JournalRow, StaffRow, table_of

Row = dict[str, Any]
_STAFF = table_of(StaffRow)
_JOURNAL = table_of(JournalRow)


def _kind(type_text: str) -> str:
    if "datetime" in type_text:
        return "datetime"
    if "date" in type_text:
        return "date"
    return "plain"


# Which fields of each entity hold datetimes or dates (journal payloads hold ISO text).
FIELD_KINDS: dict[str, dict[str, str]] = {
    name: {f.name: _kind(str(f.type)) for f in fields(cls)} for name, cls in ENTITIES.items()
}
FIELD_KINDS["day"]["id"] = "date"


def typed(entity: str, name: str, value: Any) -> Any:
    """A field's value in the one form both derivations share."""
    if value is None:
        return None
    kind = FIELD_KINDS[entity].get(name, "plain")
    if kind == "datetime":
        at = datetime.fromisoformat(value) if isinstance(value, str) else value
        return at.astimezone(UTC)
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


@dataclass(slots=True)
class Records:
    """Entity rows as plain dicts, the source of every book and report."""

    tables: dict[str, dict[Any, Row]] = field(
        default_factory=lambda: {name: {} for name in ENTITIES}
    )
    # Staff logins -> full names (the books print names, the records keep logins).
    # Staff accounts are not journaled: a replay has none and prints the logins.
    staff: dict[str, str] = field(default_factory=dict)
    # Facilities given to visits, from the journal: {visit_id, facility_id, start, end}
    # (end None while held). The books list those no desk session timed.
    assignments: list[Row] = field(default_factory=list)

    def __getitem__(self, entity: str) -> dict[Any, Row]:
        return self.tables[entity]

    def deposits_by_visit(self) -> dict[int, Row]:
        return {d["visit_id"]: d for d in self.tables["deposit"].values()}

    def by_visit(self, entity: str) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {}
        for row in self.tables[entity].values():
            if row.get("visit_id") is not None:
                out.setdefault(row["visit_id"], []).append(row)
        return out


def day_range(tz: ZoneInfo, start: date, end: date) -> tuple[datetime, datetime]:
    """UTC bounds of the local days ``start`` .. ``end`` (inclusive)."""
    lo = datetime(start.year, start.month, start.day, tzinfo=tz)
    hi = datetime(end.year, end.month, end.day, tzinfo=tz) + timedelta(days=1)
    return lo.astimezone(UTC), hi.astimezone(UTC)


async def _fill(conn: AsyncConnection, records: Records, entity: str, where: Any = None) -> None:
    table: Table = ENTITY_TABLES[entity]
    stmt = select(table) if where is None else select(table).where(where)
    names = FIELDS[entity]
    target = records.tables[entity]
    # The column types already give aware UTC datetimes, dates and bools.
    for row in (await conn.execute(stmt)).mappings():
        target[row["id"]] = {name: row[name] for name in names}


async def load_records(engine: AsyncEngine, tz: ZoneInfo, start: date, end: date) -> Records:
    """Everything the books and the report of ``start`` .. ``end`` need, from the tables."""
    lo, hi = day_range(tz, start, end)
    t = ENTITY_TABLES
    records = Records()
    async with engine.connect() as conn:
        await _fill(conn, records, "visit", t["visit"].c.day.between(start, end))
        visit_ids = select(t["visit"].c.id).where(t["visit"].c.day.between(start, end))
        visitor_ids = select(t["visit"].c.visitor_id).where(t["visit"].c.day.between(start, end))
        await _fill(conn, records, "visitor", t["visitor"].c.id.in_(visitor_ids))
        await _fill(conn, records, "deposit", t["deposit"].c.visit_id.in_(visit_ids))
        await _fill(conn, records, "usage", t["usage"].c.visit_id.in_(visit_ids))
        await _fill(conn, records, "ticket", t["ticket"].c.day.between(start, end))
        help_t = t["help"].c
        await _fill(
            conn,
            records,
            "help",
            or_(help_t.visit_id.in_(visit_ids), help_t.opened_at.between(lo, hi)),
        )
        events = t["access_event"].c
        await _fill(
            conn,
            records,
            "access_event",
            or_(events.visit_id.in_(visit_ids), events.at.between(lo, hi)),
        )
        await _fill(conn, records, "badge")
        await _fill(conn, records, "facility")
        await _fill(conn, records, "day", t["day"].c.id.between(start, end))
        await _fill(conn, records, "justification", t["justification"].c.day.between(start, end))
        await _fill(conn, records, "amendment", t["amendment"].c.day.between(start, end))
        staff = await conn.execute(select(_STAFF.c.username, _STAFF.c.name))
        records.staff = {str(login): str(name) for login, name in staff.all() if name}
        records.assignments = await _assignments(conn, lo, hi)
    return records


def _no_personal(subject: str | None, path: str, token: str) -> str:
    raise ValueError(f"an assignment fact holds no personal value ({path})")


async def _assignments(conn: AsyncConnection, lo: datetime, hi: datetime) -> list[Row]:
    """Who held which facility from when to when (the tables keep only the current holder).

    Read from the journal's ``facility.assigned`` and ``facility.left`` facts, which
    carry no personal data; the journal's ``at`` is indexed.
    """
    kinds = (f.FacilityAssigned.KIND, f.VisitLeftFacility.KIND)
    stmt = (
        select(_JOURNAL.c.kind, _JOURNAL.c.payload)
        .where(_JOURNAL.c.kind.in_(kinds), _JOURNAL.c.at.between(lo, hi))
        .order_by(_JOURNAL.c.seq)
    )
    held: dict[tuple[int, int], Row] = {}
    out: list[Row] = []
    for kind, payload in (await conn.execute(stmt)).all():
        fact = decode_fact(kind, payload, _no_personal)
        if isinstance(fact, f.FacilityAssigned):
            row: Row = {"visit_id": fact.visit_id, "facility_id": fact.facility_id}
            row |= {"start": fact.at.astimezone(UTC), "end": None}
            held[(fact.visit_id, fact.facility_id)] = row
            out.append(row)
        elif isinstance(fact, f.VisitLeftFacility):
            open_row = held.pop((fact.visit_id, fact.facility_id), None)
            if open_row is not None:
                open_row["end"] = fact.at.astimezone(UTC)
    return out


async def load_all(conn: AsyncConnection) -> Records:
    """Every entity row in the tables (for the archive check)."""
    records = Records()
    for entity in ENTITIES:
        await _fill(conn, records, entity)
    return records
