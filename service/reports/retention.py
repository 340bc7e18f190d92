"""Personal data under UU 27/2022: erasure after retention, and a data subject's copy.

Erasure keeps one writer and one chain. For each data subject past retention (a
visitor whose visits are all closed and older than ``retention_days``; a help
request raised for no visit and older than that), the single writer commits one
``privacy.erased`` fact (:class:`~service.domain.facts.PersonalDataErased`, which
carries the subject's id and no personal data), and in the same transaction the
store erases every personal field the model declares (names and free text
become ``(dihapus)``; the sealed document, phone and NPWP numbers and the lookup
hashes become NULL; ``erased_at`` is set), in the tables and in later versions of
signed days' rows, and shreds the subject's key, so the ciphertext left in the
hash-chained journal can never be read again while every hash still verifies.

Replaying the journal applies ``privacy.erased`` with the same ``apply``, so
``archive verify`` stays clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.domain import facts as f
from service.domain.model import ERASED
from service.domain.tx import Tx
from service.store.tables import ENTITY_TABLES

if TYPE_CHECKING:
    from service.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
_VISITORS = ENTITY_TABLES["visitor"]
_VISITS = ENTITY_TABLES["visit"]
_DEPOSITS = ENTITY_TABLES["deposit"]
_HELP = ENTITY_TABLES["help"]
CHUNK = 200
ERASED_FIELDS = (
    "visitors.name", "visitors.doc_enc (NIK)", "visitors.phone_enc", "visitors.npwp_enc",
    "visitors.doc_hash", "visitors.npwp_hash", "visits.name", "deposits.returned_to",
    "help_requests.problem", "help_requests.resolution", "data_keys.wrapped (crypto-shredding)",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PurgeReport:
    cutoff: date  # visits before this day are past retention
    visitor_ids: tuple[int, ...]
    visits: int
    dry_run: bool
    help_ids: tuple[int, ...] = ()
    fields: tuple[str, ...] = ERASED_FIELDS

    def describe(self) -> str:
        verb = "would erase" if self.dry_run else "erased"
        return (
            f"{verb} personal data of {len(self.visitor_ids)} visitor(s), "
            f"{self.visits} visit(s) and {len(self.help_ids)} help request(s) "
            f"before {self.cutoff.isoformat()}"
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


async def due_help(conn: AsyncConnection, before: datetime) -> list[int]:
    """Help requests raised for no visit, closed, and opened before ``before``."""
    h = _HELP.c
    stmt = (
        select(h.id)
        .where(
            h.visit_id.is_(None),
            h.opened_at < before,
            h.state.in_(("resolved", "cancelled")),
            h.problem != ERASED,
        )
        .order_by(h.id)
    )
    return [int(r[0]) for r in (await conn.execute(stmt)).all()]


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
        helps = await due_help(conn, runtime.policy.day_bounds(cutoff)[0])
    report = PurgeReport(cutoff, tuple(ids), visits, dry_run, help_ids=tuple(helps))
    if dry_run or not (ids or helps):
        return report
    subjects = [f"visitor:{vid}" for vid in ids] + [f"help:{hid}" for hid in helps]
    for start in range(0, len(subjects), CHUNK):
        part = subjects[start : start + CHUNK]

        def erase(tx: Tx, part: list[str] = part) -> None:
            for subject in part:
                tx.emit(f.PersonalDataErased(at=now, actor=actor, data_subject=subject))

        await runtime.execute(erase)
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
