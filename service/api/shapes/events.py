"""Bodies, queries and replies of :mod:`service.api.handlers.events`: the event log,
alarms and doors."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, get_args

from msgspec import UNSET, Meta, UnsetType

from devices import simulated
from service import event_log
from service.api import contract
from service.api.shapes.ops import THREE, Stamp
from service.domain import alarms
from service.domain.taps import ReaderRole

EventKind = Literal[
    "granted",
    "denied",
    "forced_open",
    "held_open",
    "tamper",
    "power_fail",
    "offline",
    "online",
    "closed",
    "unlocked",
    "acknowledged",
]
DoorEvent = Literal["tamper", "power_fail", "forced_open", "held_open", "closed"]
assert set(get_args(EventKind)) == set(event_log.KINDS)
assert set(get_args(DoorEvent)) == set(simulated.DOOR_EVENTS)

# What a clerk writes for an alarm or a door: at least three characters once its spaces
# are collapsed (the domain's rule), at most 500.
Remark = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=alarms.NOTE_MAX,
        pattern=THREE,
        description="At least 3 characters besides repeated spaces, at most 500",
    ),
]
assert alarms.NOTE_MAX == alarms.REASON_MAX and alarms.MIN_TEXT == 3
Seconds = Annotated[int, Meta(ge=1, le=int(alarms.UNLOCK_MAX_S))]


class LogQuery(contract.Query):
    day: contract.Day | None = None
    reader: Annotated[str, Meta(max_length=100, pattern=contract.ANY_LINE)] | None = None
    event: EventKind | None = None


class AlarmRef(contract.Reply):
    id: int
    kind: str | None


class LogEvent(contract.Reply):
    """A tap (``reason``, ``message``, ``badge``, ``visit_id``) or a door, reader or staff
    event from the journal (``actor``; ``note`` and ``seconds`` for an unlock, ``note``
    and ``alarm`` for an acknowledgement)."""

    at: Stamp
    reader: str
    kind: str
    reason: str | UnsetType = UNSET
    message: str | UnsetType = UNSET
    badge: str | UnsetType = UNSET
    visit_id: int | UnsetType | None = UNSET
    actor: str | UnsetType = UNSET
    note: str | UnsetType = UNSET
    seconds: float | UnsetType = UNSET
    alarm: AlarmRef | UnsetType = UNSET


class EventLog(contract.Reply):
    day: date
    count: int
    events: list[LogEvent]


class AlarmOut(contract.Reply):
    id: int
    reader: str
    kind: str
    at: Stamp
    repeats: int
    last_at: Stamp | None
    acked_at: Stamp | None
    acked_by: str | None
    note: str | None


class AlarmList(contract.Reply):
    alarms: list[AlarmOut]


class AckIn(contract.Body):
    """What was done about the alarm."""

    note: Remark


class DoorTile(contract.Reply):
    reader: str
    role: ReaderRole
    state: Literal["offline", "forced", "held", "open", "closed"]
    online: bool
    can_unlock: bool
    last_event: str | None
    last_at: Stamp | None


class DoorList(contract.Reply):
    doors: list[DoorTile]


class UnlockIn(contract.Body):
    """Why the door is opened by hand, and for how long (default: the site's door time)."""

    reason: Remark
    seconds: Seconds | None = None


class UnlockOut(contract.Reply):
    reader: str
    seconds: float
    unlocked: bool


class SimulateIn(contract.Body):
    event: DoorEvent


class SimulateOut(contract.Reply):
    reader: str
    event: DoorEvent
