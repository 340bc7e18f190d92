"""``replaced`` is ``dataclasses.replace`` for the model's entities, only faster."""

from __future__ import annotations

import dataclasses

import pytest

from service.domain.apply_core import replaced
from service.domain.model import ENTITIES


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_replaced_gives_what_dataclasses_replace_gives(entity: str) -> None:
    cls = ENTITIES[entity]
    names = [f.name for f in dataclasses.fields(cls)]
    obj = cls(**{name: f"old-{name}" for name in names})
    changes = {names[0]: "new", names[-1]: "newer"}
    new = replaced(obj, changes)
    assert new == dataclasses.replace(obj, **changes) and type(new) is cls
    assert obj == cls(**{name: f"old-{name}" for name in names})  # the old one unchanged
    assert replaced(obj, {}) == obj and replaced(obj, {}) is not obj
    with pytest.raises(TypeError, match="no field"):
        replaced(obj, {"no_such_field": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.id = 5  # still frozen
