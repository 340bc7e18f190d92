"""The one function that changes the room: :func:`apply` a fact to a state.

The writer applies each fact to its working state as the rule emits it, and the
same facts to the published state once they are committed; ``archive verify``
applies the journal's facts to an empty state and compares it with the tables.
``apply`` returns the rows it wrote, which is what the store persists.

It is deterministic (no clock, no I/O) and trusts the rule that emitted the fact:
a fact that names something missing from the state raises ``KeyError`` and the
writer throws the working state away.
"""

from __future__ import annotations

from service.domain import apply_alarms, apply_muster, apply_records, apply_visits
from service.domain import facts as f
from service.domain.apply_core import Write, applier
from service.domain.state import RoomState

# The handlers register themselves on ``applier`` when their modules are imported.
HANDLER_MODULES = (apply_visits, apply_records, apply_alarms, apply_muster)
__all__ = ["Write", "apply"]


def apply(state: RoomState, fact: f.Fact) -> list[Write]:
    """Change ``state`` as ``fact`` says; return the rows written."""
    return applier(fact, state)
