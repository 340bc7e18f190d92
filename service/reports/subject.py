"""``bidroom privacy export --nik N``: everything held about one data subject.

Reading a full NIK is itself journaled (``privacy.read``, with the visitor id and
the reading admin, never the number) before anything is decrypted.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.domain import facts as f
from service.domain.tx import Tx
from service.privacy import KeyShredded, PersonalData
from service.store.tables import ENTITY_TABLES, STORE_ONLY, DataKeyRow, table_of

if TYPE_CHECKING:
    from service.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
_KEYS = table_of(DataKeyRow)
NIK_READ = f.PersonalDataRead.KIND


def _plain(mapping: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime | date) else v)
        for k, v in mapping.items()
        if k not in skip
    }


async def _rows(conn: AsyncConnection, entity: str, column: str, ids: list[int]) -> list[Any]:
    table = ENTITY_TABLES[entity]
    stmt = select(table).where(table.c[column].in_(ids)).order_by(table.c.id)
    return [_plain(r._mapping) for r in (await conn.execute(stmt)).all()]


def _open(key: bytes | None, subject: str, name: str, token: str | None) -> str | None:
    if token is None:
        return None
    if key is None:
        return "(dihapus)"
    return PersonalData.decrypt(key, token, f"{subject}:{name}")


async def _visitor(conn: AsyncConnection, personal: PersonalData, row: Any) -> dict[str, Any]:
    vid = int(row.id)
    subject = f"visitor:{vid}"
    wrapped = (
        await conn.execute(select(_KEYS.c.wrapped).where(_KEYS.c.subject == subject))
    ).scalar_one_or_none()
    try:
        key: bytes | None = personal.unwrap(subject, wrapped)
    except KeyShredded:
        key = None
    out = _plain(row._mapping, STORE_ONLY["visitor"])
    out["doc_number"] = _open(key, subject, "doc_number", row.doc_enc)
    out["phone"] = _open(key, subject, "phone", row.phone_enc)
    out["npwp"] = _open(key, subject, "npwp", row.npwp_enc)
    visits = await _rows(conn, "visit", "visitor_id", [vid])
    ids = [v["id"] for v in visits]
    out["visits"] = visits
    out["deposits"] = await _rows(conn, "deposit", "visit_id", ids)
    out["facility_use"] = await _rows(conn, "usage", "visit_id", ids)
    out["help_requests"] = await _rows(conn, "help", "visit_id", ids)
    out["door_and_desk_taps"] = await _rows(conn, "access_event", "visit_id", ids)
    return out


async def export_subject(
    runtime: Runtime, nik: str, actor: str, doc_type: str = "ktp"
) -> dict[str, Any]:
    """All records of the person with this document number (admin only, journaled)."""
    visitors = ENTITY_TABLES["visitor"]
    digest = runtime.personal.lookup_hash(doc_type, nik.strip())
    async with runtime.engine.connect() as conn:
        found = (await conn.execute(select(visitors).where(visitors.c.doc_hash == digest))).all()
    now = runtime.clock()
    ids = [int(r.id) for r in found]

    targets: list[int | None] = [*ids] or [None]

    def journal(tx: Tx) -> None:
        for vid in targets:
            tx.emit(f.PersonalDataRead(at=now, actor=actor, visitor_id=vid, what="subject_export"))

    await runtime.execute(journal)
    async with runtime.engine.connect() as conn:
        people = [await _visitor(conn, runtime.personal, row) for row in found]
    _LOGGER.info("privacy export by %s: %d visitor record(s)", actor, len(people))
    return {
        "document_type": doc_type,
        "exported_at": now.isoformat(),
        "exported_by": actor,
        "visitors": people,
    }
