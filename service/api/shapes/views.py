"""The JSON shape of a visit (and of its queue ticket), as every visit route answers it."""

from __future__ import annotations

from datetime import date, datetime

from service.api import contract
from service.domain.lifecycle import TicketState, VisitState


class TicketOut(contract.Reply):
    id: int
    number: str
    kind: str
    state: TicketState
    priority: bool
    priority_reason: str | None
    issued_at: datetime
    called_at: datetime | None
    served_at: datetime | None
    visit_id: int


class DeviceOut(contract.Reply):
    kind: str
    serial: str


class BadgeRef(contract.Reply):
    id: int
    label: str


class UsageOut(contract.Reply):
    facility: str
    started_at: datetime


class DepositOut(contract.Reply):
    id: int
    slot: str
    doc_type: str
    doc_masked: str
    taken_at: datetime
    returned_at: datetime | None
    returned_to: str | None


class VisitOut(contract.Reply):
    """A visit as the pages show it (never the document number: its masked form)."""

    id: int
    day: date
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
    entered_at: datetime | None
    exited_at: datetime | None
    form_started_at: datetime | None
    registered_at: datetime
    badge_issued_at: datetime | None
    assigned_at: datetime | None
    returned_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    forced: bool
    back_entered: bool
    officer: str
    rules_ack: bool
    privacy_ack: bool
    devices_checked: bool | None
    usage: UsageOut | None
    deposit: DepositOut | None
