"""Bodies, queries and replies of :mod:`service.api.handlers.ops`: the queue, the help
desk, badges, facilities and the access log.

The replies keep the JSON shapes the pages read (``web/static/board.js``,
``helpdesk.js``, ``badges.js``); :func:`shaped` turns the dicts the shared view
builders make (:mod:`service.status`, :mod:`service.api.handlers.views`) into these
structs, so a reply carries only what its schema declares and a drift between the
two is a loud error, not a silent extra field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar, get_args

import msgspec
from aiohttp import web
from msgspec import Meta

from service.api import contract, params
from service.api.labels import Label
from service.domain import helpdesk
from service.domain.lifecycle import BadgeState, HelpState, TicketState
from service.errors import ValidationError
from service.i18n import _, as_msg

B = TypeVar("B", bound=contract.Body)

# -- field types shared by this group (candidates for contract.py) ---------------------
_LINES_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_LINES_MARK = r"[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
# Free text over lines that may be empty (an optional value sent as "").
ANY_LINES = rf"^{_LINES_CHAR}*$"
# Free text with at least three characters once its spaces are collapsed ("a b", "abc"):
# two marks with something between them.
THREE = rf"^{_LINES_CHAR}*{_LINES_MARK}{_LINES_CHAR}+{_LINES_MARK}{_LINES_CHAR}*$"

Stamp = contract.Stamp
# The code of a facility (PC-01) or a queue kind (pc): a line of at most 40 characters.
Code = Annotated[str, Meta(min_length=1, max_length=40, pattern=contract.LINE)]
OptCode = Annotated[str, Meta(max_length=40, pattern=contract.ANY_LINE)]
# A reason or note over lines, 1 to 500 characters.
Reason = Annotated[str, Meta(min_length=1, max_length=500, pattern=contract.LINES)]
OptNote500 = Annotated[str, Meta(max_length=500, pattern=ANY_LINES)]
OptNote = Annotated[str, Meta(max_length=2000, pattern=ANY_LINES)]
# 4 to 10 bytes of hex, the pairs' digits maybe apart by spaces, ':' or '-' (what
# service.domain.taps.normalise_uid takes).
UID = r"^[ :-]*(?:[0-9A-Fa-f][ :-]*[0-9A-Fa-f][ :-]*){4,10}$"
Uid = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=40,
        pattern=UID,
        description="4 to 10 bytes of hex, with or without ':' or '-' (04:A2:3B:1C)",
    ),
]

# A path part: a queue kind or a facility code (an unknown one is a 404).
CODE_PARAM: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 40,
    "pattern": contract.LINE,
}

HelpCategory = Literal["login", "upload", "apendo", "registration", "network", "hardware", "other"]
HelpSource = Literal["staff", "status_page", "workstation"]
assert set(get_args(HelpCategory)) == set(helpdesk.CATEGORIES)
assert set(get_args(HelpSource)) == set(helpdesk.SOURCES)


def shaped(value: Any, kind: Any) -> Any:
    """``value`` (a view dict, or a list of them) as the reply type ``kind``; a mismatch
    is a server error (500), never a reply that breaks its schema."""
    return msgspec.convert(value, kind)


def _whole(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return value


async def body_of(
    request: web.Request, struct: type[B], labels: Mapping[str, Label] | None = None
) -> B:
    """:func:`params.body_of`, with two differences (candidates for the shared code):

    - a whole number written ``1.0`` is the integer 1, as JSON Schema counts it
      (``"type": "integer"`` takes 1.0); 1.5 is still refused;
    - a refusal names a field by ``labels`` where the route has its own word for it
      (a badge's ``note`` is its "Alasan"), else by :mod:`service.api.labels`; a text
      sent empty or blank is "wajib diisi", whatever else its pattern asks.
    """
    value = await params._object(request)
    try:
        return contract.convert(params._empty(struct) if value is None else _whole(value), struct)
    except ValidationError as exc:
        name = exc.field or ""
        label = (labels or {}).get(name)
        sent = (value or {}).get(name)
        if isinstance(sent, str) and not sent.strip():
            raise params.invalid(name, _("{label} wajib diisi."), label=label) from None
        if label is None or "label" not in exc.text.params:
            raise
        raise ValidationError(exc.text.with_params(label=as_msg(label)), field=name) from None


# -- queue -----------------------------------------------------------------------------
class TicketOut(contract.Reply):
    """A queue number."""

    id: int
    number: str
    kind: str
    state: TicketState
    priority: bool
    priority_reason: str | None
    issued_at: Stamp | None
    called_at: Stamp | None
    served_at: Stamp | None
    visit_id: int


class PriorityIn(contract.Body):
    reason: Reason


# -- help desk -------------------------------------------------------------------------
class HelpQuery(contract.Query):
    all: Literal["0", "1"] = "0"


class HelpIn(contract.Body):
    """A help request; a facility's occupant is its visit unless ``visit_id`` says."""

    category: HelpCategory
    problem: contract.Note
    visit_id: contract.Id | None = None
    facility: Code | None = None
    source: HelpSource = "staff"


class ResolveIn(contract.Body):
    """The resolution; ``problem`` rewrites the problem as understood (empty: kept)."""

    resolution: contract.Note
    problem: OptNote | None = None


class HelpOut(contract.Reply):
    id: int
    state: HelpState
    category: str
    problem: str
    source: str
    visit_id: int | None
    name: str | None
    facility: str | None
    opened_at: Stamp
    opened_by: str
    claimed_at: Stamp | None
    claimed_by: str | None
    resolved_at: Stamp | None
    resolved_by: str | None
    resolution: str | None


class CategoryOut(contract.Reply):
    value: str
    label: str
    label_en: str


# -- badges ----------------------------------------------------------------------------
class BadgeOut(contract.Reply):
    id: int
    uid_tail: str
    label: str
    state: BadgeState
    visit_id: int | None
    holder: str | None
    company: str | None
    note: str | None


class BadgeIn(contract.Body):
    uid: Uid
    label: contract.Short


class BadgeNoteIn(contract.Body):
    """Why the badge left the pool or came back (journaled)."""

    note: Reason


class BadgeStateOut(contract.Reply):
    id: int
    label: str
    state: BadgeState


# -- facilities and the access log ---------------------------------------------------
class ServiceIn(contract.Body):
    """In or out of service; ``move_to`` moves the occupant of one in use (empty: none)."""

    out_of_service: bool
    note: OptNote500 | None = None
    move_to: OptCode | None = None


class ServiceOut(contract.Reply):
    code: str
    out_of_service: bool
    by: str | None
    at: Stamp | None
    note: str | None


class DayQuery(contract.Query):
    day: contract.Day | None = None


class AccessEventOut(contract.Reply):
    id: int
    at: Stamp
    reader: str
    role: str
    uid_tail: str
    visit_id: int | None
    granted: bool
    reason: str
    anomaly: str | None
    reported_at: Stamp | None
