"""The help desk's requests (SOP steps 5 and 6): list, open, claim, resolve, cancel."""

from __future__ import annotations

from aiohttp import web

from service.api import contract, params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import help_json
from service.api.routing import route
from service.api.shapes.ops import (
    CategoryOut,
    HelpIn,
    HelpOut,
    HelpQuery,
    ResolveIn,
    body_of,
    shaped,
)
from service.auth import Role
from service.domain import helpdesk
from service.errors import NotFound
from service.i18n import _, render

HELP = (Role.HELPDESK, Role.FRONT_OFFICE, Role.HEAD, Role.ADMIN)


# -- help desk -----------------------------------------------------------------------
@route(
    "GET",
    "/api/v1/help",
    summary="Help requests (open and claimed, or all of today)",
    tag="help",
    query=HelpQuery,
    reply=list[HelpOut],
)
async def help_list(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    today = runtime.policy.day_of(now_of(request))
    show_all = params.query_of(request, HelpQuery).all == "1"
    items = [
        h
        for h in runtime.state.help_requests.values()
        if h.state.value in ("open", "claimed")
        or (show_all and runtime.policy.day_of(h.opened_at) == today)
    ]
    return contract.reply(
        shaped(
            [help_json(runtime.state, h) for h in sorted(items, key=lambda h: h.opened_at)],
            list[HelpOut],
        )
    )


@route(
    "POST",
    "/api/v1/help",
    summary="Raise a help request (SOP step 5)",
    tag="help",
    roles=(*HELP, Role.DEVICE),
    body=HelpIn,
    reply=HelpOut,
    status=201,
)
async def help_open(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    body = await body_of(request, HelpIn)
    visit_id, code = body.visit_id, body.facility
    facility_id = None
    if code:
        facility = next((f for f in runtime.state.facilities.values() if f.code == code), None)
        if facility is None:
            raise NotFound(_("Fasilitas {code} tidak ada.", code=code), field="facility")
        facility_id = facility.id
        if visit_id is None:
            visit_id = facility.visit_id
    source, category, problem = body.source, body.category, body.problem
    now = now_of(request)
    item = await runtime.execute(
        lambda tx: helpdesk.open_request(
            tx, visit_id, facility_id, source, category, problem, now, who.actor
        )
    )
    return contract.reply(shaped(help_json(runtime.state, item), HelpOut), status=201)


@route(
    "POST",
    "/api/v1/help/{id}/claim",
    summary="Claim a help request (SOP step 6)",
    tag="help",
    roles=HELP,
    reply=HelpOut,
)
async def help_claim(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    ident, now = params.path_int(request, "id"), now_of(request)
    item = await runtime.execute(lambda tx: helpdesk.claim(tx, ident, now, who.actor))
    return contract.reply(shaped(help_json(runtime.state, item), HelpOut))


@route(
    "POST",
    "/api/v1/help/{id}/resolve",
    summary="Resolve with the problem and the resolution written down",
    tag="help",
    roles=HELP,
    body=ResolveIn,
    reply=HelpOut,
)
async def help_resolve(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    ident, now = params.path_int(request, "id"), now_of(request)
    body = await body_of(request, ResolveIn)
    problem, resolution = body.problem or None, body.resolution
    item = await runtime.execute(
        lambda tx: helpdesk.resolve(tx, ident, problem, resolution, now, who.actor)
    )
    return contract.reply(shaped(help_json(runtime.state, item), HelpOut))


@route(
    "POST",
    "/api/v1/help/{id}/cancel",
    summary="Cancel a help request",
    tag="help",
    roles=HELP,
    reply=HelpOut,
)
async def help_cancel(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    ident, now = params.path_int(request, "id"), now_of(request)
    item = await runtime.execute(lambda tx: helpdesk.cancel(tx, ident, now, who.actor))
    return contract.reply(shaped(help_json(runtime.state, item), HelpOut))


@route(
    "GET",
    "/api/v1/help/categories",
    summary="Help request categories",
    tag="help",
    reply=list[CategoryOut],
)
async def help_categories(request: web.Request) -> web.Response:
    return contract.reply(
        [
            CategoryOut(value=k, label=render(v), label_en=render(v, "en"))
            for k, v in helpdesk.CATEGORIES.items()
        ]
    )
