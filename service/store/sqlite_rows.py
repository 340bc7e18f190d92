"""SQLite's hot path: a batch's rows written as plain SQL with ``executemany``.

The writer commits every batch on its own synchronous sqlite3 connection. Going
through SQLAlchemy Core there costs about a millisecond of Python per batch
(cache keys, execution contexts, bind processors): more than SQLite itself. So
the rows that every tap writes (journal rows, entity upserts, access events) are
written with SQL built once per table from the declared schema, and values
converted the way SQLAlchemy's SQLite types store them (the same text for
datetimes and dates, JSON text, 0/1), so everything else reads them back through
SQLAlchemy unchanged. Errors are raised as SQLAlchemy's own exceptions, so the
writer tells a write conflict from anything else the same way on every engine.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from service.store.tables import Base, UTCDateTime

Convert = Callable[[Any], Any]


@functools.lru_cache(maxsize=8192)
def _datetime(value: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME storage format (always with microseconds), in UTC.
    # Cached: a visit's row is written whole at every tap, its times mostly unchanged
    # (an aware datetime hashes by its instant, which is all the text depends on).
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _date(value: date) -> str:
    return value.isoformat()


def _json(value: Any) -> str:
    return json.dumps(value)


def _bool(value: bool) -> int:
    return 1 if value else 0


def _converter(column_type: Any) -> Convert | None:
    if isinstance(column_type, UTCDateTime):
        return _datetime
    if isinstance(column_type, Date):
        return _date
    if isinstance(column_type, JSON):
        return _json
    if isinstance(column_type, Boolean):
        return _bool
    return None


class _Plan:
    """One table's INSERT (or upsert) and the conversion of each of its columns."""

    def __init__(self, table: Table, upsert: bool) -> None:
        self.names = [c.name for c in table.columns]
        self.convert = [_converter(c.type) for c in table.columns]
        marks = ", ".join("?" for _ in self.names)
        sql = f"INSERT INTO {table.name} ({', '.join(self.names)}) VALUES ({marks})"
        if upsert:
            keys = [c.name for c in table.primary_key]
            sets = ", ".join(f"{n} = excluded.{n}" for n in self.names if n not in keys)
            sql += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
        self.sql = sql

    def rows(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        pairs = list(zip(self.names, self.convert, strict=True))
        return [
            tuple(
                None if (v := row.get(n)) is None else (c(v) if c is not None else v)
                for n, c in pairs
            )
            for row in rows
        ]


_PLANS: dict[tuple[str, bool], _Plan] = {}


def _plan(name: str, upsert: bool) -> _Plan:
    found = _PLANS.get((name, upsert))
    if found is None:
        found = _Plan(Base.metadata.tables[name], upsert)
        _PLANS[(name, upsert)] = found
    return found


def write_rows(conn: Connection, batches: Sequence[tuple[str, bool, list[dict[str, Any]]]]) -> None:
    """Each (table, upsert?, rows) with one ``executemany``, inside ``conn``'s transaction."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    cursor = raw.cursor()
    try:
        for name, upsert, rows in batches:
            plan = _plan(name, upsert)
            params = plan.rows(rows)
            try:
                cursor.executemany(plan.sql, params)
            except sqlite3.Error as exc:
                raise DBAPIError.instance(plan.sql, None, exc, sqlite3.Error) from exc
    finally:
        cursor.close()
