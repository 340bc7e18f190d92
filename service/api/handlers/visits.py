"""Visits: the access form (step 2) and the visits of a day."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from service.api import contract, params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import visit_out
from service.api.routing import route
from service.api.shapes.views import VisitOut
from service.api.shapes.visits import VisitIn, VisitList, VisitListQuery
from service.auth import Role
from service.domain import visits
from service.domain.facts import Identity
from service.domain.identity import (
    check_document,
    check_npwp,
    check_phone,
    mask_number,
)
from service.domain.model import Visitor
from service.errors import NotFound, ValidationError
from service.i18n import _
from service.runtime import Runtime
from service.store.loader import entity_from_row
from service.store.tables import DataKeyRow, VisitorRow, VisitRow

FO = (Role.FRONT_OFFICE, Role.HEAD, Role.ADMIN)
SUPERVISOR = (Role.HEAD, Role.ADMIN)


async def _find_visitor(runtime: Runtime, doc_hash: str) -> tuple[Visitor, Any] | None:
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                select(VisitorRow)
                .where(VisitorRow.doc_hash == doc_hash, VisitorRow.erased_at.is_(None))
                .order_by(VisitorRow.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        wrapped = (
            await conn.execute(
                select(DataKeyRow.wrapped).where(DataKeyRow.subject == f"visitor:{row.id}")
            )
        ).scalar_one_or_none()
    return entity_from_row("visitor", row), (row, wrapped)


@route(
    "POST",
    "/api/v1/visits",
    summary="Record the access form and the deposited document (SOP step 2)",
    tag="visits",
    roles=FO,
    body=VisitIn,
    reply=VisitOut,
    checked_beyond=(
        "the document number as its type requires (a NIK's region, birth date and check; "
        "an NPWP's check digit), the phone number, the rules acknowledged, a facility kind "
        "the room has, and a back-entered time not in the future"
    ),
    status=201,
)
async def visit_create(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    body = await params.body_of(request, VisitIn)
    now = now_of(request)
    back = body.back_entered
    arrived_at = params.bounded_datetime(body.arrived_at, "arrived_at", now)
    at = arrived_at if back else None
    doc_type = body.doc_type
    number = check_document(doc_type, body.doc_number, now.date())
    phone = check_phone(body.phone) if body.phone else None
    npwp = check_npwp(body.npwp, now.date()) if body.npwp else None
    doc_hash = runtime.personal.lookup_hash(doc_type.value, number)
    found = await _find_visitor(runtime, doc_hash)
    identity = Identity(
        doc_hash=doc_hash,
        doc_number=number,
        phone=phone,
        npwp=npwp,
        npwp_hash=runtime.personal.lookup_hash("npwp", npwp) if npwp else None,
    )
    form = visits.Arrival(
        name=body.name,
        company=body.company,
        doc_type=doc_type,
        doc_masked=mask_number(number),
        npwp_masked=mask_number(npwp) if npwp else None,
        purpose=body.purpose or "",
        tender_code=body.tender_code or "",
        devices=tuple((d.kind, (d.serial or "").strip()) for d in body.devices or ()),
        wanted_kind=body.wanted_kind or None,
        rules_ack=body.rules_ack,
        privacy_ack=body.privacy_ack,
        back_entered=back,
        known_visitor=found[0] if found else None,
        form_started_at=params.bounded_datetime(body.form_started_at, "form_started_at", now),
        identity=identity,
        confirm_open_visit=body.confirm_open_visit,
    )
    if back and at is None:
        raise ValidationError(
            _("Isi waktu kedatangan untuk data susulan."),
            field="arrived_at",
        )
    visit = await runtime.execute(
        lambda tx: visits.register(tx, runtime.policy, form, at or now, who.actor, now)
    )
    return contract.reply(visit_out(runtime.state, runtime.state.visits[visit.id]), status=201)


def _visit(runtime: Runtime, visit_id: int) -> Any:
    visit = runtime.state.visits.get(visit_id)
    if visit is None:
        raise NotFound(_("Kunjungan {visit_id} tidak ditemukan.", visit_id=visit_id))
    return visit


@route(
    "GET",
    "/api/v1/visits",
    summary="List visits of a day, optionally by state",
    tag="visits",
    query=VisitListQuery,
    reply=VisitList,
)
async def visit_list(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    query = params.query_of(request, VisitListQuery)
    today = runtime.policy.day_of(now_of(request))
    day = params.bounded_date(query.day, "day", today)
    in_memory = [v for v in runtime.state.visits.values() if v.day == day]
    if in_memory or day >= today:
        listed = sorted(in_memory, key=lambda v: v.id)
    else:
        # A past day's visits are in the store only; their badge, facility and ticket
        # are named as the store and the room know them, their deposit is not loaded.
        async with runtime.engine.connect() as conn:
            stored = (
                await conn.execute(
                    select(VisitRow).where(VisitRow.day == day).order_by(VisitRow.id)
                )
            ).all()
        listed = [entity_from_row("visit", r) for r in stored]
    rows = [visit_out(runtime.state, v) for v in listed]
    if query.state is not None:
        rows = [r for r in rows if r.state == query.state]
    return contract.reply(VisitList(day=day, visits=rows))


@route("GET", "/api/v1/visits/{id}", summary="One visit", tag="visits", reply=VisitOut)
async def visit_get(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return contract.reply(visit_out(runtime.state, _visit(runtime, params.path_int(request, "id"))))
