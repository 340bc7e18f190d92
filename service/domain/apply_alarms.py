"""How alarm facts change the state (see :mod:`service.domain.alarms` for the rules)."""

from __future__ import annotations

from service.domain import facts as f
from service.domain.apply_core import Write, applier, put, set_fields
from service.domain.state import RoomState


@applier.register
def _(fact: f.AlarmRaised, state: RoomState) -> list[Write]:
    return [put(state, "alarm", fact.alarm)]


@applier.register
def _(fact: f.AlarmRepeated, state: RoomState) -> list[Write]:
    alarm = state.alarms[fact.alarm_id]
    return [set_fields(state, "alarm", alarm.id, repeats=alarm.repeats + 1, last_at=fact.at)]


@applier.register
def _(fact: f.AlarmAcknowledged, state: RoomState) -> list[Write]:
    return [
        set_fields(
            state, "alarm", fact.alarm_id, acked_at=fact.at, acked_by=fact.actor, note=fact.note
        )
    ]


@applier.register
def _(fact: f.DoorUnlocked, state: RoomState) -> list[Write]:
    return []  # journal only: the door's output was pulsed
