"""The journal: every fact, append-only and hash-chained.

Row ``n`` stores ``hash = sha256(prev_hash | seq | at | kind | actor | payload)``
with ``prev_hash`` the hash of row ``n-1`` (64 zeros for the first row). Editing,
deleting or reordering any row breaks the chain at that row, which
:func:`verify_rows` reports. Personal data inside a payload is ciphertext under
the visitor's key, so crypto-shredding leaves every hash valid.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.domain.model import Fact

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical(data: Any) -> str:
    return json.dumps(_plain(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Entity fields that are personal data: in the journal only as ciphertext.
PERSONAL_FIELDS: dict[str, frozenset[str]] = {
    "visitor": frozenset({"name"}),
    "visit": frozenset({"name"}),
    "deposit": frozenset({"returned_to"}),
}


def payload_of(
    fact: Fact, personal: dict[str, str], seal: Callable[[str, str], str] | None = None
) -> str:
    """The journal payload: every change, personal data encrypted by ``seal(field, value)``.

    A fact that touches personal fields carries its ``visitor_id``; without a
    ``seal`` for it such a fact cannot be journaled (it would leak in clear).
    """
    changes = []
    for c in fact.changes:
        values = dict(c.values)
        for name in PERSONAL_FIELDS.get(c.entity, frozenset()) & values.keys():
            if values[name] is None:
                continue
            if seal is None:
                raise ValueError(f"{fact.kind}: personal field {c.entity}.{name} without a key")
            values[name] = seal(f"{c.entity}.{name}", str(values[name]))
        changes.append({"entity": c.entity, "id": c.id, "new": c.new, "values": values})
    body: dict[str, Any] = {"changes": changes}
    if personal:
        body["personal"] = personal
    if fact.visitor_id is not None:
        body["visitor_id"] = fact.visitor_id
    return canonical(body)


def chain_hash(prev_hash: str, seq: int, at: datetime, kind: str, actor: str, payload: str) -> str:
    material = "|".join((prev_hash, str(seq), at.isoformat(), kind, actor, payload))
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class JournalEntry:
    seq: int
    at: datetime
    kind: str
    actor: str
    payload: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainFault:
    seq: int
    problem: str  # "altered", "missing", "out_of_order", "broken_link"

    def describe(self) -> str:
        texts = {
            "altered": "isi baris diubah / row content altered",
            "missing": "baris hilang sebelum baris ini / a row is missing before this one",
            "out_of_order": "urutan baris berubah / rows reordered",
            "broken_link": "rantai hash terputus / hash link broken",
        }
        return f"journal seq {self.seq}: {texts.get(self.problem, self.problem)}"


def verify_rows(
    rows: Iterable[JournalEntry], start_hash: str = GENESIS, start_seq: int = 1
) -> list[ChainFault]:
    """Check the chain in stored order; report every row where it breaks."""
    faults: list[ChainFault] = []
    prev_hash, expected = start_hash, start_seq
    for row in rows:
        if row.seq < expected:
            faults.append(ChainFault(row.seq, "out_of_order"))
        elif row.seq > expected:
            faults.append(ChainFault(row.seq, "missing"))
        recomputed = chain_hash(row.prev_hash, row.seq, row.at, row.kind, row.actor, row.payload)
        if recomputed != row.hash:
            faults.append(ChainFault(row.seq, "altered"))
        elif row.prev_hash != prev_hash and row.seq == expected:
            faults.append(ChainFault(row.seq, "broken_link"))
        prev_hash, expected = row.hash, row.seq + 1
    return faults
