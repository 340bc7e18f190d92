"""The machinery of :func:`service.domain.apply.apply`: one dispatcher, two helpers.

The handlers, one per fact kind, register on :data:`applier` in
:mod:`service.domain.apply_visits` and :mod:`service.domain.apply_records`.
"""

from __future__ import annotations

from dataclasses import replace
from functools import singledispatch
from typing import Any

from service.domain import facts as f
from service.domain.state import Key, RoomState

Write = tuple[str, Key, Any]  # entity, key, the new row (None: the row is deleted)


def set_fields(room: RoomState, entity: str, key: Key, /, **values: Any) -> Write:
    """A new version of an entity with some fields changed."""
    obj = replace(room.tables[entity][key], **values)
    room.put(entity, obj)
    return entity, key, obj


def put(state: RoomState, entity: str, obj: Any) -> Write:
    """A new entity (or a whole new version of one)."""
    state.put(entity, obj)
    return entity, obj.id, obj


@singledispatch
def applier(fact: f.Fact, state: RoomState) -> list[Write]:
    raise TypeError(f"no apply rule for {type(fact).__name__}")
