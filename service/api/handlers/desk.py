"""The front desk: the visit the clerk serves at a reader, and the clerk's answer when
the badge of another visit is tapped there meanwhile (see service.domain.desk)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from service.api import contract, params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import visit_json
from service.api.handlers.visits import FO, _visit
from service.api.routing import route
from service.api.shapes.desk import Answered, AnswerIn, Released, ReleaseIn, ServeIn
from service.api.shapes.views import VisitOut
from service.domain import desk, visits
from service.errors import NotFound
from service.i18n import _
from service.runtime import Runtime


def _front_desk(runtime: Runtime, reader: str) -> str:
    """A configured front-desk reader (404: no front-desk reader has that name)."""
    policy = runtime.policy.readers.get(reader)
    if policy is None or policy.role.value != "front_desk":
        raise NotFound(_("Bukan pembaca kartu front office."), field="reader")
    return reader


def _visit_out(runtime: Runtime, visit_id: int) -> VisitOut:
    found = visit_json(runtime.state, runtime.state.visits[visit_id])
    return msgspec.convert(found, VisitOut)


@route(
    "POST",
    "/api/v1/visits/{id}/serve",
    summary="The clerk serves this visit at a front-desk reader (a tap of another "
    "visitor's badge there then asks before returning it)",
    tag="desk",
    roles=FO,
    body=ServeIn,
    reply=VisitOut,
)
async def desk_serve(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    visit_id = params.path_int(request, "id")
    body = await params.body_of(request, ServeIn)
    reader = _front_desk(runtime, body.reader)
    _visit(runtime, visit_id)
    now = now_of(request)
    await runtime.execute(
        lambda tx: desk.serve(tx, reader, visits.get_visit(tx, visit_id), now, who.actor)
    )
    return contract.reply(_visit_out(runtime, visit_id))


@route(
    "POST",
    "/api/v1/desk/{reader}/release",
    summary="The clerk is done serving this visit at the front-desk reader",
    tag="desk",
    roles=FO,
    body=ReleaseIn,
    reply=Released,
)
async def desk_release(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    reader = _front_desk(runtime, params.path_text(request, "reader", field="reader"))
    visit_id = (await params.body_of(request, ReleaseIn)).visit_id
    now = now_of(request)
    await runtime.execute(lambda tx: desk.release(tx, reader, visit_id, now, who.actor))
    return contract.reply(Released(reader=reader, released=visit_id))


@route(
    "POST",
    "/api/v1/desk/{reader}/answer",
    summary="Return the visit whose badge was tapped while another was served, or ignore "
    "the tap; answers with the visit (name, company, slot)",
    tag="desk",
    roles=FO,
    body=AnswerIn,
    reply=Answered,
)
async def desk_answer(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    reader = _front_desk(runtime, params.path_text(request, "reader", field="reader"))
    body = await params.body_of(request, AnswerIn)
    visit_id, answer, checked = body.visit_id, body.answer, body.devices_checked
    _visit(runtime, visit_id)
    now = now_of(request)
    await runtime.execute(
        lambda tx: desk.answer(
            tx, runtime.policy, reader, visit_id, answer == "return", now, who.actor, checked
        )
    )
    return contract.reply(Answered(answer=answer, visit=_visit_out(runtime, visit_id)))
