"""Personal data under UU 27/2022: erasure after retention, and a data subject's copy.

Erasure keeps one writer and one chain. For each visitor whose visits are all
closed and older than ``retention_days``:

1. the single writer journals a ``privacy.erased`` fact carrying only the
   visitor's id (no personal data) - the chain records the erasure;
2. once that is committed, one SQL transaction erases the same fields in the
   tables (names and free text become ``(dihapus)``; NIK ciphertext, phone,
   NPWP and the lookup hash become NULL; ``erased_at`` is set) and shreds the
   visitor's key (``visitor_keys.wrapped = NULL``), so the ciphertext left in the
   journal can never be read again while every hash still verifies;
3. the writer reloads its state (and forgets cached keys).

Replaying the journal applies ``privacy.erased`` the same way
(:mod:`service.reports.replay`), so ``archive verify`` stays clean. If the
process stops between 1 and 2, the next run journals the erasure again and
finishes it (erasing twice is harmless).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.domain.tx import Tx
from service.reports.replay import ERASED_FACT
from service.reports.wording import ERASED
from service.store.tables import ENTITY_TABLES, VisitorKeyRow, table_of

if TYPE_CHECKING:
    from service.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
_KEYS = table_of(VisitorKeyRow)
_VISITORS = ENTITY_TABLES["visitor"]
_VISITS = ENTITY_TABLES["visit"]
_DEPOSITS = ENTITY_TABLES["deposit"]
_HELP = ENTITY_TABLES["help"]
CHUNK = 200
ERASED_FIELDS = (
    "visitors.name", "visitors.npwp", "visitors.doc_enc (NIK)", "visitors.phone_enc",
    "visitors.doc_hash", "visits.name", "deposits.returned_to", "help_requests.problem",
    "help_requests.resolution", "visitor_keys.wrapped (crypto-shredding)",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PurgeReport:
    cutoff: date  # visits before this day are past retention
    visitor_ids: tuple[int, ...]
    visits: int
    dry_run: bool
    fields: tuple[str, ...] = ERASED_FIELDS

    def describe(self) -> str:
        verb = "would erase" if self.dry_run else "erased"
        return (
            f"{verb} personal data of {len(self.visitor_ids)} visitor(s), "
            f"{self.visits} visit(s) before {self.cutoff.isoformat()}"
        )


async def due_visitors(conn: AsyncConnection, cutoff: date) -> tuple[list[int], int]:
    """Visitors not yet erased whose every visit is closed and before ``cutoff``."""
    v = _VISITS.c
    recent = exists().where(
        and_(v.visitor_id == _VISITORS.c.id, (v.day >= cutoff) | (v.state != "closed"))
    )
    any_visit = exists().where(v.visitor_id == _VISITORS.c.id)
    stmt = (
        select(_VISITORS.c.id)
        .where(_VISITORS.c.erased_at.is_(None), any_visit, ~recent)
        .order_by(_VISITORS.c.id)
    )
    ids = [int(r[0]) for r in (await conn.execute(stmt)).all()]
    visits = 0
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        rows = await conn.execute(select(v.id).where(v.visitor_id.in_(part)))
        visits += len(rows.all())
    return ids, visits


async def _erase_tables(conn: AsyncConnection, ids: list[int], now: datetime) -> None:
    visit_ids = select(_VISITS.c.id).where(_VISITS.c.visitor_id.in_(ids))
    await conn.execute(
        update(_VISITORS)
        .where(_VISITORS.c.id.in_(ids))
        .values(name=ERASED, npwp=None, doc_enc=None, phone_enc=None, doc_hash=None, erased_at=now)
    )
    await conn.execute(update(_VISITS).where(_VISITS.c.visitor_id.in_(ids)).values(name=ERASED))
    await conn.execute(
        update(_DEPOSITS)
        .where(_DEPOSITS.c.visit_id.in_(visit_ids), _DEPOSITS.c.returned_to.is_not(None))
        .values(returned_to=ERASED)
    )
    help_rows = _HELP.c.visit_id.in_(visit_ids)
    await conn.execute(update(_HELP).where(help_rows).values(problem=ERASED))
    await conn.execute(
        update(_HELP).where(help_rows, _HELP.c.resolution.is_not(None)).values(resolution=ERASED)
    )
    await conn.execute(
        update(_KEYS).where(_KEYS.c.visitor_id.in_(ids)).values(wrapped=None, shredded_at=now)
    )


async def purge(
    runtime: Runtime,
    now: datetime,
    retention_days: int | None = None,
    *,
    dry_run: bool = False,
    actor: str = "system:retention",
) -> PurgeReport:
    """Erase personal data past retention (``bidroom privacy purge [--dry-run]``)."""
    days = runtime.config.privacy.retention_days if retention_days is None else retention_days
    cutoff = runtime.policy.day_of(now) - timedelta(days=days)
    async with runtime.engine.connect() as conn:
        ids, visits = await due_visitors(conn, cutoff)
    report = PurgeReport(cutoff, tuple(ids), visits, dry_run)
    if dry_run or not ids:
        return report
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]

        def journal(tx: Tx, part: list[int] = part) -> None:
            for vid in part:
                tx.fact(ERASED_FACT, now, actor, visitor_id=vid)

        await runtime.execute(journal)
        async with runtime.engine.begin() as conn:
            await _erase_tables(conn, part, now)
    runtime.writer.request_reload()
    await runtime.execute(lambda tx: None)  # the reload happens before this batch
    _LOGGER.info("retention: %s", report.describe())
    return report


@dataclass(slots=True)
class RetentionJob:
    """Runs :func:`purge` once per local day (the daemon starts and stops it)."""

    runtime: Runtime
    interval_s: float = 3600.0
    last_day: date | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self) -> PurgeReport | None:
        now = self.runtime.clock()
        today = self.runtime.policy.day_of(now)
        if self.last_day == today:
            return None
        report = await purge(self.runtime, now)
        self.last_day = today
        return report

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                _LOGGER.exception("retention job failed; will retry")
            await asyncio.sleep(self.interval_s)
