"""Visits: the access form (step 2) and the visits of a day."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import select

from service.api import params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import iso, visit_json
from service.api.routing import route
from service.auth import Role
from service.domain import visits
from service.domain.facts import Identity
from service.domain.identity import (
    DocumentType,
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


def _doc_type(body: Mapping[str, Any]) -> DocumentType:
    try:
        return DocumentType(params.text(body, "doc_type"))
    except ValueError:
        raise ValidationError(
            _("Jenis identitas harus KTP, SIM atau paspor."),
            field="doc_type",
        ) from None


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


MAX_DEVICES = 20
DEVICE_KIND = _("Jenis perangkat")
DEVICE_SERIAL = _("Nomor seri perangkat")


def _devices(body: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    raw = body.get("devices")
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_DEVICES:
        raise ValidationError(
            _(
                "Daftar perangkat tidak sah (paling banyak {MAX_DEVICES} perangkat).",
                MAX_DEVICES=MAX_DEVICES,
            ),
            field="devices",
        )
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValidationError(_("Setiap perangkat perlu jenis."), field="devices")
        kind = params.text(item, "kind", max_len=60, field="devices", label=DEVICE_KIND)
        serial = params.text(
            item, "serial", required=False, max_len=60, field="devices", label=DEVICE_SERIAL
        )
        out.append((kind, serial))
    return tuple(out)


@route(
    "POST",
    "/api/v1/visits",
    summary="Record the access form and the deposited document (SOP step 2)",
    tag="visits",
    roles=FO,
    body={
        "name": "string!",
        "company": "string!",
        "doc_type": "string!",
        "doc_number": "string!",
        "phone": "string",
        "npwp": "string",
        "purpose": "string",
        "tender_code": "string",
        "devices": "array",
        "wanted_kind": "string",
        "rules_ack": "boolean!",
        "privacy_ack": "boolean!",
        "back_entered": "boolean",
        "arrived_at": "date-time",
        "form_started_at": "date-time",
        "confirm_open_visit": "boolean",
    },
)
async def visit_create(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    body = await params.json_body(request)
    now = now_of(request)
    back = params.flag(body, "back_entered")
    arrived_at = params.a_datetime(body.get("arrived_at"), "arrived_at", now)
    at = arrived_at if back else None
    doc_type = _doc_type(body)
    number = check_document(doc_type, params.text(body, "doc_number", max_len=40), now.date())
    phone = params.opt_text(body, "phone", 40)
    phone = check_phone(phone) if phone else None
    npwp = params.opt_text(body, "npwp", 40)
    npwp = check_npwp(npwp, now.date()) if npwp else None
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
        name=params.text(body, "name", max_len=200),
        company=params.text(body, "company", max_len=200),
        doc_type=doc_type,
        doc_masked=mask_number(number),
        npwp_masked=mask_number(npwp) if npwp else None,
        purpose=params.text(body, "purpose", required=False, max_len=500),
        tender_code=params.text(body, "tender_code", required=False, max_len=100),
        devices=_devices(body),
        wanted_kind=params.opt_text(body, "wanted_kind", 40),
        rules_ack=params.flag(body, "rules_ack"),
        privacy_ack=params.flag(body, "privacy_ack"),
        back_entered=back,
        known_visitor=found[0] if found else None,
        form_started_at=params.a_datetime(body.get("form_started_at"), "form_started_at", now),
        identity=identity,
        confirm_open_visit=params.flag(body, "confirm_open_visit"),
    )
    if back and at is None:
        raise ValidationError(
            _("Isi waktu kedatangan untuk data susulan."),
            field="arrived_at",
        )
    visit = await runtime.execute(
        lambda tx: visits.register(tx, runtime.policy, form, at or now, who.actor, now)
    )
    return web.json_response(visit_json(runtime.state, runtime.state.visits[visit.id]), status=201)


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
    params={"day": "YYYY-MM-DD (default today)", "state": "visit state"},
)
async def visit_list(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    day = params.a_date(request.query.get("day"), "day", runtime.policy.day_of(now_of(request)))
    wanted = params.opt_text(request.query, "state", 40)
    in_memory = [v for v in runtime.state.visits.values() if v.day == day]
    if in_memory or day >= runtime.policy.day_of(now_of(request)):
        rows = [visit_json(runtime.state, v) for v in sorted(in_memory, key=lambda v: v.id)]
    else:
        async with runtime.engine.connect() as conn:
            stored = (
                await conn.execute(
                    select(VisitRow).where(VisitRow.day == day).order_by(VisitRow.id)
                )
            ).all()
        rows = [
            {
                "id": r.id,
                "day": r.day.isoformat(),
                "state": r.state,
                "name": r.name,
                "company": r.company,
                "registered_at": iso(r.registered_at),
                "closed_at": iso(r.closed_at),
            }
            for r in stored
        ]
    if wanted:
        rows = [r for r in rows if r["state"] == wanted]
    return web.json_response({"day": day.isoformat(), "visits": rows})


@route("GET", "/api/v1/visits/{id}", summary="One visit", tag="visits")
async def visit_get(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return web.json_response(
        visit_json(runtime.state, _visit(runtime, params.path_int(request, "id")))
    )
