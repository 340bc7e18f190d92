"""Reading the journal back and checking its chain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.store.journal import ChainFault, JournalEntry, verify_rows
from service.store.tables import JournalRow


async def journal_entries(conn: AsyncConnection, after_seq: int = 0) -> list[JournalEntry]:
    rows = (
        await conn.execute(
            select(JournalRow).where(JournalRow.seq > after_seq).order_by(JournalRow.seq)
        )
    ).all()
    return [
        JournalEntry(r.seq, r.at, r.kind, r.actor, r.payload, r.prev_hash, r.hash) for r in rows
    ]


async def journal_faults(engine: AsyncEngine) -> list[ChainFault]:
    """Every place where the stored journal's hash chain breaks (empty: intact)."""
    async with engine.connect() as conn:
        return verify_rows(await journal_entries(conn))
