"""How the help-desk, day, amendment, journal-only and erasure facts change the state."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from service.domain import facts as f
from service.domain.apply_core import Write, applier, put, set_fields
from service.domain.lifecycle import DayState, HelpState
from service.domain.model import ERASED, Day, personal_fields
from service.domain.state import RoomState


# -- help desk -----------------------------------------------------------------------
@applier.register
def _(fact: f.HelpOpened, state: RoomState) -> list[Write]:
    return [put(state, "help", fact.request)]


@applier.register
def _(fact: f.HelpClaimed, state: RoomState) -> list[Write]:
    return [
        set_fields(
            state,
            "help",
            fact.request_id,
            state=HelpState.CLAIMED,
            claimed_at=fact.at,
            claimed_by=fact.actor,
        )
    ]


@applier.register
def _(fact: f.HelpResolved, state: RoomState) -> list[Write]:
    request = state.help_requests[fact.request_id]
    return [
        set_fields(
            state,
            "help",
            request.id,
            state=HelpState.RESOLVED,
            resolved_at=fact.at,
            resolved_by=fact.actor,
            problem=fact.problem,
            resolution=fact.resolution,
            claimed_at=request.claimed_at or fact.at,
            claimed_by=request.claimed_by or fact.actor,
        )
    ]


@applier.register
def _(fact: f.HelpCancelled, state: RoomState) -> list[Write]:
    return [
        set_fields(
            state,
            "help",
            fact.request_id,
            state=HelpState.CANCELLED,
            resolved_at=fact.at,
            resolved_by=fact.actor,
        )
    ]


# -- the day ---------------------------------------------------------------------------
def _day(state: RoomState, fact: f.DayClosed | f.DayReopened | f.DaySigned) -> Day:
    record = state.days.get(fact.day)
    return record if record is not None else Day(id=fact.day)


@applier.register
def _(fact: f.DayClosed, state: RoomState) -> list[Write]:
    day = replace(
        _day(state, fact),
        state=DayState.CLOSED,
        closed_at=fact.at,
        closed_by=fact.actor,
        note=fact.note,
    )
    return [put(state, "day", day)]


@applier.register
def _(fact: f.DayReopened, state: RoomState) -> list[Write]:
    day = replace(_day(state, fact), state=DayState.OPEN, closed_at=None, closed_by=None)
    return [put(state, "day", day)]


@applier.register
def _(fact: f.DaySigned, state: RoomState) -> list[Write]:
    day = replace(_day(state, fact), state=DayState.SIGNED, signed_at=fact.at, signed_by=fact.actor)
    return [put(state, "day", day)]


@applier.register
def _(fact: f.BreachJustified, state: RoomState) -> list[Write]:
    return [put(state, "justification", fact.justification)]


@applier.register
def _(fact: f.AmendmentRecorded, state: RoomState) -> list[Write]:
    return [put(state, "amendment", fact.amendment)]


@applier.register
def _(fact: f.AmendmentsSigned, state: RoomState) -> list[Write]:
    return [
        set_fields(state, "amendment", ident, signed_at=fact.at, signed_by=fact.actor)
        for ident in fact.amendment_ids
    ]


# -- journal-only, and erasure -------------------------------------------------------
@applier.register
def _(
    fact: f.DeviceEventRecorded | f.DaySealed | f.PersonalDataRead, state: RoomState
) -> list[Write]:
    return []


def erase(obj: Any) -> Any:
    """``obj`` with every personal field erased (text becomes ``(dihapus)``)."""
    names = personal_fields(type(obj))
    values = {n: ERASED for n in names if getattr(obj, n) is not None}
    return replace(obj, **values) if values else obj


def subject_rows(state: RoomState, subject: str) -> list[tuple[str, Any]]:
    """The entities in memory that hold a data subject's personal values."""
    kind, _, raw = subject.partition(":")
    ident = int(raw)
    if kind == "help":
        request = state.help_requests.get(ident)
        return [("help", request)] if request is not None else []
    out: list[tuple[str, Any]] = []
    visitor = state.visitors.get(ident)
    if visitor is not None:
        out.append(("visitor", visitor))
    visit_ids = {v.id for v in state.visits.values() if v.visitor_id == ident}
    for entity in ("visit", "deposit", "help"):
        for obj in state.tables[entity].values():
            owner = obj.id if entity == "visit" else obj.visit_id
            if owner in visit_ids:
                out.append((entity, obj))
    return out


@applier.register
def _(fact: f.PersonalDataErased, state: RoomState) -> list[Write]:
    """In memory, what the store does to the tables (by SQL) in the same transaction."""
    out: list[Write] = []
    for entity, obj in subject_rows(state, fact.data_subject):
        erased = erase(obj)
        if entity == "visitor":
            erased = replace(erased, erased_at=fact.at)
        out.append(put(state, entity, erased))
    return out
