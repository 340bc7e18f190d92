"""The front desk: the visit the clerk serves at a reader, and the clerk's answer when
the badge of another visit is tapped there meanwhile (see service.domain.desk)."""

from __future__ import annotations

from aiohttp import web

from service.api import params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import visit_json
from service.api.handlers.visits import FO, _visit
from service.api.routing import route
from service.domain import desk, visits
from service.errors import ValidationError
from service.i18n import _
from service.runtime import Runtime

ANSWERS = ("return", "ignore")


def _front_desk(runtime: Runtime, reader: str) -> str:
    policy = runtime.policy.readers.get(reader)
    if policy is None or policy.role.value != "front_desk":
        raise ValidationError(_("Bukan pembaca kartu front office."), field="reader")
    return reader


@route(
    "POST",
    "/api/v1/visits/{id}/serve",
    summary="The clerk serves this visit at a front-desk reader (a tap of another "
    "visitor's badge there then asks before returning it)",
    tag="desk",
    roles=FO,
    body={"reader": "string!"},
)
async def desk_serve(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    visit_id = params.path_int(request, "id")
    body = await params.json_body(request)
    reader = _front_desk(runtime, params.text(body, "reader", max_len=100))
    _visit(runtime, visit_id)
    now = now_of(request)
    await runtime.execute(
        lambda tx: desk.serve(tx, reader, visits.get_visit(tx, visit_id), now, who.actor)
    )
    return web.json_response(visit_json(runtime.state, runtime.state.visits[visit_id]))


@route(
    "POST",
    "/api/v1/desk/{reader}/release",
    summary="The clerk is done serving this visit at the front-desk reader",
    tag="desk",
    roles=FO,
    body={"visit_id": "integer!"},
)
async def desk_release(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    reader = _front_desk(runtime, params.path_text(request, "reader", field="reader"))
    body = await params.json_body(request)
    visit_id = params.identifier(body.get("visit_id"), "visit_id")
    now = now_of(request)
    await runtime.execute(lambda tx: desk.release(tx, reader, visit_id, now, who.actor))
    return web.json_response({"reader": reader, "released": visit_id})


@route(
    "POST",
    "/api/v1/desk/{reader}/answer",
    summary="Return the visit whose badge was tapped while another was served, or ignore "
    "the tap; answers with the visit (name, company, slot)",
    tag="desk",
    roles=FO,
    body={"visit_id": "integer!", "answer": "string!", "devices_checked": "boolean"},
)
async def desk_answer(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    reader = _front_desk(runtime, params.path_text(request, "reader", field="reader"))
    body = await params.json_body(request)
    visit_id = params.identifier(body.get("visit_id"), "visit_id")
    answer = params.text(body, "answer", max_len=20)
    if answer not in ANSWERS:
        raise ValidationError(
            _("Jawaban harus mengembalikan atau mengabaikan."),
            field="answer",
        )
    checked = params.opt_flag(body, "devices_checked")
    _visit(runtime, visit_id)
    now = now_of(request)
    await runtime.execute(
        lambda tx: desk.answer(
            tx, runtime.policy, reader, visit_id, answer == "return", now, who.actor, checked
        )
    )
    return web.json_response(
        {"answer": answer, "visit": visit_json(runtime.state, runtime.state.visits[visit_id])}
    )
