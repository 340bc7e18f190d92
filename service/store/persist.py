"""Turning facts into rows: coalesced changes, journal rows, encrypted personal data.

Everything here runs inside one database transaction opened by the writer.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.domain.model import Fact
from service.privacy import PersonalData
from service.store.journal import chain_hash, payload_of
from service.store.tables import (
    ENTITY_TABLES,
    INSERT_ORDER,
    JournalRow,
    VisitorKeyRow,
    VisitorRow,
    table_of,
)

_LOGGER = logging.getLogger(__name__)
_JOURNAL = table_of(JournalRow)
_VISITORS = table_of(VisitorRow)
_KEYS = table_of(VisitorKeyRow)


def _db_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


@dataclass(slots=True)
class Head:
    """The journal's last row, as the writer believes it."""

    seq: int = 0
    hash: str = "0" * 64


@dataclass(slots=True)
class Batch:
    inserts: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)
    updates: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)
    visitor_updates: list[dict[str, Any]] = field(default_factory=list)
    new_keys: list[dict[str, Any]] = field(default_factory=list)


class Persister:
    """Writes a batch of facts in the caller's transaction; keeps visitor keys cached."""

    def __init__(self, personal: PersonalData) -> None:
        self.personal = personal
        self._keys: dict[int, bytes] = {}

    def forget_keys(self) -> None:
        self._keys.clear()

    async def write(self, conn: AsyncConnection, facts: Sequence[Fact], head: Head) -> Head:
        batch = Batch()
        now = datetime.now(UTC)
        seq, prev = head.seq, head.hash
        for fact in facts:
            self._coalesce(batch, fact)
            personal = await self._encrypt_personal(conn, batch, fact)
            seal = None
            if fact.visitor_id is not None:
                key = await self._visitor_key(conn, batch, fact.visitor_id, fact.at)
                context = f"visitor:{fact.visitor_id}"

                def seal(name: str, value: str, key: bytes = key, context: str = context) -> str:
                    return PersonalData.encrypt(key, value, f"{context}:{name}")

            seq += 1
            at = fact.at.astimezone(UTC)
            payload = payload_of(fact, personal, seal)
            digest = chain_hash(prev, seq, at, fact.kind, fact.actor, payload)
            batch.journal.append(
                {
                    "seq": seq,
                    "at": at,
                    "recorded_at": now,
                    "kind": fact.kind,
                    "actor": fact.actor,
                    "payload": payload,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        await self._flush(conn, batch)
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_notify('bidroom_journal', :seq)"), {"seq": str(seq)})
        return Head(seq, prev)

    @staticmethod
    def _coalesce(batch: Batch, fact: Fact) -> None:
        for change in fact.changes:
            values = {k: _db_value(v) for k, v in change.values.items()}
            pending = batch.inserts.setdefault(change.entity, {})
            if change.new:
                pending[change.id] = {"id": change.id, **values}
            elif change.id in pending:
                pending[change.id].update(values)
            else:
                batch.updates.setdefault(change.entity, {}).setdefault(change.id, {}).update(values)

    async def _encrypt_personal(
        self, conn: AsyncConnection, batch: Batch, fact: Fact
    ) -> dict[str, str]:
        if not fact.personal or fact.visitor_id is None:
            return {}
        vid = fact.visitor_id
        key = await self._visitor_key(conn, batch, vid, fact.at)
        enc = {
            k: PersonalData.encrypt(key, v, f"visitor:{vid}:{k}")
            for k, v in sorted(fact.personal.items())
            if k != "doc_hash"
        }
        row: dict[str, Any] = {"_id": vid}
        row["doc_enc"] = enc.get("doc_number")
        row["phone_enc"] = enc.get("phone")
        row["doc_hash"] = fact.personal.get("doc_hash")
        batch.visitor_updates.append(row)
        return enc

    async def _visitor_key(
        self, conn: AsyncConnection, batch: Batch, vid: int, at: datetime
    ) -> bytes:
        if vid in self._keys:
            return self._keys[vid]
        wrapped = (
            await conn.execute(select(_KEYS.c.wrapped).where(_KEYS.c.visitor_id == vid))
        ).scalar_one_or_none()
        if wrapped is None:
            key = PersonalData.new_visitor_key()
            batch.new_keys.append(
                {
                    "visitor_id": vid,
                    "wrapped": self.personal.wrap(vid, key),
                    "created_at": at,
                    "shredded_at": None,
                }
            )
        else:
            key = self.personal.unwrap(vid, wrapped)
        self._keys[vid] = key
        return key

    async def _flush(self, conn: AsyncConnection, batch: Batch) -> None:
        for entity in INSERT_ORDER:
            rows = list(batch.inserts.get(entity, {}).values())
            if rows:
                await self._insert(conn, entity, rows)
        for entity, by_id in batch.updates.items():
            table = ENTITY_TABLES[entity]
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for ident, values in by_id.items():
                groups.setdefault(tuple(sorted(values)), []).append({"_id": ident, **values})
            for keys, params in groups.items():
                stmt = (
                    update(table)
                    .where(table.c.id == bindparam("_id"))
                    .values({k: bindparam(k) for k in keys})
                )
                await conn.execute(stmt, params)
        if batch.new_keys:
            await conn.execute(insert(_KEYS), batch.new_keys)
        if batch.visitor_updates:
            stmt = (
                update(_VISITORS)
                .where(_VISITORS.c.id == bindparam("_id"))
                .values(
                    doc_enc=bindparam("doc_enc"),
                    phone_enc=bindparam("phone_enc"),
                    doc_hash=bindparam("doc_hash"),
                )
            )
            await conn.execute(stmt, batch.visitor_updates)
        await conn.execute(insert(_JOURNAL), batch.journal)

    @staticmethod
    async def _insert(conn: AsyncConnection, entity: str, rows: list[dict[str, Any]]) -> None:
        table = ENTITY_TABLES[entity]
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(sorted(row)), []).append(row)
        for params in groups.values():
            await conn.execute(insert(table), params)
