"""Reading the state the rules need back from the tables (at start, after a conflict)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.domain.lifecycle import BadgeState, DayState, HelpState, TicketState, VisitState
from service.domain.model import ENTITIES, FIELDS, Anomaly
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.errors import Unavailable
from service.store.journal import GENESIS
from service.store.persist import Head
from service.store.tables import (
    AccessEventRow,
    AlarmRow,
    AmendedRowRow,
    AmendmentRow,
    ArmedIssueRow,
    BadgeRow,
    DayRow,
    DepositRow,
    EnrolArmedRow,
    FacilityRow,
    HelpRow,
    JournalRow,
    JustificationRow,
    MusterMarkRow,
    MusterRow,
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
MUSTER_WINDOW = timedelta(days=2)
LOAD_ATTEMPTS = 5


def entity_from_values(entity: str, values: dict[str, Any]) -> Any:
    """An entity from its column values (from a row, or a later version kept as JSON)."""
    cls = ENTITIES[entity]
    data = {name: values[name] for name in FIELDS[entity] if name in values}
    return msgspec.convert(data, cls, strict=False)


def entity_from_row(entity: str, row: Any) -> Any:
    return entity_from_values(entity, dict(row._mapping))


async def _load(
    conn: AsyncConnection, state: RoomState, entity: str, stmt: Select[Any]
) -> list[Any]:
    objs = [entity_from_row(entity, row) for row in (await conn.execute(stmt)).all()]
    for obj in objs:
        state.put(entity, obj)
    return objs


async def _max_id(conn: AsyncConnection, column: Any) -> int:
    value = (await conn.execute(select(func.max(column)))).scalar()
    return int(value or 0)


async def load_state(engine: AsyncEngine, policy: Policy, now: datetime) -> tuple[RoomState, Head]:
    """A new state from the tables, as of one journal head (consistent across tables).

    On PostgreSQL it is read in one REPEATABLE READ snapshot; on every engine the
    journal head is read before and after, and the load is done again if another
    writer committed in between, so the state never mixes two moments.
    """
    for _ in range(LOAD_ATTEMPTS):
        options = (
            {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
        )
        async with engine.connect() as raw:
            conn = await raw.execution_options(**options) if options else raw
            async with conn.begin():
                before = await journal_head(conn)
                state = await _read(conn, policy, now)
                after = await journal_head(conn)
        if before == after:
            return state, after
    raise Unavailable(_("Basis data sedang sibuk ditulis; coba lagi."))


async def _read(conn: AsyncConnection, policy: Policy, now: datetime) -> RoomState:
    state = RoomState()
    today = policy.day_of(now)
    since = await _oldest_unsigned(conn, today)
    await _load(conn, state, "badge", select(BadgeRow))
    await _load(conn, state, "facility", select(FacilityRow))
    await _load(conn, state, "day", select(DayRow).where(DayRow.id >= today - UNSIGNED_WINDOW))
    await _load(
        conn, state, "justification", select(JustificationRow).where(JustificationRow.day >= since)
    )
    await _load(
        conn,
        state,
        "amendment",
        select(AmendmentRow).where(
            or_(AmendmentRow.signed_at.is_(None), AmendmentRow.day >= today - UNSIGNED_WINDOW)
        ),
    )
    await _load(conn, state, "armed", select(ArmedIssueRow))
    # Open alarms whenever raised, and today's acknowledged ones (the board's list).
    start = policy.day_bounds(today)[0]
    await _load(
        conn,
        state,
        "alarm",
        select(AlarmRow).where(or_(AlarmRow.acked_at.is_(None), AlarmRow.at >= start)),
    )
    await _load(conn, state, "enrol", select(EnrolArmedRow))
    await _load_musters(conn, state, now)
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
    await _overlay_amended(conn, state)
    visitor_ids = {v.visitor_id for v in state.visits.values()}
    await _load(conn, state, "visitor", select(VisitorRow).where(VisitorRow.id.in_(visitor_ids)))
    for entity, column in ID_COLUMNS:
        state.see_id(entity, await _max_id(conn, column))
    await _anomalies(conn, state, policy.day_bounds(today)[0])
    return state


ID_COLUMNS = (
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
    ("amendment", AmendmentRow.id),
    ("alarm", AlarmRow.id),
    ("muster", MusterRow.id),
    ("muster_mark", MusterMarkRow.id),
)


async def _load_musters(conn: AsyncConnection, state: RoomState, now: datetime) -> None:
    """The muster still running and those of the last two days (the roll call shows them)."""
    musters = await _load(
        conn,
        state,
        "muster",
        select(MusterRow).where(
            or_(MusterRow.ended_at.is_(None), MusterRow.started_at >= now - MUSTER_WINDOW)
        ),
    )
    ids = [m.id for m in musters]
    await _load(
        conn, state, "muster_mark", select(MusterMarkRow).where(MusterMarkRow.muster_id.in_(ids))
    )


async def _overlay_amended(conn: AsyncConnection, state: RoomState) -> None:
    """The later versions of signed days' rows replace the sealed ones in memory."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    rows = await conn.execute(
        select(AmendedRowRow.entity, AmendedRowRow.row_id, AmendedRowRow.row).order_by(
            AmendedRowRow.id
        )
    )
    for entity, row_id, values in rows.all():
        latest[(entity, row_id)] = values
    # Visits first (always: a later visit is rare), then what hangs off the visits in memory.
    for (entity, _), values in sorted(latest.items(), key=lambda kv: kv[0][0] != "visit"):
        obj = entity_from_values(entity, values)
        if (
            entity == "visit"
            or obj.id in state.tables[entity]
            or getattr(obj, "visit_id", None) in state.visits
            or _open(entity, obj)
        ):
            state.put(entity, obj)
        elif isinstance(obj.id, int):
            state.see_id(entity, obj.id)  # an id only ever used beside a signed day


def _open(entity: str, obj: Any) -> bool:
    """Is a later version of a row still something the rules must see?"""
    if entity == "deposit":
        return obj.returned_at is None
    if entity == "usage":
        return obj.ended_at is None
    if entity in ("ticket", "help"):
        return obj.state.value in ("waiting", "called", "open", "claimed")
    return False


async def _anomalies(conn: AsyncConnection, state: RoomState, start: datetime) -> None:
    rows = await conn.execute(
        select(AccessEventRow).where(
            AccessEventRow.at >= start, AccessEventRow.anomaly.is_not(None)
        )
    )
    for row in rows.all():
        if row.visit_id is not None:
            state.put(
                "anomaly",
                Anomaly(
                    id=row.id, kind=row.anomaly, visit_id=row.visit_id, reader=row.reader, at=row.at
                ),
            )


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
