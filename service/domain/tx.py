"""A unit of change over the in-memory state, with an undo log.

Rules change the state only through a :class:`Tx`: every create and update is
applied at once (so the next rule in the same command sees it) and recorded, and
:meth:`Tx.fact` groups the changes made since the last fact under one name for
the journal. If a rule raises half-way, or the database refuses the commit,
:meth:`Tx.rollback` puts every field back as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.domain.model import APPEND_ONLY, ENTITIES, FIELDS, Change, Fact, RoomState


class Tx:
    def __init__(self, state: RoomState) -> None:
        self.state = state
        self.facts: list[Fact] = []
        self._pending: list[Change] = []
        self._undo: list[tuple[str, Any, dict[str, Any] | None]] = []
        self._next_ids = dict(state.next_ids)
        self._armed = dict(state.armed_issue)
        self._anomalies = len(state.tap_anomalies)
        self._on_rollback: list[Callable[[], object]] = []

    def on_rollback(self, undo: Callable[[], object]) -> None:
        """Register something outside the state to undo if this unit is rolled back."""
        self._on_rollback.append(undo)

    @property
    def dirty(self) -> bool:
        """Changes made since the last :meth:`fact`."""
        return bool(self._pending)

    def create(self, entity: str, values: dict[str, Any], key: Any = None) -> Any:
        """Create an entity; its id is allocated here unless ``key`` is given."""
        ident = self.state.allocate(entity) if key is None else key
        obj = ENTITIES[entity](id=ident, **values)
        full = {name: getattr(obj, name) for name in FIELDS[entity] if name != "id"}
        self._pending.append(Change(entity, ident, full, new=True))
        if entity in APPEND_ONLY:
            return obj
        self.state.add(entity, obj)
        self._undo.append((entity, ident, None))
        return obj

    def update(self, entity: str, ident: Any, **values: Any) -> None:
        obj = self.state.tables[entity][ident]
        old = {name: getattr(obj, name) for name in values}
        changed = {k: v for k, v in values.items() if old[k] != v}
        if not changed:
            return
        self.state.unindex(entity, obj)
        for name, value in changed.items():
            setattr(obj, name, value)
        self.state.reindex(entity, obj)
        self._undo.append((entity, ident, {k: old[k] for k in changed}))
        self._pending.append(Change(entity, ident, changed))

    def fact(
        self,
        kind: str,
        at: datetime,
        actor: str,
        *,
        personal: dict[str, str] | None = None,
        visitor_id: int | None = None,
    ) -> Fact:
        fact = Fact(kind, at, actor, tuple(self._pending), personal or {}, visitor_id)
        self._pending = []
        self.facts.append(fact)
        return fact

    def record(
        self, kind: str, at: datetime, actor: str, entity: str, rows: dict[Any, dict[str, Any]]
    ) -> Fact:
        """A journal-only fact about things that are not room state (no state, no table).

        Used for what the chain must cover but the rules never read, such as the
        hashes of the files sealed at sign-off.
        """
        if entity in ENTITIES:
            raise ValueError(f"{entity} is room state: change it with create/update")
        changes = tuple(
            Change(entity, ident, dict(values), new=True) for ident, values in rows.items()
        )
        fact = Fact(kind, at, actor, changes)
        self.facts.append(fact)
        return fact

    def savepoint(self) -> Savepoint:
        """A point to go back to without giving up the whole unit (see :meth:`rollback_to`)."""
        return Savepoint(
            len(self._undo),
            tuple(self._pending),
            len(self.facts),
            len(self._on_rollback),
            dict(self.state.next_ids),
            dict(self.state.armed_issue),
            len(self.state.tap_anomalies),
        )

    def rollback_to(self, point: Savepoint) -> None:
        """Undo everything done since ``point``; what came before it stays."""
        for undo in reversed(self._on_rollback[point.callbacks :]):
            undo()
        del self._on_rollback[point.callbacks :]
        self._undo_entries(self._undo[point.undo :])
        del self._undo[point.undo :]
        self._pending = list(point.pending)
        del self.facts[point.facts :]
        self._restore(point.next_ids, point.armed, point.anomalies)

    def rollback(self) -> None:
        """Undo the whole unit."""
        self.rollback_to(Savepoint(0, (), 0, 0, self._next_ids, self._armed, self._anomalies))

    def _undo_entries(self, entries: list[tuple[str, Any, dict[str, Any] | None]]) -> None:
        for entity, ident, old in reversed(entries):
            table = self.state.tables[entity]
            obj = table[ident]
            self.state.unindex(entity, obj)
            if old is None:
                del table[ident]
                continue
            for name, value in old.items():
                setattr(obj, name, value)
            self.state.reindex(entity, obj)

    def _restore(self, next_ids: dict[str, int], armed: dict[str, int], anomalies: int) -> None:
        self.state.next_ids.clear()
        self.state.next_ids.update(next_ids)
        self.state.armed_issue.clear()
        self.state.armed_issue.update(armed)
        del self.state.tap_anomalies[anomalies:]


@dataclass(frozen=True, slots=True)
class Savepoint:
    undo: int
    pending: tuple[Change, ...]
    facts: int
    callbacks: int
    next_ids: dict[str, int]
    armed: dict[str, int]
    anomalies: int
