"""Retention's erasure as SQL: every personal column the model declares, for one data
subject, in the tables and in the later versions of signed days' rows; then its key is
shredded (:mod:`service.privacy`). The writer runs these in the fact's own commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.domain.model import ENTITIES, ERASED, personal_fields
from service.store.tables import (
    ENTITY_TABLES,
    STORE_ONLY,
    AmendedRowRow,
    DataKeyRow,
    table_of,
)

Statement = tuple[Executable, Any]
_KEYS = table_of(DataKeyRow)
_AMENDED = table_of(AmendedRowRow)


async def erasure_statements(engine: AsyncEngine, subject: str, at: datetime) -> list[Statement]:
    """The SQL that erases ``subject`` everywhere: tables, later row versions, its key."""
    out = list(erase_statements(subject, at))
    kind, _, raw = subject.partition(":")
    if kind != "visitor":
        return out
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(_AMENDED.c.id, _AMENDED.c.entity, _AMENDED.c.row).where(
                    _AMENDED.c.visitor_id == int(raw)
                )
            )
        ).all()
    for ident, entity, row in rows:
        values = dict(row)
        for name in personal_fields(_entity_class(entity)):
            if values.get(name) is not None:
                values[name] = ERASED
        stmt = update(_AMENDED).where(_AMENDED.c.id == ident).values(row=values)
        out.append((stmt, {}))
    return out


def _entity_class(entity: str) -> type[Any]:
    return ENTITIES[entity]


def erase_statements(subject: str, at: datetime) -> list[Statement]:
    """UPDATEs that erase every personal column the model declares, for one subject."""
    kind, _, raw = subject.partition(":")
    ident = int(raw)
    help_table = ENTITY_TABLES["help"]
    out: list[Statement] = []
    if kind == "help":
        out += _erase(help_table, "help", help_table.c.id == ident)
    else:
        visitors, visits = ENTITY_TABLES["visitor"], ENTITY_TABLES["visit"]
        sealed = dict.fromkeys(STORE_ONLY["visitor"])
        out += _erase(visitors, "visitor", visitors.c.id == ident, erased_at=at, **sealed)
        out += _erase(visits, "visit", visits.c.visitor_id == ident)
        of_visits = select(visits.c.id).where(visits.c.visitor_id == ident)
        deposits = ENTITY_TABLES["deposit"]
        out += _erase(deposits, "deposit", deposits.c.visit_id.in_(of_visits))
        out += _erase(help_table, "help", help_table.c.visit_id.in_(of_visits))
    shred = update(_KEYS).where(_KEYS.c.subject == subject).values(wrapped=None, shredded_at=at)
    out.append((shred, {}))
    return out


def _erase(table: Table, entity: str, where: Any, **extra: Any) -> list[Statement]:
    out: list[Statement] = []
    for name in sorted(personal_fields(_entity_class(entity))):
        column = table.c[name]
        out.append((update(table).where(where, column.is_not(None)).values({name: ERASED}), {}))
    if extra:
        out.append((update(table).where(where).values(extra), {}))
    return out
