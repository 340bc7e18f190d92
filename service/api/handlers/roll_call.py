"""The evacuation roll call and the muster (who is inside, marked safe by the warden)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select

from service.api import contract, params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import iso
from service.api.routing import route
from service.api.shapes.ops import body_of
from service.api.shapes.roll_call import (
    DeskSource,
    DoorSource,
    MusterOut,
    Person,
    RollCall,
    SafeIn,
)
from service.auth import Role
from service.domain import muster
from service.domain.model import Muster, MusterMark
from service.domain.state import RoomState
from service.runtime import Runtime
from service.store.tables import AccessEventRow

# Whoever is on duty is the warden in an evacuation.
WARDENS = (Role.FRONT_OFFICE, Role.HELPDESK, Role.HEAD, Role.ADMIN)


async def door_readers(runtime: Runtime, visit_ids: list[int]) -> dict[int, str]:
    """The door reader that last let each visit in (from the access log)."""
    if not visit_ids:
        return {}
    last = (
        select(func.max(AccessEventRow.id))
        .where(
            AccessEventRow.visit_id.in_(visit_ids),
            AccessEventRow.role == "door_in",
            AccessEventRow.granted.is_(True),
        )
        .group_by(AccessEventRow.visit_id)
    )
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(AccessEventRow.visit_id, AccessEventRow.reader).where(
                AccessEventRow.id.in_(last)
            )
        )
        return {int(v): str(r) for v, r in rows.all() if v is not None}


def person_json(
    state: RoomState, visit_id: int, doors: dict[int, str], marks: dict[int, MusterMark]
) -> Person:
    visit = state.visits[visit_id]
    here = muster.presence_of(state, visit)
    sources: list[DoorSource | DeskSource] = []
    if here is not None and here.door_at is not None:
        sources.append(DoorSource(reader=doors.get(visit_id), at=iso(here.door_at)))
    if here is not None and here.desk is not None:
        desk = here.desk
        sources.append(DeskSource(reader=desk.reader, facility=desk.facility, at=iso(desk.since)))
    mark = marks.get(visit_id)
    return Person(
        visit_id=visit.id,
        name=visit.name,
        company=visit.company,
        badge=state.badges[visit.badge_id].label if visit.badge_id else None,
        facility=state.facilities[visit.facility_id].code if visit.facility_id else None,
        entered_at=iso(here.since) if here else None,
        inside=here is not None,
        desk_only=bool(here and here.desk_only),
        sources=sources,
        safe_at=iso(mark.at) if mark else None,
        safe_by=mark.by if mark else None,
    )


def muster_json(state: RoomState, found: Muster | None) -> MusterOut | None:
    if found is None:
        return None
    listed = muster.roster(state, found)
    marked = len(muster.marks_of(state, found.id))
    return MusterOut(
        id=found.id,
        started_at=found.started_at.isoformat(),
        started_by=found.started_by,
        ended_at=iso(found.ended_at),
        ended_by=found.ended_by,
        listed=len(listed),
        marked=marked,
        unmarked=len(listed) - marked,
    )


async def roll_call_json(runtime: Runtime) -> RollCall:
    state = runtime.state
    running = muster.active(state)
    inside = [p.visit.id for p in muster.inside(state)]
    ids = muster.roster(state, running) if running is not None else inside
    marks = muster.marks_of(state, running.id) if running is not None else {}
    doors = await door_readers(runtime, ids)
    return RollCall(
        at=runtime.clock().isoformat(),
        count=len(inside),
        people=[person_json(state, i, doors, marks) for i in ids],
        muster=muster_json(state, running or muster.latest(state)),
    )


@route(
    "GET",
    "/api/v1/roll-call",
    summary="Evacuation roll call: everyone the readers show inside (door or desk) and the muster",
    tag="status",
    reply=RollCall,
)
async def roll_call(request: web.Request) -> web.Response:
    return contract.reply(await roll_call_json(request.app[RUNTIME]))


@route(
    "POST",
    "/api/v1/musters",
    summary="Start a muster (evacuation) with everyone inside now; the running one if any",
    tag="status",
    roles=WARDENS,
    reply=RollCall,
)
async def muster_start(request: web.Request) -> web.Response:
    runtime, who, now = request.app[RUNTIME], principal(request), now_of(request)
    await runtime.execute(lambda tx: muster.start(tx, now, who.actor))
    return contract.reply(await roll_call_json(runtime))


@route(
    "POST",
    "/api/v1/musters/{id}/safe",
    summary="Mark a person of the muster safe (who and when are journaled)",
    tag="status",
    roles=WARDENS,
    body=SafeIn,
    reply=RollCall,
)
async def muster_safe(request: web.Request) -> web.Response:
    runtime, who, now = request.app[RUNTIME], principal(request), now_of(request)
    muster_id = params.path_int(request, "id")
    visit_id = (await body_of(request, SafeIn)).visit_id
    await runtime.execute(lambda tx: muster.mark_safe(tx, muster_id, visit_id, now, who.actor))
    return contract.reply(await roll_call_json(runtime))


@route(
    "POST",
    "/api/v1/musters/{id}/end",
    summary="End the muster",
    tag="status",
    roles=WARDENS,
    reply=RollCall,
)
async def muster_end(request: web.Request) -> web.Response:
    runtime, who, now = request.app[RUNTIME], principal(request), now_of(request)
    muster_id = params.path_int(request, "id")
    await runtime.execute(lambda tx: muster.end(tx, muster_id, now, who.actor))
    return contract.reply(await roll_call_json(runtime))
