"""Enrol mode: the next unknown badge tapped on a front-desk reader joins the pool.

The admin arms a front-desk reader (with a label typed, or none: the next free label
is proposed) and taps the new badge there; the tap itself enrols it
(:mod:`service.domain.enrolment`). The mode is kept in the database, so a restart in
between keeps it on; it ends with the enrolment or when cancelled.
"""

from __future__ import annotations

from aiohttp import web

from service.api import contract, params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import iso
from service.api.routing import route
from service.api.shapes.enrolment import Armed, EnrolArmIn, EnrolCancelIn, EnrolModeOut
from service.auth import Role
from service.domain import enrolment
from service.domain.state import RoomState
from service.domain.taps import ReaderRole

ADMIN = (Role.ADMIN,)


def _mode(state: RoomState, readers: list[str]) -> web.Response:
    return contract.reply(
        EnrolModeOut(
            readers=readers,
            armed=[
                Armed(reader=a.id, label=a.label, at=iso(a.at), by=a.by)
                for a in sorted(state.enrolling.values(), key=lambda a: a.id)
            ],
            proposed=enrolment.propose_label(b.label for b in state.badges.values()),
        )
    )


def _front_desks(request: web.Request) -> list[str]:
    readers = request.app[RUNTIME].policy.readers.values()
    return sorted(r.name for r in readers if r.role is ReaderRole.FRONT_DESK)


@route(
    "GET",
    "/api/v1/badges/enrol-mode",
    summary="Enrol mode: the front-desk readers, which are armed, the label proposed next",
    tag="badges",
    reply=EnrolModeOut,
)
async def enrol_mode(request: web.Request) -> web.Response:
    return _mode(request.app[RUNTIME].state, _front_desks(request))


@route(
    "POST",
    "/api/v1/badges/enrol-mode",
    summary="Arm a front-desk reader: the next unknown badge tapped there is enrolled "
    "(as the label typed, or the next free label)",
    tag="badges",
    roles=ADMIN,
    body=EnrolArmIn,
    reply=EnrolModeOut,
)
async def enrol_arm(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    body = await params.body_of(request, EnrolArmIn)
    reader, label = body.reader, body.label or None
    now = now_of(request)
    await runtime.execute(
        lambda tx: enrolment.arm(tx, runtime.policy, reader, label, now, who.actor)
    )
    return _mode(runtime.state, _front_desks(request))


@route(
    "POST",
    "/api/v1/badges/enrol-mode/cancel",
    summary="End enrol mode on a front-desk reader",
    tag="badges",
    roles=ADMIN,
    body=EnrolCancelIn,
    reply=EnrolModeOut,
)
async def enrol_cancel(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    reader = (await params.body_of(request, EnrolCancelIn)).reader
    now = now_of(request)
    await runtime.execute(lambda tx: enrolment.disarm(tx, reader, now, who.actor))
    return _mode(runtime.state, _front_desks(request))
