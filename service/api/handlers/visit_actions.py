"""What staff do to a visit: badge, facility or queue (step 3), usage (4), return (7-8)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from service.api import params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import visit_json
from service.api.handlers.visits import FO, SUPERVISOR, _visit
from service.api.routing import route
from service.domain import visits
from service.errors import NotFound, ValidationError
from service.i18n import _


async def _do(request: web.Request, action: Any) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    visit_id = params.path_int(request, "id")
    _visit(runtime, visit_id)
    now = now_of(request)
    await runtime.execute(lambda tx: action(tx, visits.get_visit(tx, visit_id), now, who.actor))
    return web.json_response(visit_json(runtime.state, runtime.state.visits[visit_id]))


@route(
    "POST",
    "/api/v1/visits/{id}/arm-badge",
    summary="Next free badge tapped on this front-desk reader is issued to this visit",
    tag="visits",
    roles=FO,
    body={"reader": "string!"},
)
async def visit_arm(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    reader = params.text(body, "reader")
    policy = runtime.policy.readers.get(reader)
    if policy is None or policy.role.value != "front_desk":
        raise ValidationError(_("Bukan pembaca kartu front office."), field="reader")
    return await _do(request, lambda tx, v, now, actor: visits.arm_issue(tx, reader, v, now, actor))


@route(
    "POST",
    "/api/v1/visits/{id}/badge",
    summary="Issue a badge by UID or label (staff action instead of a tap)",
    tag="visits",
    roles=FO,
    body={"uid": "string", "label": "string"},
)
async def visit_issue(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    uid, label = params.opt_text(body, "uid", 40), params.opt_text(body, "label", 40)
    badge = next(
        (
            b
            for b in runtime.state.badges.values()
            if (uid and b.uid == uid.upper()) or (label and b.label == label)
        ),
        None,
    )
    if badge is None:
        raise NotFound(_("Kartu tidak ditemukan."), field="label")
    badge_id = badge.id
    return await _do(
        request,
        lambda tx, v, now, actor: visits.issue_badge(
            tx, runtime.policy, v, tx.state.badges[badge_id], now, actor
        ),
    )


@route(
    "POST",
    "/api/v1/visits/{id}/facility",
    summary="Assign a facility (by code) or the "
    "next free of a kind, else a queue number (SOP step 3)",
    tag="visits",
    roles=FO,
    body={"kind": "string", "code": "string"},
)
async def visit_assign(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    kind, code = params.opt_text(body, "kind", 40), params.opt_text(body, "code", 40)
    return await _do(
        request,
        lambda tx, v, now, actor: visits.assign_facility(
            tx, runtime.policy, v, kind, code, now, actor
        ),
    )


@route(
    "POST",
    "/api/v1/visits/{id}/usage",
    summary="Start or end the facility-usage session by staff action (SOP step 4)",
    tag="visits",
    roles=FO,
    body={"action": "string!"},
)
async def visit_usage(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    action = params.text(body, "action")
    if action not in ("start", "end"):
        raise ValidationError(
            _("Tindakan harus 'start' atau 'end'."),
            field="action",
        )
    return await _do(
        request,
        lambda tx, v, now, actor: visits.staff_usage(
            tx, runtime.policy, v, action == "start", now, actor
        ),
    )


@route(
    "POST",
    "/api/v1/visits/{id}/checkout",
    summary="The badge is back (staff action; "
    "SOP steps 7-8): closes the visit and shows the document's slot",
    tag="visits",
    roles=FO,
    body={"devices_checked": "boolean"},
)
async def visit_checkout(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    checked = params.opt_flag(body, "devices_checked")
    return await _do(
        request,
        lambda tx, v, now, actor: visits.return_badge(tx, runtime.policy, v, now, actor, checked),
    )


@route(
    "POST",
    "/api/v1/visits/{id}/document-return",
    summary="Hand the deposited document back",
    tag="visits",
    roles=FO,
    body={"to": "string"},
)
async def visit_document(request: web.Request) -> web.Response:
    body = await params.json_body(request)
    to = params.text(body, "to", required=False, max_len=200)
    return await _do(
        request, lambda tx, v, now, actor: visits.return_document(tx, v, to, now, actor)
    )


@route(
    "POST",
    "/api/v1/visits/{id}/force-close",
    summary="Close a visit that cannot end normally (supervisor, with a reason)",
    tag="visits",
    roles=SUPERVISOR,
    body={"reason": "string!"},
)
async def visit_force_close(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    reason = params.text(body, "reason")
    return await _do(
        request,
        lambda tx, v, now, actor: visits.force_close(tx, runtime.policy, v, reason, now, actor),
    )
