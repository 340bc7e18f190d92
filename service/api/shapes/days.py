"""Bodies and replies of the day's close and sign-off, and of the service-standard
breaches (:mod:`service.api.handlers.days`)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from service.api import contract
from service.domain.lifecycle import DayState

Step = Literal["2", "3", "8", "9"]  # the SOP steps with a service standard
Subject = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=40,
        pattern=contract.LINE,
        description='what breached the standard: "visit:12" or "day:2026-11-25"',
    ),
]
DayNote = Annotated[str, Meta(max_length=1000, pattern=contract.ANY_LINE)]


class DayQuery(contract.Query):
    day: contract.Day | None = None  # default: today


class CloseIn(contract.Body):
    note: DayNote | None = None  # required before the closing time


class ReopenIn(contract.Body):
    reason: contract.Reason


class JustifyIn(contract.Body):
    day: contract.Day
    step: Step
    subject: Subject
    text: contract.Reason


class OpenItems(contract.Reply):
    """What is still open on a day, by record id."""

    open_visits: list[int]
    badges_out: list[int]
    documents_held: list[int]
    open_help: list[int]


class Breach(contract.Reply):
    step: str
    step_name: str
    subject: str
    label: str
    started: contract.Stamp | None
    ended: contract.Stamp | None
    duration_s: int
    standard_s: int
    ongoing: bool
    justification: str | None
    justified_by: str | None


class AmendmentOut(contract.Reply):
    id: int
    at: contract.Stamp | None
    kind: str
    actor: str
    rows: list[str]
    signed_at: contract.Stamp | None
    signed_by: str | None


class DayOut(contract.Reply):
    day: str
    state: DayState
    closed_at: contract.Stamp | None
    closed_by: str | None
    close_note: str | None
    closing_at: contract.Stamp | None
    reason_needed: bool
    signed_at: contract.Stamp | None
    signed_by: str | None
    visits: int
    companies: int
    open_items: OpenItems
    breaches: list[Breach]
    amendments: list[AmendmentOut]


class ClosedOut(contract.Reply):
    day: str
    state: Literal["closed"]
    open_items: OpenItems


class ReopenedOut(contract.Reply):
    day: str
    state: Literal["open"]


class SignedOut(contract.Reply):
    day: str
    state: Literal["signed"]
    signed_by: str


class AmendmentsSignedOut(contract.Reply):
    day: str
    signed: list[int]
    signed_by: str
