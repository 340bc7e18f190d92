"""Notices an admin must see and acknowledge: today, a database file moved aside.

The notice is a row of the ``notices`` table in the database the daemon runs on —
after a move, the new and empty one — so it survives restarts, travels with the
data (backups, a copy to another machine) and records who acknowledged it and when.
A marker file beside the database would do none of that, and would be left behind
when the file is restored. Notices are not room state: they are not journaled,
and the writer never sees them. The open ones are kept in memory for the status
page and ``GET /api/v1/status``; ``POST /api/v1/notices/{id}/ack`` (admin) closes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.errors import NotFound
from service.i18n import _
from service.store.integrity import MovedAside
from service.store.tables import NoticeRow

DATABASE_MOVED_ASIDE = "database_moved_aside"


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    kind: str
    at: datetime
    detail: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {**self.detail, "id": self.id, "kind": self.kind, "at": self.at.isoformat()}


class Notices:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._open: dict[int, Notice] = {}

    async def start(self, moved: MovedAside | None) -> None:
        """Record a move that just happened (if any), then load every open notice."""
        if moved is not None:
            detail = {"path": str(moved.path), "aside": str(moved.aside), "reason": moved.reason}
            await self.record(DATABASE_MOVED_ASIDE, moved.at, detail)
        await self.load()

    async def record(self, kind: str, at: datetime, detail: dict[str, str]) -> Notice:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                insert(NoticeRow).values(kind=kind, at=at, detail=detail).returning(NoticeRow.id)
            )
            notice = Notice(int(result.scalar_one()), kind, at, detail)
        self._open[notice.id] = notice
        return notice

    async def load(self) -> None:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(NoticeRow).where(NoticeRow.acked_at.is_(None)).order_by(NoticeRow.id)
                )
            ).all()
        self._open = {r.id: Notice(r.id, r.kind, r.at, dict(r.detail)) for r in rows}

    def open(self) -> list[dict[str, Any]]:
        """The notices nobody has acknowledged yet, oldest first."""
        return [n.as_json() for n in self._open.values()]

    async def acknowledge(self, notice_id: int, who: str, at: datetime) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(NoticeRow)
                .where(NoticeRow.id == notice_id, NoticeRow.acked_at.is_(None))
                .values(acked_at=at, acked_by=who)
                .returning(NoticeRow.id)
            )
            if result.first() is None:
                raise NotFound(
                    _("Pemberitahuan tidak ada atau sudah dikonfirmasi."),
                )
        self._open.pop(notice_id, None)
