"""What staff do to a visit: badge, facility or queue (step 3), usage (4), return (7-8)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from service.api import contract, params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import visit_out
from service.api.handlers.visits import FO, SUPERVISOR, _visit
from service.api.routing import route
from service.api.shapes.views import VisitOut
from service.api.shapes.visits import (
    ArmIn,
    BadgeIn,
    CheckoutIn,
    DocumentReturnIn,
    FacilityIn,
    ForceCloseIn,
    UsageIn,
)
from service.domain import visits
from service.errors import NotFound
from service.i18n import _


async def _do(request: web.Request, action: Any) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    visit_id = params.path_int(request, "id")
    _visit(runtime, visit_id)
    now = now_of(request)
    await runtime.execute(lambda tx: action(tx, visits.get_visit(tx, visit_id), now, who.actor))
    return contract.reply(visit_out(runtime.state, runtime.state.visits[visit_id]))


@route(
    "POST",
    "/api/v1/visits/{id}/arm-badge",
    summary="Next free badge tapped on this front-desk reader is issued to this visit",
    tag="visits",
    roles=FO,
    body=ArmIn,
    reply=VisitOut,
)
async def visit_arm(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    reader = (await params.body_of(request, ArmIn)).reader
    policy = runtime.policy.readers.get(reader)
    if policy is None:
        raise NotFound(
            _("Pembaca kartu '{reader}' tidak terdaftar.", reader=reader), field="reader"
        )
    if policy.role.value != "front_desk":  # no front-desk reader of that name (as desk.py)
        raise NotFound(_("Bukan pembaca kartu front office."), field="reader")
    return await _do(request, lambda tx, v, now, actor: visits.arm_issue(tx, reader, v, now, actor))


@route(
    "POST",
    "/api/v1/visits/{id}/badge",
    summary="Issue a badge by UID or label (staff action instead of a tap)",
    tag="visits",
    roles=FO,
    body=BadgeIn,
    reply=VisitOut,
)
async def visit_issue(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.body_of(request, BadgeIn)
    uid, label = body.uid or None, body.label or None
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
    body=FacilityIn,
    reply=VisitOut,
)
async def visit_assign(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.body_of(request, FacilityIn)
    kind, code = body.kind or None, body.code or None
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
    body=UsageIn,
    reply=VisitOut,
)
async def visit_usage(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    action = (await params.body_of(request, UsageIn)).action
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
    body=CheckoutIn,
    reply=VisitOut,
)
async def visit_checkout(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    checked = (await params.body_of(request, CheckoutIn)).devices_checked
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
    body=DocumentReturnIn,
    reply=VisitOut,
)
async def visit_document(request: web.Request) -> web.Response:
    to = (await params.body_of(request, DocumentReturnIn)).to or ""
    return await _do(
        request, lambda tx, v, now, actor: visits.return_document(tx, v, to, now, actor)
    )


@route(
    "POST",
    "/api/v1/visits/{id}/force-close",
    summary="Close a visit that cannot end normally (supervisor, with a reason)",
    tag="visits",
    roles=SUPERVISOR,
    body=ForceCloseIn,
    reply=VisitOut,
)
async def visit_force_close(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    reason = (await params.body_of(request, ForceCloseIn)).reason
    return await _do(
        request,
        lambda tx, v, now, actor: visits.force_close(tx, runtime.policy, v, reason, now, actor),
    )
