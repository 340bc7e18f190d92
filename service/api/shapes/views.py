"""The visit as the handlers show it (:func:`service.api.handlers.views.visit_json`)."""

from __future__ import annotations

from service.api import contract
from service.api.shapes.common import DayText, Time
from service.domain.lifecycle import TicketState, VisitState


class DeviceOut(contract.Reply):
    kind: str
    serial: str


class BadgeRef(contract.Reply):
    id: int
    label: str


class TicketOut(contract.Reply):
    id: int
    number: str
    kind: str
    state: TicketState
    priority: bool
    priority_reason: str | None
    issued_at: Time | None
    called_at: Time | None
    served_at: Time | None
    visit_id: int


class UsageOut(contract.Reply):
    facility: str
    started_at: Time | None


class DepositOut(contract.Reply):
    id: int
    slot: str
    doc_type: str
    doc_masked: str
    taken_at: Time | None
    returned_at: Time | None
    returned_to: str | None


class VisitOut(contract.Reply):
    """A visit: who, what for, its badge, facility, ticket, deposit and times."""

    id: int
    day: DayText
    state: VisitState
    visitor_id: int
    name: str
    company: str
    purpose: str
    tender_code: str
    devices: list[DeviceOut]
    wanted_kind: str | None
    facility: str | None
    badge: BadgeRef | None
    ticket: TicketOut | None
    inside: bool
    entered_at: Time | None
    exited_at: Time | None
    form_started_at: Time | None
    registered_at: Time | None
    badge_issued_at: Time | None
    assigned_at: Time | None
    returned_at: Time | None
    closed_at: Time | None
    close_reason: str | None
    forced: bool
    back_entered: bool
    officer: str
    rules_ack: bool
    privacy_ack: bool
    devices_checked: bool | None
    usage: UsageOut | None
    deposit: DepositOut | None
