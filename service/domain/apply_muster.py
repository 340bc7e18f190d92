"""How the evacuation roll call's facts change the state."""

from __future__ import annotations

from service.domain import facts as f
from service.domain.apply_core import Write, applier, put, set_fields
from service.domain.state import RoomState


@applier.register
def _(fact: f.MusterStarted, state: RoomState) -> list[Write]:
    return [put(state, "muster", fact.muster)]


@applier.register
def _(fact: f.MusterMarkedSafe, state: RoomState) -> list[Write]:
    return [put(state, "muster_mark", fact.mark)]


@applier.register
def _(fact: f.MusterEnded, state: RoomState) -> list[Write]:
    return [set_fields(state, "muster", fact.muster_id, ended_at=fact.at, ended_by=fact.actor)]
