"""Reading the state the rules need back from the tables (at start, after a conflict)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.domain.lifecycle import BadgeState, DayState, HelpState, TicketState, VisitState
from service.domain.model import FIELDS, RoomState
from service.domain.policy import Policy
from service.store.journal import GENESIS
from service.store.persist import Head
from service.store.tables import (
    AccessEventRow,
    BadgeRow,
    DayRow,
    DepositRow,
    FacilityRow,
    HelpRow,
    JournalRow,
    JustificationRow,
    TicketRow,
    UsageRow,
    VisitorRow,
    VisitRow,
)

ENUMS: dict[str, tuple[str, Any]] = {
    "visit": ("state", VisitState),
    "badge": ("state", BadgeState),
    "ticket": ("state", TicketState),
    "help": ("state", HelpState),
    "day": ("state", DayState),
}
# How far back unsigned days keep their visits in memory (for close and sign-off).
UNSIGNED_WINDOW = timedelta(days=31)


def entity_from_row(entity: str, row: Any) -> Any:
    from service.domain.model import ENTITIES

    data = {name: row._mapping[name] for name in FIELDS[entity] if name in row._mapping}
    if entity in ENUMS:
        name, enum_type = ENUMS[entity]
        data[name] = enum_type(data[name])
    return ENTITIES[entity](**data)


async def _load(
    conn: AsyncConnection, state: RoomState, entity: str, stmt: Select[Any]
) -> list[Any]:
    objs = [entity_from_row(entity, row) for row in (await conn.execute(stmt)).all()]
    for obj in objs:
        state.add(entity, obj)
    return objs


async def _max_id(conn: AsyncConnection, column: Any) -> int:
    value = (await conn.execute(select(func.max(column)))).scalar()
    return int(value or 0)


async def load_state(
    conn: AsyncConnection, state: RoomState, policy: Policy, now: datetime
) -> Head:
    """Fill ``state`` (emptied first) and return the journal head."""
    state.reset()
    today = policy.day_of(now)
    since = await _oldest_unsigned(conn, today)
    await _load(conn, state, "badge", select(BadgeRow))
    await _load(conn, state, "facility", select(FacilityRow))
    await _load(conn, state, "day", select(DayRow).where(DayRow.id >= today - UNSIGNED_WINDOW))
    await _load(
        conn, state, "justification", select(JustificationRow).where(JustificationRow.day >= since)
    )
    held = select(DepositRow.visit_id).where(DepositRow.returned_at.is_(None))
    visits = await _load(
        conn,
        state,
        "visit",
        select(VisitRow).where(
            or_(
                VisitRow.state != VisitState.CLOSED.value,
                VisitRow.day >= since,
                VisitRow.id.in_(held),
            )
        ),
    )
    ids = [v.id for v in visits]
    await _load(
        conn,
        state,
        "visitor",
        select(VisitorRow).where(VisitorRow.id.in_({v.visitor_id for v in visits})),
    )
    await _load(conn, state, "deposit", select(DepositRow).where(DepositRow.visit_id.in_(ids)))
    await _load(
        conn,
        state,
        "usage",
        select(UsageRow).where(or_(UsageRow.ended_at.is_(None), UsageRow.visit_id.in_(ids))),
    )
    await _load(
        conn,
        state,
        "ticket",
        select(TicketRow).where(
            or_(TicketRow.day >= since, TicketRow.state.in_(("waiting", "called")))
        ),
    )
    await _load(
        conn,
        state,
        "help",
        select(HelpRow).where(
            or_(
                HelpRow.state.in_(("open", "claimed")),
                HelpRow.opened_at >= policy.day_bounds(since)[0],
            )
        ),
    )
    for entity, column in (
        ("visitor", VisitorRow.id),
        ("visit", VisitRow.id),
        ("deposit", DepositRow.id),
        ("usage", UsageRow.id),
        ("ticket", TicketRow.id),
        ("help", HelpRow.id),
        ("justification", JustificationRow.id),
        ("access_event", AccessEventRow.id),
        ("badge", BadgeRow.id),
        ("facility", FacilityRow.id),
    ):
        state.next_ids[entity] = max(state.next_ids[entity], await _max_id(conn, column) + 1)
    start = policy.day_bounds(today)[0]
    anomalies = await conn.execute(
        select(
            AccessEventRow.anomaly,
            AccessEventRow.visit_id,
            AccessEventRow.reader,
            AccessEventRow.at,
        ).where(AccessEventRow.at >= start, AccessEventRow.anomaly.is_not(None))
    )
    for kind, visit_id, reader, at in anomalies.all():
        visit = state.visits.get(visit_id) if visit_id is not None else None
        state.tap_anomalies.append(
            {
                "kind": kind,
                "visit_id": visit_id,
                "reader": reader,
                "at": at,
                "name": visit.name if visit else "?",
            }
        )
    return await journal_head(conn)


async def journal_head(conn: AsyncConnection) -> Head:
    row = (
        await conn.execute(
            select(JournalRow.seq, JournalRow.hash).order_by(JournalRow.seq.desc()).limit(1)
        )
    ).first()
    return Head(row[0], row[1]) if row else Head(0, GENESIS)


async def _oldest_unsigned(conn: AsyncConnection, today: date) -> date:
    """The earliest day (within the window) that has visits but no signature yet."""
    floor = today - UNSIGNED_WINDOW
    signed = select(DayRow.id).where(DayRow.state == DayState.SIGNED.value)
    value = (
        await conn.execute(
            select(func.min(VisitRow.day)).where(VisitRow.day >= floor, VisitRow.day.not_in(signed))
        )
    ).scalar()
    return min(value, today) if value else today
