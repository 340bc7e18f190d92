"""Request and reply bodies of the visit routes: the access form, a visit's actions,
its history, the search across days, identity documents and card scans."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from msgspec import Meta

from service.api import contract
from service.api.shapes.views import DeviceOut, VisitOut
from service.domain.identity import DocumentType
from service.domain.lifecycle import VisitState

# Text over several lines that may be empty (tab, LF and CR allowed, other controls not).
ANY_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


# A one-line text of up to N characters, not blank.
Text200 = Annotated[str, Meta(min_length=1, max_length=200, pattern=contract.LINE)]
# An optional one-line text of up to N characters; empty (or null) is "not given".
Opt40 = Annotated[str, Meta(max_length=40, pattern=contract.ANY_LINE)]
Opt60 = Annotated[str, Meta(max_length=60, pattern=contract.ANY_LINE)]
Opt100 = Annotated[str, Meta(max_length=100, pattern=contract.ANY_LINE)]
Opt200 = Annotated[str, Meta(max_length=200, pattern=contract.ANY_LINE)]
DocNumber = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=40,
        pattern=contract.LINE,
        description="KTP: the 16-digit NIK (region and birth date checked); SIM: 12 to 14 "
        "digits; passport: 1-2 letters and 6-7 digits. Spaces, dots and dashes are ignored.",
    ),
]


# -- the access form (SOP step 2) ------------------------------------------------------
class DeviceIn(contract.Body):
    kind: Annotated[str, Meta(min_length=1, max_length=60, pattern=contract.LINE)]
    serial: Opt60 | None = None


class VisitIn(contract.Body):
    """The access form: who, which document is deposited, what they bring and want."""

    name: Text200
    company: Text200
    doc_type: DocumentType
    doc_number: DocNumber
    rules_ack: Annotated[bool, Meta(description="Must be true unless back_entered")]
    privacy_ack: Annotated[bool, Meta(description="Must be true unless back_entered")]
    phone: (
        Annotated[
            str,
            Meta(
                max_length=40,
                pattern=contract.ANY_LINE,
                description="An Indonesian mobile number (0812 3456 7890, +62 812...)",
            ),
        ]
        | None
    ) = None
    npwp: (
        Annotated[
            str,
            Meta(
                max_length=40,
                pattern=contract.ANY_LINE,
                description="15 digits, or 16 (a NIK, or 0 and 15 digits); check digit checked",
            ),
        ]
        | None
    ) = None
    purpose: Annotated[str, Meta(max_length=500, pattern=ANY_LINES)] | None = None
    tender_code: Opt100 | None = None
    devices: Annotated[list[DeviceIn], Meta(max_length=20)] | None = None
    wanted_kind: (
        Annotated[
            str,
            Meta(
                max_length=40, pattern=contract.ANY_LINE, description="A facility kind of the room"
            ),
        ]
        | None
    ) = None
    back_entered: bool = False
    arrived_at: contract.When | None = None
    form_started_at: contract.When | None = None
    confirm_open_visit: bool = False


class VisitListQuery(contract.Query):
    day: contract.Day | None = None
    state: VisitState | None = None


class VisitList(contract.Reply):
    day: date
    visits: list[VisitOut]


# -- what staff do to a visit ------------------------------------------------------------
class ArmIn(contract.Body):
    reader: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=100,
            pattern=contract.LINE,
            description="A front-desk reader of the room",
        ),
    ]


class BadgeIn(contract.Body):
    """The badge by its UID or its label (one of the two)."""

    uid: Opt40 | None = None
    label: Opt40 | None = None


class FacilityIn(contract.Body):
    """A facility by its code, or the next free one of a kind (else a queue number)."""

    kind: Opt40 | None = None
    code: Opt40 | None = None


class UsageIn(contract.Body):
    action: Literal["start", "end"]


class CheckoutIn(contract.Body):
    devices_checked: bool | None = None


class DocumentReturnIn(contract.Body):
    to: Opt200 | None = None


class ForceCloseIn(contract.Body):
    reason: contract.Reason


# -- a visit's history and the search ---------------------------------------------------
class VisitSummary(contract.Reply):
    id: int
    day: date
    state: VisitState
    name: str
    company: str
    purpose: str
    tender_code: str
    devices: list[DeviceOut]
    officer: str
    badge: str | None
    facility: str | None
    slot: str | None
    doc_type: str | None
    doc_masked: str | None
    document_returned_at: datetime | None
    registered_at: datetime
    closed_at: datetime | None


HistoryKind = Literal[
    "registered",
    "badge_issued",
    "facility_assigned",
    "ticket_issued",
    "ticket_called",
    "usage_started",
    "usage_ended",
    "tap",
    "help_opened",
    "help_resolved",
    "badge_returned",
    "closed",
    "document_returned",
    "amended",
]


class HistoryEntry(contract.Reply, omit_defaults=True):
    """One step of a visit; only the details that step has are present."""

    kind: HistoryKind
    at: datetime
    by: str | None = None
    slot: str | None = None
    doc_type: str | None = None
    doc_masked: str | None = None
    back_entered: bool | None = None
    badge: str | None = None
    facility: str | None = None
    number: str | None = None
    reader: str | None = None
    role: str | None = None
    granted: bool | None = None
    reason: str | None = None
    anomaly: str | None = None
    reported_at: datetime | None = None
    category: str | None = None
    problem: str | None = None
    resolution: str | None = None
    devices_checked: bool | None = None
    forced: bool | None = None
    to: str | None = None
    what: str | None = None
    signed_at: datetime | None = None


class VisitHistory(contract.Reply):
    visit: VisitSummary
    history: list[HistoryEntry]
    live: VisitOut | None


class VisitSearch(contract.Body):
    """Search terms; every one given must match (text: contains, case-insensitive)."""

    name: Opt200 | None = None
    company: Opt200 | None = None
    doc_digits: (
        Annotated[
            str,
            Meta(
                max_length=2,
                pattern=r"^[0-9]*$",
                description="The last 1 or 2 digits of the document number (the masked form shows them)",
            ),
        ]
        | None
    ) = None
    label: Opt40 | None = None
    tender_code: Opt100 | None = None
    from_day: contract.Day | None = None
    to_day: contract.Day | None = None
    # A number, not an int: JSON Schema counts 2.0 as an integer, msgspec's int does not.
    page: Annotated[float, Meta(ge=1, le=10_000, multiple_of=1)] | None = None


class FoundVisit(contract.Reply):
    id: int
    day: date
    state: VisitState
    name: str
    company: str
    tender_code: str
    badge: str | None
    slot: str | None
    doc_type: str | None
    doc_masked: str | None
    registered_at: datetime
    closed_at: datetime | None


class SearchResult(contract.Reply):
    page: int
    page_size: int
    more: bool
    visits: list[FoundVisit]
