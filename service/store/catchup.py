"""Another writer's commits, read back as facts: the journal is the log.

Two daemons on one PostgreSQL database (or a CLI command beside the daemon) each
keep their own state. When one hears that the journal moved (LISTEN/NOTIFY, the
periodic check, a write conflict), it reads the rows after its own head, checks that
they continue its chain, decodes each into its typed fact (opening the personal
values with the data keys, as the writer sealed them) and applies them with the same
``apply`` it applies its own commits with. That costs a query and a few microseconds
per fact, where reloading every table costs tens of milliseconds; whenever it cannot
be done exactly (a gap, a row that does not decode, more than a reload's worth of
rows), the caller reloads the whole state instead.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.domain import facts as f
from service.domain.model import ERASED
from service.privacy import PersonalData
from service.store.journal import chain_hash, decode_fact, subject_of
from service.store.persist import Head
from service.store.tables import DataKeyRow, JournalRow

# More rows than this behind: a full reload is as cheap, and bounded in memory.
MAX_ROWS = 2_000


class CannotCatchUp(Exception):
    """The rows do not continue our chain, or one does not decode: reload instead."""


async def facts_after(
    engine: AsyncEngine, head: Head, personal: PersonalData
) -> tuple[list[f.Fact], Head]:
    """The facts committed after ``head`` by anyone, in order, and the new head."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(JournalRow)
                .where(JournalRow.seq > head.seq)
                .order_by(JournalRow.seq)
                .limit(MAX_ROWS + 1)
            )
        ).all()
        if len(rows) > MAX_ROWS:
            raise CannotCatchUp(f"more than {MAX_ROWS} rows behind")
        subjects = {s for s in (subject_of(r.payload) for r in rows) if s is not None}
        wrapped: dict[str, bytes | None] = {}
        if subjects:
            keys = await conn.execute(
                select(DataKeyRow.subject, DataKeyRow.wrapped).where(
                    DataKeyRow.subject.in_(subjects)
                )
            )
            wrapped = {str(subject): value for subject, value in keys.all()}
    facts: list[f.Fact] = []
    prev = head
    opened: dict[str, bytes | None] = {}

    def open_(subject: str | None, path: str, token: str) -> str:
        if subject is None:
            raise CannotCatchUp("a sealed value without its subject")
        if subject not in opened:
            value = wrapped.get(subject)
            opened[subject] = None if value is None else personal.unwrap(subject, value)
        key = opened[subject]
        return ERASED if key is None else PersonalData.decrypt(key, token, f"{subject}:{path}")

    for row in rows:
        expected = chain_hash(prev.hash, row.seq, row.at, row.kind, row.actor, row.payload)
        if row.seq != prev.seq + 1 or row.prev_hash != prev.hash or row.hash != expected:
            raise CannotCatchUp(f"journal row {row.seq} does not continue our chain")
        try:
            facts.append(decode_fact(row.kind, row.payload, open_))
        except (KeyError, ValueError, InvalidTag) as exc:
            raise CannotCatchUp(f"journal row {row.seq} does not decode: {exc}") from exc
        prev = Head(row.seq, row.hash)
    return facts, prev
