"""A visit's records from the store, and visit search across days.

The published state holds only open visits and the days not yet signed (see
:mod:`service.store.loader`); a visit of any day is read here from the tables,
which hold every committed row. Nothing here decrypts anything: names and
companies are kept in clear in the entity tables (the journal holds them sealed),
a document number only masked (``1571**********01``), so a search by document
matches the visible last digits and never opens a sealed number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.domain.model import (
    AccessEvent,
    Amendment,
    Badge,
    Deposit,
    Facility,
    HelpRequest,
    Ticket,
    Usage,
    Visit,
)
from service.store.engine import fold_text
from service.store.loader import entity_from_row
from service.store.tables import (
    AccessEventRow,
    AmendmentRow,
    BadgeRow,
    DepositRow,
    FacilityRow,
    HelpRow,
    TicketRow,
    UsageRow,
    VisitRow,
)

PAGE_SIZE = 25
# A visit's page shows at most this many taps (a day's visit has a few dozen).
MAX_TAPS = 500


@dataclass(frozen=True, slots=True)
class VisitQuery:
    """What the clerk searches by; every part given must match (all optional)."""

    name: str | None = None
    company: str | None = None
    doc_digits: str | None = None  # the visible last digits of the masked number
    label: str | None = None  # a badge label, e.g. K-001
    tender_code: str | None = None
    from_day: date | None = None
    to_day: date | None = None
    page: int = 1


@dataclass(frozen=True, slots=True)
class Found:
    visit: Visit
    deposit: Deposit | None
    badge_label: str | None


@dataclass(frozen=True, slots=True)
class VisitRecords:
    """Everything the store holds about one visit, as entities."""

    visit: Visit
    deposit: Deposit | None
    badge: Badge | None
    facilities: dict[int, Facility]
    usages: list[Usage]
    tickets: list[Ticket]
    helps: list[HelpRequest]
    taps: list[AccessEvent]
    amendments: list[Amendment]


def _contains(column: Any, text: str, dialect: str) -> Any:
    """``column`` contains ``text`` whatever the case, in any script; ``%`` and ``_`` typed
    in are characters, not patterns."""
    if dialect == "sqlite":
        return func.bidroom_fold(column).contains(fold_text(text), autoescape=True)
    return column.icontains(text, autoescape=True)


def _search_statement(query: VisitQuery, dialect: str) -> Select[VisitRow, DepositRow, str]:
    stmt = (
        select(VisitRow, DepositRow, BadgeRow.label)
        .outerjoin(DepositRow, DepositRow.visit_id == VisitRow.id)
        .outerjoin(BadgeRow, BadgeRow.id == VisitRow.badge_id)
    )
    if query.name:
        stmt = stmt.where(_contains(VisitRow.name, query.name, dialect))
    if query.company:
        stmt = stmt.where(_contains(VisitRow.company, query.company, dialect))
    if query.tender_code:
        stmt = stmt.where(_contains(VisitRow.tender_code, query.tender_code, dialect))
    if query.doc_digits:
        stmt = stmt.where(DepositRow.doc_masked.endswith(query.doc_digits, autoescape=True))
    if query.label:
        stmt = stmt.where(_contains(BadgeRow.label, query.label, dialect))
    if query.from_day:
        stmt = stmt.where(VisitRow.day >= query.from_day)
    if query.to_day:
        stmt = stmt.where(VisitRow.day <= query.to_day)
    offset = (query.page - 1) * PAGE_SIZE
    return (
        stmt.order_by(VisitRow.day.desc(), VisitRow.id.desc()).limit(PAGE_SIZE + 1).offset(offset)
    )


async def search_visits(engine: AsyncEngine, query: VisitQuery) -> tuple[list[Found], bool]:
    """One page of the visits matching ``query``, newest first, and whether more follow."""
    async with engine.connect() as conn:
        rows = (await conn.execute(_search_statement(query, engine.dialect.name))).all()
    found = []
    for row in rows[:PAGE_SIZE]:
        mapping = row._mapping
        visit = entity_from_row("visit", _part(row, VisitRow))
        deposit_row = _part(row, DepositRow)
        deposit = entity_from_row("deposit", deposit_row) if deposit_row is not None else None
        found.append(Found(visit, deposit, mapping["label"]))
    return found, len(rows) > PAGE_SIZE


class _Part:
    """The columns of one table out of a joined row (``None`` when outer-joined away)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._mapping = values


def _part(row: Any, table: Any) -> _Part | None:
    values = {col.name: row._mapping[col] for col in table.__table__.columns}
    if values.get("id") is None:
        return None
    return _Part(values)


async def visit_records(engine: AsyncEngine, visit_id: int) -> VisitRecords | None:
    """The stored records of one visit (None: no such visit)."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(VisitRow).where(VisitRow.id == visit_id))).first()
        if row is None:
            return None
        visit: Visit = entity_from_row("visit", row)

        async def rows(entity: str, stmt: Select[Any]) -> list[Any]:
            return [entity_from_row(entity, r) for r in (await conn.execute(stmt)).all()]

        deposits = await rows("deposit", select(DepositRow).where(DepositRow.visit_id == visit_id))
        badges = (
            await rows("badge", select(BadgeRow).where(BadgeRow.id == visit.badge_id))
            if visit.badge_id is not None
            else []
        )
        facilities = await rows("facility", select(FacilityRow))
        usages = await rows(
            "usage", select(UsageRow).where(UsageRow.visit_id == visit_id).order_by(UsageRow.id)
        )
        tickets = await rows(
            "ticket",
            select(TicketRow).where(TicketRow.visit_id == visit_id).order_by(TicketRow.id),
        )
        helps = await rows(
            "help", select(HelpRow).where(HelpRow.visit_id == visit_id).order_by(HelpRow.id)
        )
        taps = await rows(
            "access_event",
            select(AccessEventRow)
            .where(AccessEventRow.visit_id == visit_id)
            .order_by(AccessEventRow.at, AccessEventRow.id)
            .limit(MAX_TAPS),
        )
        amendments = await rows(
            "amendment",
            select(AmendmentRow).where(AmendmentRow.day == visit.day).order_by(AmendmentRow.id),
        )
    deposit = deposits[0] if deposits else None
    mine = {f"visit:{visit_id}"} | ({f"deposit:{deposit.id}"} if deposit else set())
    mine |= {f"usage:{u.id}" for u in usages} | {f"help:{h.id}" for h in helps}
    return VisitRecords(
        visit=visit,
        deposit=deposit,
        badge=badges[0] if badges else None,
        facilities={f.id: f for f in facilities},
        usages=usages,
        tickets=tickets,
        helps=helps,
        taps=taps,
        amendments=[a for a in amendments if mine & set(a.rows)],
    )
