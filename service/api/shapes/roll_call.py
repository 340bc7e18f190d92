"""Bodies and replies of :mod:`service.api.handlers.roll_call`: the evacuation roll call
and the muster."""

from __future__ import annotations

from service.api import contract
from service.api.shapes.ops import Stamp


class DoorSource(contract.Reply, tag_field="kind", tag="door"):
    """The door reader that let the person in."""

    reader: str | None
    at: Stamp | None


class DeskSource(contract.Reply, tag_field="kind", tag="desk"):
    """A desk session that is running."""

    reader: str | None
    facility: str
    at: Stamp | None


class Person(contract.Reply):
    visit_id: int
    name: str
    company: str
    badge: str | None
    facility: str | None
    entered_at: Stamp | None
    inside: bool
    desk_only: bool
    sources: list[DoorSource | DeskSource]
    safe_at: Stamp | None
    safe_by: str | None


class MusterOut(contract.Reply):
    id: int
    started_at: Stamp
    started_by: str
    ended_at: Stamp | None
    ended_by: str | None
    listed: int
    marked: int
    unmarked: int


class RollCall(contract.Reply):
    """Everyone the readers show inside (or the running muster's list) and the muster."""

    at: Stamp
    count: int
    people: list[Person]
    muster: MusterOut | None


class SafeIn(contract.Body):
    visit_id: contract.Id
