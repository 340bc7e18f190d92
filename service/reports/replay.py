"""The journal replayed into :class:`~service.reports.data.Records`.

Every journal payload lists its changes with full values for new rows, so
applying them in order rebuilds every entity. Personal fields are ciphertext
under the visitor's key: they are opened with :class:`PersonalData` while the key
exists, shown as ``(dihapus)`` once it was shredded, and as ``None`` when no keys
are given (an auditor's offline check). A ``privacy.erased`` fact erases a
visitor's personal fields from then on, exactly as the retention job erases them
from the tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.errors import ConfigError
from service.privacy import KeyShredded, PersonalData
from service.reports.data import Records, typed
from service.reports.wording import ERASED
from service.store.journal import PERSONAL_FIELDS, JournalEntry
from service.store.tables import JournalRow, VisitorKeyRow, table_of

ERASED_FACT = "privacy.erased"
# Free-text fields erased with the personal ones at the end of retention.
ERASED_TEXT: dict[str, tuple[str, ...]] = {
    "visitor": ("name",),
    "visit": ("name",),
    "deposit": ("returned_to",),
    "help": ("problem", "resolution"),
}
ERASED_NULL: dict[str, tuple[str, ...]] = {"visitor": ("npwp",)}
_JOURNAL = table_of(JournalRow)
_KEYS = table_of(VisitorKeyRow)


class Opener:
    """Opens personal fields in journal payloads (or cannot, and says so)."""

    def __init__(self, personal: PersonalData | None, wrapped: dict[int, bytes | None]) -> None:
        self._personal = personal
        self._wrapped = wrapped
        self._keys: dict[int, bytes | None] = {}

    def key(self, vid: int) -> bytes | None:
        if vid not in self._keys:
            wrapped = self._wrapped.get(vid)
            try:
                self._keys[vid] = (
                    None if self._personal is None else self._personal.unwrap(vid, wrapped)
                )
            except KeyShredded:
                self._keys[vid] = None
            except InvalidTag as exc:
                raise ConfigError(
                    "the key file does not belong to this database (visitor keys do not open)"
                ) from exc
        return self._keys[vid]

    def open(self, vid: int | None, name: str, token: str) -> str | None:
        if self._personal is None:
            return None
        key = None if vid is None else self.key(vid)
        if key is None or vid is None:
            return ERASED
        try:
            return PersonalData.decrypt(key, token, f"visitor:{vid}:{name}")
        except ValueError:
            return "(tidak terbaca)"


@dataclass(slots=True)
class Replay:
    """Records rebuilt from the journal, with the seq that last touched each row."""

    records: Records = field(default_factory=Records)
    last_seq: dict[tuple[str, Any], int] = field(default_factory=dict)
    seals: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    head_seq: int = 0

    def apply(self, entry: JournalEntry, opener: Opener) -> None:
        body = json.loads(entry.payload)
        vid = body.get("visitor_id")
        for change in body.get("changes", ()):
            self._change(entry.seq, change, vid, opener)
        if entry.kind == ERASED_FACT and vid is not None:
            self.erase(int(vid), entry.seq)
        self.head_seq = entry.seq

    def _change(self, seq: int, change: dict[str, Any], vid: Any, opener: Opener) -> None:
        entity = change["entity"]
        if entity == "sealed_file":
            self.seals.append((seq, {**change["values"], "name": change["id"]}))
            return
        if entity not in self.records.tables:
            return
        ident = typed(entity, "id", change["id"])
        secret = PERSONAL_FIELDS.get(entity, frozenset())
        values = {}
        for name, raw in change["values"].items():
            value = raw
            if name in secret and isinstance(raw, str):
                value = opener.open(vid, f"{entity}.{name}", raw)
            values[name] = typed(entity, name, value)
        table = self.records.tables[entity]
        if change.get("new") or ident not in table:
            table[ident] = {"id": ident, **values}
        else:
            table[ident].update(values)
        self.last_seq[(entity, ident)] = seq

    def erase(self, vid: int, seq: int) -> None:
        """What the retention job does to one visitor's rows, done to the records."""
        tables = self.records.tables
        visit_ids = {v["id"] for v in tables["visit"].values() if v["visitor_id"] == vid}
        owners = {
            "visitor": {vid},
            "visit": visit_ids,
            "deposit": {d["id"] for d in tables["deposit"].values() if d["visit_id"] in visit_ids},
            "help": {h["id"] for h in tables["help"].values() if h["visit_id"] in visit_ids},
        }
        for entity, ids in owners.items():
            for ident in ids:
                row = tables[entity].get(ident)
                if row is None:
                    continue
                for name in ERASED_TEXT.get(entity, ()):
                    if row.get(name) is not None:
                        row[name] = ERASED
                for name in ERASED_NULL.get(entity, ()):
                    row[name] = None
                self.last_seq[(entity, ident)] = seq


def replay(entries: Iterable[JournalEntry], opener: Opener, base: Replay | None = None) -> Replay:
    result = base or Replay()
    for entry in entries:
        result.apply(entry, opener)
    return result


def entry_of(row: Any) -> JournalEntry:
    return JournalEntry(row.seq, row.at, row.kind, row.actor, row.payload, row.prev_hash, row.hash)


async def read_journal(
    conn: AsyncConnection, upto: int | None = None, since: int = 0
) -> list[JournalEntry]:
    stmt = select(_JOURNAL).where(_JOURNAL.c.seq > since).order_by(_JOURNAL.c.seq)
    if upto is not None:
        stmt = stmt.where(_JOURNAL.c.seq <= upto)
    return [entry_of(row) for row in (await conn.execute(stmt)).all()]


async def opener_for(conn: AsyncConnection, personal: PersonalData | None) -> Opener:
    rows = (await conn.execute(select(_KEYS.c.visitor_id, _KEYS.c.wrapped))).all()
    return Opener(personal, {int(r[0]): r[1] for r in rows})
