"""From a rule's facts to rows: journal rows, entity rows, sealed personal values.

:meth:`Persister.prepare` turns one job's :class:`~service.domain.tx.Tx` into a
:class:`Part` (payloads encrypted, rows listed) without numbering anything, so a
job that cannot be prepared fails alone. :func:`build_batch` numbers and chains
the parts of a batch; :func:`statements` lists what to execute, the same for the
async engine (PostgreSQL) and for SQLite's synchronous writer connection. The
journal rows come first: another writer that took the same sequence number makes
the very first statement fail (see :func:`is_journal_conflict`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, is_dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.domain import facts as f
from service.domain.model import FIELDS
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.privacy import KeyShredded, PersonalData
from service.store.erasure import erasure_statements
from service.store.journal import GENESIS, chain_hash, encode_fact
from service.store.tables import (
    ENTITY_TABLES,
    INSERT_ORDER,
    STORE_ONLY,
    AmendedRowRow,
    DataKeyRow,
    JournalRow,
    table_of,
)

_JOURNAL = table_of(JournalRow)
_KEYS = table_of(DataKeyRow)
_AMENDED = table_of(AmendedRowRow)
Statement = tuple[Executable, Any]


_PLAIN = frozenset({type(None), str, int, bool, float, datetime})


def db_value(value: Any) -> Any:
    """A field's value as its column takes it (enums by value, tuples as JSON lists)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [db_value(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {name: db_value(getattr(value, name)) for name in value.__dataclass_fields__}
    return value  # a date


def row_values(entity: str, obj: Any) -> dict[str, Any]:
    return {name: db_value(getattr(obj, name)) for name in FIELDS[entity]}


@dataclass(slots=True)
class Head:
    """The journal's last row, as the writer believes it."""

    seq: int = 0
    hash: str = GENESIS


@dataclass(slots=True)
class Part:
    """One job's share of a batch: prepared, not yet numbered."""

    journal: list[tuple[f.Fact, str]] = field(default_factory=list)
    rows: dict[tuple[str, Any], Any] = field(default_factory=dict)  # last version (None: delete)
    amended: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[dict[str, Any]] = field(default_factory=list)
    new_keys: list[dict[str, Any]] = field(default_factory=list)
    erasures: list[Statement] = field(default_factory=list)


@dataclass(slots=True)
class Batch:
    journal: list[dict[str, Any]] = field(default_factory=list)
    rows: dict[tuple[str, Any], Any] = field(default_factory=dict)
    amended: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[dict[str, Any]] = field(default_factory=list)
    new_keys: list[dict[str, Any]] = field(default_factory=list)
    erasures: list[Statement] = field(default_factory=list)
    head: Head = field(default_factory=Head)
    postgres: bool = False


class Persister:
    """Prepares parts; keeps the data subjects' keys cached."""

    def __init__(self, personal: PersonalData, engine: AsyncEngine) -> None:
        self.personal = personal
        self._engine = engine
        self._keys: dict[str, bytes] = {}
        self._new: set[str] = set()

    def forget_keys(self) -> None:
        self._keys.clear()
        self._new.clear()

    def committed(self) -> None:
        self._new.clear()

    def rolled_back(self) -> None:
        """Keys created for a batch that did not commit were never stored: forget them."""
        for subject in self._new:
            self._keys.pop(subject, None)
        self._new.clear()

    async def prepare(self, tx: Tx, state: RoomState) -> Part:
        part = Part()
        for fact in tx.facts:
            key = None
            if fact.subject is not None and not isinstance(fact, f.PersonalDataErased):
                key = await self._key(part, fact.subject, fact.at)
            part.journal.append((fact, encode_fact(fact, self._sealer(fact.subject, key))))
            if isinstance(fact, f.VisitorRecorded) and fact.identity is not None:
                assert key is not None
                part.secrets.append(self._secrets(fact, key))
            elif isinstance(fact, f.PersonalDataErased):
                part.erasures += await self._erasure(fact)
        refs = _amendment_refs(tx.facts)
        for entity, ident, obj in tx.writes:
            if (entity, ident) not in tx.diverted:
                part.rows[(entity, ident)] = obj
                continue
            part.amended.append(
                {
                    "amendment_id": refs[f"{entity}:{ident}"],
                    "entity": entity,
                    "row_id": str(ident),
                    "visitor_id": _visitor_of(state, entity, obj),
                    "row": _json_row(entity, obj),
                }
            )
        return part

    @staticmethod
    def _sealer(subject: str | None, key: bytes | None) -> Any:
        if subject is None or key is None:
            return None

        def seal(path: str, value: str) -> str:
            return PersonalData.encrypt(key, value, f"{subject}:{path}")

        return seal

    def _secrets(self, fact: f.VisitorRecorded, key: bytes) -> dict[str, Any]:
        ident = fact.identity
        assert ident is not None
        subject = fact.subject

        def seal(name: str, value: str | None) -> str | None:
            return None if value is None else PersonalData.encrypt(key, value, f"{subject}:{name}")

        return {
            "_id": fact.visitor.id,
            "doc_hash": ident.doc_hash,
            "doc_enc": seal("doc_number", ident.doc_number),
            "phone_enc": seal("phone", ident.phone),
            "npwp_enc": seal("npwp", ident.npwp),
            "npwp_hash": ident.npwp_hash,
        }

    async def _key(self, part: Part, subject: str, at: datetime) -> bytes:
        if subject in self._keys:
            return self._keys[subject]
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(_KEYS.c.wrapped).where(_KEYS.c.subject == subject))
            ).first()
        if row is None:
            key = PersonalData.new_visitor_key()
            part.new_keys.append(
                {
                    "subject": subject,
                    "wrapped": self.personal.wrap(subject, key),
                    "created_at": at,
                    "shredded_at": None,
                }
            )
            self._new.add(subject)
        else:
            if row[0] is None:
                raise KeyShredded(f"{subject}: personal data already erased")
            key = self.personal.unwrap(subject, row[0])
        self._keys[subject] = key
        return key

    async def _erasure(self, fact: f.PersonalDataErased) -> list[Statement]:
        """The SQL that erases a subject everywhere: tables, later row versions, its key."""
        self._keys.pop(fact.data_subject, None)
        return await erasure_statements(self._engine, fact.data_subject, fact.at)


def _amendment_refs(facts: Sequence[f.Fact]) -> dict[str, int]:
    refs: dict[str, int] = {}
    for fact in facts:
        if isinstance(fact, f.AmendmentRecorded):
            for ref in fact.amendment.rows:
                refs.setdefault(ref, fact.amendment.id)
    return refs


def _visitor_of(state: RoomState, entity: str, obj: Any) -> int | None:
    if entity == "visit":
        return int(obj.visitor_id)
    visit_id = getattr(obj, "visit_id", None)
    visit = state.visits.get(visit_id) if visit_id is not None else None
    return visit.visitor_id if visit is not None else None


def _json_row(entity: str, obj: Any) -> dict[str, Any]:
    values = row_values(entity, obj)
    return {k: v.isoformat() if isinstance(v, datetime) else _plain(v) for k, v in values.items()}


def _plain(value: Any) -> Any:
    from datetime import date

    return value.isoformat() if isinstance(value, date) else value


def build_batch(parts: Sequence[Part], head: Head, postgres: bool) -> Batch:
    """Number and chain the parts' journal rows; merge their rows (the last version wins)."""
    batch = Batch(postgres=postgres)
    now = datetime.now(UTC)
    seq, prev = head.seq, head.hash
    for part in parts:
        for fact, payload in part.journal:
            seq += 1
            at = fact.at.astimezone(UTC)
            digest = chain_hash(prev, seq, at, fact.KIND, fact.actor, payload)
            batch.journal.append(
                {
                    "seq": seq,
                    "at": at,
                    "recorded_at": now,
                    "kind": fact.KIND,
                    "actor": fact.actor,
                    "payload": payload,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        batch.rows.update(part.rows)
        batch.amended += part.amended
        batch.secrets += part.secrets
        batch.new_keys += part.new_keys
        batch.erasures += part.erasures
    batch.head = Head(seq, prev)
    return batch


_UPSERTS: dict[tuple[str, bool], Executable] = {}


def _upsert(entity: str, postgres: bool) -> Executable:
    """INSERT … ON CONFLICT (id) DO UPDATE of every field, built once per table and engine."""
    found = _UPSERTS.get((entity, postgres))
    if found is None:
        table = ENTITY_TABLES[entity]
        stmt = (postgresql.insert if postgres else sqlite.insert)(table)
        keys = [c.name for c in table.primary_key]
        columns = [c for c in FIELDS[entity] if c not in keys]
        found = stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in columns}
        )
        _UPSERTS[(entity, postgres)] = found
    return found


Rows = tuple[str, bool, list[dict[str, Any]]]  # table name, upsert?, rows


def table_rows(batch: Batch) -> list[Rows]:
    """The batch's plain rows, journal first, then entities in foreign-key order."""
    out: list[Rows] = []
    if batch.journal:
        out.append((_JOURNAL.name, False, batch.journal))
    by_entity: dict[str, list[Any]] = {}
    for (entity, _), obj in batch.rows.items():
        if obj is not None:
            by_entity.setdefault(entity, []).append(obj)
    for entity in INSERT_ORDER:
        if entity in by_entity:
            rows = [row_values(entity, obj) for obj in by_entity[entity]]
            out.append((ENTITY_TABLES[entity].name, entity != "access_event", rows))
    return out


def other_statements(batch: Batch) -> list[Statement]:
    """Everything else a batch writes (rare: deletions, amendments, keys, erasures)."""
    out: list[Statement] = []
    for entity in INSERT_ORDER:
        gone = [ident for (e, ident), obj in batch.rows.items() if e == entity and obj is None]
        if gone:
            table = ENTITY_TABLES[entity]
            key = next(iter(table.primary_key))
            out.append((delete(table).where(key.in_(gone)), {}))
    if batch.amended:
        out.append((insert(_AMENDED), batch.amended))
    if batch.new_keys:
        out.append((insert(_KEYS), batch.new_keys))
    if batch.secrets:
        visitors = ENTITY_TABLES["visitor"]
        names = sorted(STORE_ONLY["visitor"])
        stmt = (
            update(visitors)
            .where(visitors.c.id == bindparam("_id"))
            .values({n: bindparam(n) for n in names})
        )
        out.append((stmt, batch.secrets))
    out += batch.erasures
    if batch.postgres:
        out.append(
            (text("SELECT pg_notify('bidroom_journal', :seq)"), {"seq": str(batch.head.seq)})
        )
    return out


_BY_NAME = {table.name: (entity, table) for entity, table in ENTITY_TABLES.items()}


def statements(batch: Batch) -> list[Statement]:
    """Every statement of a batch as SQLAlchemy Core (PostgreSQL's path)."""
    out: list[Statement] = []
    for name, upsert, rows in table_rows(batch):
        if name == _JOURNAL.name:
            out.append((insert(_JOURNAL), rows))
            continue
        entity, table = _BY_NAME[name]
        out.append((_upsert(entity, batch.postgres) if upsert else insert(table), rows))
    return out + other_statements(batch)


async def write_async(conn: AsyncConnection, batch: Batch) -> None:
    for stmt, params in statements(batch):
        await conn.execute(stmt, params)


def write_sync(conn: Connection, batch: Batch) -> None:
    """SQLite's writer path: the hot rows as plain SQL on the writer's own connection."""
    from service.store.sqlite_rows import write_rows

    write_rows(conn, table_rows(batch))
    for stmt, params in other_statements(batch):
        conn.execute(stmt, params)


def is_journal_conflict(exc: IntegrityError) -> bool:
    """Did another writer take our journal sequence number (rather than a rule's data clash)?"""
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    constraint = getattr(cause, "constraint_name", None) or getattr(orig, "constraint_name", None)
    if constraint is not None:
        return str(constraint) == "pk_journal"
    return "journal.seq" in str(orig)
