"""The journal replayed: every fact applied again, by the same ``apply``, to an empty state.

Each journal row is one typed fact (:mod:`service.domain.facts`). Decoding opens
its personal values with :class:`Opener`: plaintext while the subject's key
exists, ``(dihapus)`` once it was shredded, and a placeholder when no key file is
at hand (an auditor's offline check, which then compares no personal field).
Applying the facts in order rebuilds every entity exactly as the tables should
hold it (including retention's erasures, which are facts too), and the access
log from the taps.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.domain import facts as f
from service.domain.apply import apply
from service.domain.model import DAY_BOUND, ERASED, AccessEvent
from service.domain.state import RoomState
from service.errors import ConfigError
from service.privacy import KeyShredded, PersonalData
from service.reports.data import Records
from service.store.journal import JournalEntry, decode_fact, subject_of
from service.store.persist import row_values
from service.store.tables import DataKeyRow, JournalRow, table_of

ERASED_FACT = f.PersonalDataErased.KIND
SEALED = "(tersegel)"  # a personal value read without the key file
_JOURNAL = table_of(JournalRow)
_KEYS = table_of(DataKeyRow)


class Opener:
    """Opens personal values in journal payloads (or cannot, and says so)."""

    def __init__(
        self,
        personal: PersonalData | None,
        wrapped: dict[str, bytes | None],
        *,
        bound: int | None = None,
    ) -> None:
        self._personal = personal
        self._wrapped = wrapped
        self._keys: dict[str, bytes | None] = {}
        self._bound = bound  # streaming: at most this many keys held (see prefetch_keys)

    def known(self, subject: str) -> bool:
        return subject in self._keys or subject in self._wrapped

    def remember(self, wrapped: dict[str, bytes | None]) -> None:
        """Wrapped keys fetched for the next rows; the oldest are forgotten past the bound."""
        if self._bound is not None:
            for cache in (self._wrapped, self._keys):
                excess = len(cache) + len(wrapped) - self._bound
                for subject in list(itertools.islice(cache, max(0, excess))):
                    del cache[subject]
        self._wrapped.update(wrapped)

    @property
    def keyed(self) -> bool:
        return self._personal is not None

    def key(self, subject: str) -> bytes | None:
        if subject not in self._keys:
            wrapped = self._wrapped.get(subject)
            try:
                self._keys[subject] = (
                    None if self._personal is None else self._personal.unwrap(subject, wrapped)
                )
            except KeyShredded:
                self._keys[subject] = None
            except InvalidTag as exc:
                raise ConfigError(
                    "the key file does not belong to this database (data keys do not open)"
                ) from exc
        return self._keys[subject]

    def open(self, subject: str | None, path: str, token: str) -> str:
        if self._personal is None:
            return SEALED
        key = None if subject is None else self.key(subject)
        if key is None:
            return ERASED
        try:
            return PersonalData.decrypt(key, token, f"{subject}:{path}")
        except ValueError:
            return "(tidak terbaca)"


class SeqIndex:
    """What journal seq last touched each row: ``index[(entity, id)]``, compactly.

    A year replays some 200,000 rows; a dict of tuples would hold ~25 MB for a number
    printed only in a fault. Integer ids (dense, from 1) go in one array of 32-bit
    seqs per entity; other ids (a day's date) in a dict.
    """

    def __init__(self) -> None:
        self._dense: dict[str, array[int]] = {}
        self._other: dict[tuple[str, Any], int] = {}

    def __setitem__(self, key: tuple[str, Any], seq: int) -> None:
        entity, ident = key
        seqs = self._dense.setdefault(entity, array("I"))
        dense = isinstance(ident, int) and 0 < ident < max(2 * len(seqs), 1 << 16)
        if dense and 0 < seq < 1 << 32:
            if ident >= len(seqs):
                seqs.extend([0] * (ident + 1 - len(seqs)))
            seqs[ident] = seq
        else:
            self._other[key] = seq

    def get(self, key: tuple[str, Any]) -> int | None:
        entity, ident = key
        seqs = self._dense.get(entity)
        if isinstance(ident, int) and seqs is not None and 0 < ident < len(seqs) and seqs[ident]:
            return seqs[ident]
        return self._other.get(key)

    def __getitem__(self, key: tuple[str, Any]) -> int:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found


@dataclass(slots=True)
class Replay:
    """The state rebuilt from the journal, the access log, and what touched each row.

    Streaming (``archive verify`` of a year): with ``on_event`` set, each access event
    (append-only) is handed to it with its seq and kept in ``events`` only while
    ``watch`` holds its day (a sealed day whose books are still to be derived);
    ``watch`` also indexes the other rows of those days, so :meth:`day_records` does
    not scan the whole state at every signature.
    """

    state: RoomState = field(default_factory=RoomState)
    events: dict[int, AccessEvent] = field(default_factory=dict)
    last_seq: SeqIndex = field(default_factory=SeqIndex)
    seals: list[tuple[int, f.DaySealed]] = field(default_factory=list)
    signed_at_seq: dict[date, int] = field(default_factory=dict)
    head_seq: int = 0
    on_event: Callable[[int, AccessEvent], None] | None = None
    watch: dict[date, set[tuple[str, Any]]] | None = None
    tz: tzinfo | None = None

    def apply(self, entry: JournalEntry, opener: Opener) -> None:
        fact = decode_fact(entry.kind, entry.payload, opener.open, share=True)
        for entity, key, obj in apply(self.state, fact):
            if entity == "access_event":
                if self.on_event is not None:
                    self.on_event(entry.seq, obj)
                    if self._watched(entity, obj) is not None:
                        self.events[key] = obj
                    continue
                self.events[key] = obj
            elif self.watch is not None:
                keys = self._watched(entity, obj)
                if keys is not None:
                    keys.add((entity, key))
            self.last_seq[(entity, key)] = entry.seq
        if isinstance(fact, f.DaySealed):
            self.seals.append((entry.seq, fact))
        elif isinstance(fact, f.DaySigned):
            self.signed_at_seq[fact.day] = entry.seq
        self.state.taps_in_flight.clear()
        self.head_seq = entry.seq

    def records(self, keep: Any = None) -> Records:
        """The replayed rows as :class:`Records` (``keep(entity, obj)`` filters them)."""
        out = Records()
        for entity, rows in self.state.tables.items():
            if entity not in out.tables:
                continue
            target = out.tables[entity]
            for ident, obj in rows.items():
                if keep is None or keep(entity, obj):
                    target[ident] = row_values(entity, obj)
        for ident, event in self.events.items():
            if keep is None or keep("access_event", event):
                out.tables["access_event"][ident] = row_values("access_event", event)
        return out

    def _watched(self, entity: str, obj: Any) -> set[tuple[str, Any]] | None:
        if self.watch is None or entity not in DAY_BOUND:
            return None
        assert self.tz is not None
        return self.watch.get(self.state.day_of(entity, obj, self.tz))  # type: ignore[arg-type]

    def unwatch(self, day: date) -> None:
        """``day``'s books are derived for good: forget its index and its access events."""
        assert self.watch is not None and self.tz is not None
        self.watch.pop(day, None)
        tz = self.tz
        for ident in [k for k, e in self.events.items() if e.at.astimezone(tz).date() == day]:
            del self.events[ident]

    def day_records(self, day: date, tz: tzinfo) -> Records:
        """The rows that belong to ``day`` (and the badges and facilities they name)."""
        if self.watch is not None and day in self.watch:
            return self._indexed_day(day, tz)

        def keep(entity: str, obj: Any) -> bool:
            if entity in ("badge", "facility", "visitor"):
                return True
            return self.state.day_of(entity, obj, tz) == day

        return self.records(keep)

    def _indexed_day(self, day: date, tz: tzinfo) -> Records:
        """:meth:`day_records` from the index: the same rows, the visitors of its visits."""
        assert self.watch is not None
        out = Records()
        tables = self.state.tables
        for entity in ("badge", "facility"):
            out.tables[entity] = {k: row_values(entity, o) for k, o in tables[entity].items()}
        for entity, key in self.watch[day]:
            obj = tables[entity].get(key)
            if obj is not None and self.state.day_of(entity, obj, tz) == day:
                out.tables[entity][key] = row_values(entity, obj)
        for ident, event in self.events.items():
            if self.state.day_of("access_event", event, tz) == day:
                out.tables["access_event"][ident] = row_values("access_event", event)
        for visit in out.tables["visit"].values():
            visitor = tables["visitor"].get(visit["visitor_id"])
            if visitor is not None:
                out.tables["visitor"][visitor.id] = row_values("visitor", visitor)
        return out


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


JOURNAL_CHUNK = 2000


async def journal_chunks(
    conn: AsyncConnection, upto: int | None = None, since: int = 0, chunk: int = JOURNAL_CHUNK
) -> AsyncIterator[list[JournalEntry]]:
    """The journal in seq order, ``chunk`` rows at a time (keyset pages on the primary key:
    the same rows in the same order as one query, on SQLite and PostgreSQL alike, without
    ever holding more than one page)."""
    while True:
        stmt = select(_JOURNAL).where(_JOURNAL.c.seq > since).order_by(_JOURNAL.c.seq)
        if upto is not None:
            stmt = stmt.where(_JOURNAL.c.seq <= upto)
        rows = (await conn.execute(stmt.limit(chunk))).all()
        if not rows:
            return
        yield [entry_of(row) for row in rows]
        if len(rows) < chunk:
            return
        since = rows[-1].seq


async def opener_for(
    conn: AsyncConnection, personal: PersonalData | None, *, bound: int | None = None
) -> Opener:
    """The opener with every data key, or (``bound``) none yet: see :func:`prefetch_keys`."""
    if bound is not None:
        return Opener(personal, {}, bound=bound)
    rows = (await conn.execute(select(_KEYS.c.subject, _KEYS.c.wrapped))).all()
    return Opener(personal, {str(r[0]): r[1] for r in rows})


async def prefetch_keys(conn: AsyncConnection, opener: Opener, entries: list[JournalEntry]) -> None:
    """The wrapped keys of the subjects of ``entries`` (a page), before they are decoded.

    A year has a data key per visitor (40,000); a streamed check holds only a bounded
    number of them, fetched a page at a time (a subject without a key row is
    remembered as shredded, as when all keys are loaded).
    """
    subjects = {s for e in entries if (s := subject_of(e.payload)) and not opener.known(s)}
    if not subjects:
        return
    stmt = select(_KEYS.c.subject, _KEYS.c.wrapped).where(_KEYS.c.subject.in_(sorted(subjects)))
    found = {str(subject): wrapped for subject, wrapped in (await conn.execute(stmt)).all()}
    opener.remember({subject: found.get(subject) for subject in subjects})
