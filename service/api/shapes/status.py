"""Replies of the status and the public queue (:mod:`service.api.handlers.status`),
as :func:`service.runtime.Runtime.status` and ``public_queue`` build them (the live
events send the same objects)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from devices.base import ReaderState
from service.api import contract
from service.api.shapes.common import DayText, Time
from service.domain.lifecycle import HelpState
from service.domain.taps import ReaderRole


class Occupancy(contract.Reply):
    inside: int
    capacity: int


class Inside(contract.Reply):
    visit_id: int
    name: str
    company: str
    entered_at: Time | None
    facility: str | None


class FacilityService(contract.Reply):
    """The last service note of a facility."""

    by: str | None
    at: Time | None
    note: str | None


class FacilityOut(contract.Reply):
    id: int
    code: str
    kind: str
    label: str
    reader: str | None
    status: Literal["out_of_service", "in_use", "assigned", "reserved", "turnover", "free"]
    visit_id: int | None
    name: str | None
    company: str | None
    since: Time | None
    ticket: str | None
    available_from: Time | None
    service: FacilityService | None


class Waiting(contract.Reply):
    id: int
    number: str
    priority: bool
    priority_reason: str | None
    issued_at: Time | None
    visit_id: int
    name: str


class Called(contract.Reply):
    id: int
    number: str
    called_at: Time | None
    hold_until: Time | None
    facility: str | None
    visit_id: int


class QueueKind(contract.Reply):
    kind: str
    label: str
    waiting: list[Waiting]
    called: list[Called]


class QueueOut(contract.Reply):
    kinds: list[QueueKind]


class DepositHeld(contract.Reply):
    id: int
    visit_id: int
    slot: str
    doc_type: str
    doc_masked: str
    taken_at: Time | None
    name: str
    visit_closed: bool


class HelpOpen(contract.Reply):
    id: int
    state: HelpState
    category: str
    problem: str
    opened_at: Time | None
    age_s: int
    claimed_by: str | None
    visit_id: int | None
    name: str | None
    facility: str | None


class ReaderOut(contract.Reply):
    """A configured reader and its health."""

    name: str
    state: ReaderState
    online: bool
    since: Time | None
    last_seen: Time | None
    last_error: str | None
    failures: int
    role: ReaderRole
    url: str | None
    facility: str | None


class Asked(contract.Reply):
    """The visit whose badge was tapped at a desk serving another."""

    visit_id: int
    name: str
    company: str
    slot: str | None
    badge: str | None
    at: Time | None
    served_name: str | None


class Serving(contract.Reply):
    """A front-desk reader serving a visit."""

    reader: str
    visit_id: int
    at: Time | None
    by: str
    asked: Asked | None


class AmendmentPending(contract.Reply):
    id: int
    day: DayText
    at: Time | None
    kind: str


class AnomalyOut(contract.Reply):
    kind: str
    visit_id: int | None
    name: str
    at: Time | None
    detail: str


class BreachOut(contract.Reply):
    step: str
    subject: str
    label: str
    started: Time | None
    ended: Time | None
    duration_s: int
    standard_s: int
    justification: str | None
    ongoing: bool


class Counts(contract.Reply):
    visits_today: int
    open_visits: int
    badges_out: int
    badges_available: int


class Site(contract.Reply):
    name: str
    room: str
    timezone: str


class DeviceEventOut(contract.Reply):
    reader: str
    kind: str
    at: Time


class NoticeOut(contract.Reply):
    """A notice an admin must acknowledge (a database file moved aside: where and why)."""

    id: int
    kind: str
    at: Time
    path: str | None = None
    aside: str | None = None
    reason: str | None = None


class Database(contract.Reply):
    available: bool
    unavailable_since: Time | None
    exits_spooled: int


class AlarmOut(contract.Reply):
    id: int
    reader: str
    kind: str
    at: Time
    repeats: int
    last_at: Time | None
    acked_at: Time | None
    acked_by: str | None
    note: str | None


class DoorTile(contract.Reply):
    reader: str
    role: Literal["door_in", "door_out"]
    state: Literal["offline", "forced", "held", "open", "closed"]
    online: bool
    can_unlock: bool
    last_event: str | None
    last_at: Time | None


class StatusOut(contract.Reply):
    """The room at a glance (the status board and the live events show the same)."""

    now: Time
    day: DayText
    open: bool
    occupancy: Occupancy
    inside: list[Inside]
    facilities: list[FacilityOut]
    queue: QueueOut
    deposits: list[DepositHeld]
    help: list[HelpOpen]
    readers: list[ReaderOut]
    armed: list[Serving]
    amendments_pending: list[AmendmentPending]
    anomalies: list[AnomalyOut]
    breaches: list[BreachOut]
    counts: Counts
    site: Site
    device_events: list[DeviceEventOut]
    notices: list[NoticeOut]
    database: Database
    alarms: list[AlarmOut]
    doors: list[DoorTile]


class Call(contract.Reply):
    number: str
    facility: str | None
    label: str
    called_at: Time | None


class PublicCalled(contract.Reply):
    number: str
    facility: str | None
    called_at: Time | None


class PublicKind(contract.Reply):
    kind: str
    label: str
    waiting: list[str]
    called: list[PublicCalled]


class PublicQueueOut(contract.Reply):
    """The waiting-area display: today's last calls and the numbers, no personal data."""

    calls: list[Call]
    kinds: list[PublicKind]


JsonText = Annotated[
    str,
    Meta(
        extra_json_schema={"contentMediaType": "application/json"},
        description="A JSON object",
    ),
]


class StatusEvent(contract.Reply):
    """One Server-Sent Event of ``/api/v1/events``: ``status`` carries the status as
    ``GET /api/v1/status`` answers it, with ``changes`` (what changed) and ``sequence``;
    ``ping`` (``{}``) comes every second so that a page sees a cut connection."""

    event: Literal["status", "ping"]
    data: JsonText
    retry: int | UnsetType = UNSET


class QueueEvent(contract.Reply):
    """One Server-Sent Event of ``/api/v1/queue/events``: ``queue`` carries the display
    as ``GET /api/v1/queue/public`` answers it, with ``changes`` and ``sequence``;
    ``ping`` (``{}``) comes every second."""

    event: Literal["queue", "ping"]
    data: JsonText
    retry: int | UnsetType = UNSET
