"""The journal: every fact, append-only and hash-chained.

One row per fact (:mod:`service.domain.facts`): ``kind`` is the fact's kind and
``payload`` its fields as canonical JSON, with every personal value (as the model
declares them) encrypted under the data subject's key.

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
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, is_dataclass
from datetime import date, datetime
from typing import Any, get_args, get_type_hints

import msgspec

from service.domain.facts import FACT_TYPES, Fact
from service.domain.model import personal_fields

GENESIS = "0" * 64
FORMAT = 2  # journal payload format: {"v", "subject", "fact"}


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


_NESTED: dict[type[Any], dict[str, type[Any]]] = {}


def _nested(cls: type[Any]) -> dict[str, type[Any]]:
    """Fields of a dataclass that hold dataclasses (directly, optionally, or in a tuple)."""
    found = _NESTED.get(cls)
    if found is None:
        found = {}
        for name, hint in get_type_hints(cls).items():
            for arg in (hint, *get_args(hint)):
                if is_dataclass(arg) and isinstance(arg, type):
                    found[name] = arg
                    break
        _NESTED[cls] = found
    return found


def _walk(
    cls: type[Any], data: dict[str, Any], change: Callable[[str, str], str], path: str
) -> None:
    """Apply ``change(path, value)`` to every personal string in ``data`` (in place)."""
    secret = personal_fields(cls)
    nested = _nested(cls)
    for name, value in data.items():
        if name in secret and isinstance(value, str):
            data[name] = change(f"{path}{name}", value)
        elif name in nested and isinstance(value, dict):
            _walk(nested[name], value, change, f"{path}{name}.")
        elif name in nested and isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, dict):
                    _walk(nested[name], item, change, f"{path}{name}.")


Sealer = Callable[[str, str], str]


class PersonalValueUnsealed(ValueError):
    """A fact carries personal data but names no data subject to seal it for."""


def encode_fact(fact: Fact, seal: Sealer | None) -> str:
    """The journal payload of a fact: its fields, personal values sealed by ``seal``.

    ``seal(path, value)`` encrypts under the fact's subject's key; a personal value
    without a subject (or without ``seal``) is refused, never written in clear.
    """
    data = msgspec.to_builtins(fact)
    problems: list[str] = []

    def sealed(path: str, value: str) -> str:
        if seal is None:
            problems.append(path)
            return value
        return seal(path, value)

    _walk(type(fact), data, sealed, "")
    if problems:
        raise PersonalValueUnsealed(f"{fact.KIND}: personal field(s) {problems} without a key")
    body = {"v": FORMAT, "subject": fact.subject, "fact": data}
    return msgspec.json.encode(body, order="sorted").decode()


def decode_fact(
    kind: str, payload: str, open_: Callable[[str | None, str, str], str], *, share: bool = False
) -> Fact:
    """A journal row back into its fact; ``open_(subject, path, token)`` opens sealed values.

    ``share``: equal short strings become one object (:func:`sys.intern`), for a replay
    that keeps a year of rows in memory (readers, actors, reasons, companies repeat).
    """
    body = msgspec.json.decode(payload)
    cls = FACT_TYPES[kind]
    data = body["fact"]
    subject = body.get("subject")
    _walk(cls, data, lambda path, token: open_(subject, path, token), "")
    return msgspec.convert(_shared(data) if share else data, cls)


def _shared(value: Any) -> Any:
    if isinstance(value, str):
        return sys.intern(value) if len(value) <= SHARED_LENGTH else value
    if isinstance(value, dict):
        return {key: _shared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shared(item) for item in value]
    return value


SHARED_LENGTH = 80


def subject_of(payload: str) -> str | None:
    value = msgspec.json.decode(payload).get("subject")
    return str(value) if value is not None else None


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


class ChainCheck:
    """The chain checked one row at a time, as rows stream past (see :func:`verify_rows`)."""

    def __init__(self, start_hash: str = GENESIS, start_seq: int = 1) -> None:
        self.prev_hash, self.expected = start_hash, start_seq

    def feed(self, row: JournalEntry) -> list[ChainFault]:
        faults: list[ChainFault] = []
        if row.seq < self.expected:
            faults.append(ChainFault(row.seq, "out_of_order"))
        elif row.seq > self.expected:
            faults.append(ChainFault(row.seq, "missing"))
        recomputed = chain_hash(row.prev_hash, row.seq, row.at, row.kind, row.actor, row.payload)
        if recomputed != row.hash:
            faults.append(ChainFault(row.seq, "altered"))
        elif row.prev_hash != self.prev_hash and row.seq == self.expected:
            faults.append(ChainFault(row.seq, "broken_link"))
        self.prev_hash, self.expected = row.hash, row.seq + 1
        return faults


def verify_rows(
    rows: Iterable[JournalEntry], start_hash: str = GENESIS, start_seq: int = 1
) -> list[ChainFault]:
    """Check the chain in stored order; report every row where it breaks."""
    check = ChainCheck(start_hash, start_seq)
    return [fault for row in rows for fault in check.feed(row)]
