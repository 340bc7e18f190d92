"""The machinery of :func:`service.domain.apply.apply`: one dispatcher, two helpers.

The handlers, one per fact kind, register on :data:`applier` in
:mod:`service.domain.apply_visits` and :mod:`service.domain.apply_records`.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from service.domain import facts as f
from service.domain.state import Key, RoomState

Write = tuple[str, Key, Any]  # entity, key, the new row (None: the row is deleted)


def set_fields(room: RoomState, entity: str, key: Key, /, **values: Any) -> Write:
    """A new version of an entity with some fields changed."""
    obj = replaced(room.tables[entity][key], values)
    room.put(entity, obj)
    return entity, key, obj


def replaced(obj: Any, values: dict[str, Any]) -> Any:
    """``dataclasses.replace`` for the model's frozen, slotted dataclasses (which have no
    ``__post_init__``): the same new object, without reading the fields' definitions
    again on every call (twice per fact on the tap path: the working and the published
    state)."""
    cls = type(obj)
    slots: tuple[str, ...] = cls.__slots__
    if not values.keys() <= _fields(cls):
        unknown = values.keys() - _fields(cls)
        raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]}")
    new = object.__new__(cls)
    for name in slots:
        object.__setattr__(new, name, values[name] if name in values else getattr(obj, name))
    return new


def put(state: RoomState, entity: str, obj: Any) -> Write:
    """A new entity (or a whole new version of one)."""
    state.put(entity, obj)
    return entity, obj.id, obj


_FIELDS: dict[type, frozenset[str]] = {}


def _fields(cls: type) -> frozenset[str]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = frozenset(getattr(cls, "__slots__", ()))
    return found


@singledispatch
def applier(fact: f.Fact, state: RoomState) -> list[Write]:
    raise TypeError(f"no apply rule for {type(fact).__name__}")
