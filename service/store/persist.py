"""Turning facts into rows: coalesced changes, journal rows, encrypted personal data.

:meth:`Persister.prepare` builds the whole batch in memory (reading a visitor's
key when it is not cached yet); :func:`statements` lists what to execute, so the
same batch is written by the async engine (PostgreSQL) or, for SQLite, by one
synchronous connection in the writer's own thread — one thread hop per batch
instead of one per statement.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable, bindparam, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
Statement = tuple[Executable, Any]


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
    head: Head = field(default_factory=Head)
    postgres: bool = False


class Persister:
    """Prepares batches of facts; keeps the visitors' data keys cached."""

    def __init__(self, personal: PersonalData, engine: AsyncEngine) -> None:
        self.personal = personal
        self._engine = engine
        self._keys: dict[int, bytes] = {}
        self._new: set[int] = set()

    def forget_keys(self) -> None:
        self._keys.clear()
        self._new.clear()

    def committed(self) -> None:
        self._new.clear()

    def rolled_back(self) -> None:
        """Keys created for a batch that did not commit were never stored: forget them."""
        for vid in self._new:
            self._keys.pop(vid, None)
        self._new.clear()

    async def prepare(self, facts: Sequence[Fact], head: Head) -> Batch:
        batch = Batch(postgres=self._engine.dialect.name == "postgresql")
        now = datetime.now(UTC)
        seq, prev = head.seq, head.hash
        for fact in facts:
            self._coalesce(batch, fact)
            seal = None
            personal: dict[str, str] = {}
            if fact.visitor_id is not None:
                vid = fact.visitor_id
                key = await self._visitor_key(batch, vid, fact.at)
                personal = self._encrypt_personal(batch, fact, key)

                def seal(name: str, value: str, key: bytes = key, vid: int = vid) -> str:
                    return PersonalData.encrypt(key, value, f"visitor:{vid}:{name}")

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
        batch.head = Head(seq, prev)
        return batch

    @staticmethod
    def _coalesce(batch: Batch, fact: Fact) -> None:
        for change in fact.changes:
            if change.entity not in ENTITY_TABLES:
                continue  # journal-only (Tx.record): the journal row is its only record
            values = {k: _db_value(v) for k, v in change.values.items()}
            pending = batch.inserts.setdefault(change.entity, {})
            if change.new:
                pending[change.id] = {"id": change.id, **values}
            elif change.id in pending:
                pending[change.id].update(values)
            else:
                batch.updates.setdefault(change.entity, {}).setdefault(change.id, {}).update(values)

    @staticmethod
    def _encrypt_personal(batch: Batch, fact: Fact, key: bytes) -> dict[str, str]:
        if not fact.personal:
            return {}
        vid = fact.visitor_id
        enc = {
            k: PersonalData.encrypt(key, v, f"visitor:{vid}:{k}")
            for k, v in sorted(fact.personal.items())
            if k != "doc_hash"
        }
        batch.visitor_updates.append(
            {
                "_id": vid,
                "doc_enc": enc.get("doc_number"),
                "phone_enc": enc.get("phone"),
                "doc_hash": fact.personal.get("doc_hash"),
            }
        )
        return enc

    async def _visitor_key(self, batch: Batch, vid: int, at: datetime) -> bytes:
        if vid in self._keys:
            return self._keys[vid]
        async with self._engine.connect() as conn:
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
            self._new.add(vid)
        else:
            key = self.personal.unwrap(vid, wrapped)
        self._keys[vid] = key
        return key


def statements(batch: Batch) -> list[Statement]:
    """Every statement of a batch, in an order that respects the foreign keys."""
    out: list[Statement] = []
    for entity in INSERT_ORDER:
        rows = list(batch.inserts.get(entity, {}).values())
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(sorted(row)), []).append(row)
        out.extend((insert(ENTITY_TABLES[entity]), params) for params in groups.values())
    for entity, by_id in batch.updates.items():
        table = ENTITY_TABLES[entity]
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for ident, values in by_id.items():
            updates.setdefault(tuple(sorted(values)), []).append({"_id": ident, **values})
        for keys, params in updates.items():
            stmt = (
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values({k: bindparam(k) for k in keys})
            )
            out.append((stmt, params))
    if batch.new_keys:
        out.append((insert(_KEYS), batch.new_keys))
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
        out.append((stmt, batch.visitor_updates))
    out.append((insert(_JOURNAL), batch.journal))
    if batch.postgres:
        out.append(
            (text("SELECT pg_notify('bidroom_journal', :seq)"), {"seq": str(batch.head.seq)})
        )
    return out


async def write_async(conn: AsyncConnection, batch: Batch) -> None:
    for stmt, params in statements(batch):
        await conn.execute(stmt, params)


def write_sync(conn: Connection, batch: Batch) -> None:
    for stmt, params in statements(batch):
        conn.execute(stmt, params)
