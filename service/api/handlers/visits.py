"""Visits: the access form (step 2), facility or queue (3), return (7-8)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from service.api import params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import iso, visit_json
from service.api.routing import route
from service.auth import Role
from service.domain import visits
from service.domain.identity import (
    DOCUMENT_LABELS,
    DocumentType,
    NikError,
    check_document,
    check_nik,
    check_npwp,
    check_phone,
    mask_number,
)
from service.domain.lifecycle import VisitState
from service.domain.model import Visitor
from service.errors import NotFound, ValidationError
from service.privacy import KeyShredded, PersonalData
from service.runtime import Runtime
from service.store.loader import entity_from_row
from service.store.tables import VisitorKeyRow, VisitorRow, VisitRow

FO = (Role.FRONT_OFFICE, Role.HEAD, Role.ADMIN)
SUPERVISOR = (Role.HEAD, Role.ADMIN)


def _doc_type(body: dict[str, Any]) -> DocumentType:
    try:
        return DocumentType(params.text(body, "doc_type"))
    except ValueError:
        raise ValidationError(
            "Jenis identitas harus KTP, SIM atau paspor.",
            "Document type must be ktp, sim or passport.",
            field="doc_type",
        ) from None


async def _find_visitor(runtime: Runtime, doc_hash: str) -> tuple[Visitor, Any] | None:
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                select(VisitorRow)
                .where(VisitorRow.doc_hash == doc_hash)
                .order_by(VisitorRow.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        wrapped = (
            await conn.execute(
                select(VisitorKeyRow.wrapped).where(VisitorKeyRow.visitor_id == row.id)
            )
        ).scalar_one_or_none()
    return entity_from_row("visitor", row), (row, wrapped)


@route(
    "POST",
    "/api/v1/nik/check",
    summary="Check a NIK as it is typed (same rules as the form)",
    tag="visits",
    body={"nik": "string!"},
)
async def nik_check(request: web.Request) -> web.Response:
    body = await params.json_body(request)
    raw = str(body.get("nik", ""))
    try:
        info = check_nik(raw, now_of(request).date())
    except NikError as exc:
        return web.json_response(
            {
                "valid": False,
                "fault": exc.fault.value,
                "message": exc.message_id,
                "message_en": exc.message_en,
            }
        )
    return web.json_response(
        {
            "valid": True,
            "masked": mask_number(info.number),
            "region_code": info.region_code,
            "birth_date": info.birth_date.isoformat(),
        }
    )


@route(
    "GET",
    "/api/v1/visitors/lookup",
    summary="Find a returning visitor by document number (to prefill the form)",
    tag="visits",
    roles=FO,
    params={"doc_type": "ktp, sim or passport", "doc_number": "the document number"},
)
async def visitor_lookup(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    query = dict(request.query)
    doc_type = _doc_type(query)
    number = check_document(doc_type, params.text(query, "doc_number"), now_of(request).date())
    found = await _find_visitor(runtime, runtime.personal.lookup_hash(doc_type.value, number))
    if found is None:
        return web.json_response({"found": False})
    visitor, (row, wrapped) = found
    phone = None
    if row.phone_enc and wrapped is not None:
        try:
            key = runtime.personal.unwrap(visitor.id, wrapped)
            phone = PersonalData.decrypt(key, row.phone_enc, f"visitor:{visitor.id}:phone")
        except (KeyShredded, ValueError):
            phone = None
    return web.json_response(
        {
            "found": True,
            "visitor_id": visitor.id,
            "name": visitor.name,
            "company": visitor.company,
            "npwp": visitor.npwp,
            "phone": phone,
        }
    )


def _devices(body: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    raw = body.get("devices") or []
    if not isinstance(raw, list):
        raise ValidationError(
            "Daftar perangkat tidak sah.", "Invalid device list.", field="devices"
        )
    out = []
    for item in raw:
        if not isinstance(item, dict) or not str(item.get("kind", "")).strip():
            raise ValidationError(
                "Setiap perangkat perlu jenis.", "Each device needs a kind.", field="devices"
            )
        out.append((str(item["kind"]).strip()[:60], str(item.get("serial", "")).strip()[:60]))
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
    },
)
async def visit_create(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    body = await params.json_body(request)
    now = now_of(request)
    back = params.flag(body, "back_entered")
    at = params.a_datetime(body.get("arrived_at"), "arrived_at") if back else None
    doc_type = _doc_type(body)
    number = check_document(doc_type, params.text(body, "doc_number", max_len=40), now.date())
    phone = params.opt_text(body, "phone", 40)
    phone = check_phone(phone) if phone else None
    npwp = params.opt_text(body, "npwp", 40)
    npwp = check_npwp(npwp) if npwp else None
    doc_hash = runtime.personal.lookup_hash(doc_type.value, number)
    found = await _find_visitor(runtime, doc_hash)
    personal = {"doc_number": number, "doc_hash": doc_hash}
    if phone:
        personal["phone"] = phone
    form = visits.Arrival(
        name=params.text(body, "name", max_len=200),
        company=params.text(body, "company", max_len=200),
        doc_type=doc_type,
        doc_masked=mask_number(number),
        npwp=npwp,
        purpose=params.text(body, "purpose", required=False, max_len=500),
        tender_code=params.text(body, "tender_code", required=False, max_len=100),
        devices=_devices(body),
        wanted_kind=params.opt_text(body, "wanted_kind", 40),
        rules_ack=params.flag(body, "rules_ack"),
        privacy_ack=params.flag(body, "privacy_ack"),
        back_entered=back,
        known_visitor=found[0] if found else None,
        form_started_at=params.a_datetime(body.get("form_started_at"), "form_started_at"),
        personal=personal,
    )
    if back and at is None:
        raise ValidationError(
            "Isi waktu kedatangan untuk data susulan.",
            "Give the arrival time for a back-entered record.",
            field="arrived_at",
        )
    visit = await runtime.execute(
        lambda tx: visits.register(tx, runtime.policy, form, at or now, who.actor)
    )
    return web.json_response(visit_json(runtime.state, visit), status=201)


def _visit(runtime: Runtime, visit_id: int) -> Any:
    visit = runtime.state.visits.get(visit_id)
    if visit is None:
        raise NotFound(f"Kunjungan {visit_id} tidak ditemukan.", f"Visit {visit_id} not found.")
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
    wanted = request.query.get("state")
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
        raise ValidationError(
            "Bukan pembaca kartu front office.", "Not a front-desk reader.", field="reader"
        )
    return await _do(request, lambda tx, v, now, actor: visits.arm_issue(tx, reader, v))


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
        raise NotFound("Kartu tidak ditemukan.", "Badge not found.", field="label")
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
            "Tindakan harus 'start' atau 'end'.",
            "The action must be 'start' or 'end'.",
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
    checked = body.get("devices_checked")
    checked = bool(checked) if checked is not None else None
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


@route(
    "GET",
    "/api/v1/visits/{id}/document",
    summary="Reveal the full document number (admin; the read is journaled)",
    tag="visits",
    roles=(Role.ADMIN,),
)
async def visit_reveal(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    visit_id = params.path_int(request, "id")
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                select(VisitorRow.id, VisitorRow.doc_enc, VisitorKeyRow.wrapped)
                .join(VisitRow, VisitRow.visitor_id == VisitorRow.id)
                .join(VisitorKeyRow, VisitorKeyRow.visitor_id == VisitorRow.id, isouter=True)
                .where(VisitRow.id == visit_id)
            )
        ).first()
    if row is None:
        raise NotFound(f"Kunjungan {visit_id} tidak ditemukan.", f"Visit {visit_id} not found.")
    now = now_of(request)
    await runtime.execute(lambda tx: tx.fact("privacy.document_read", now, who.actor))
    if row.doc_enc is None or row.wrapped is None:
        return web.json_response({"visit_id": visit_id, "doc_number": None, "erased": True})
    key = runtime.personal.unwrap(row.id, row.wrapped)
    number = PersonalData.decrypt(key, row.doc_enc, f"visitor:{row.id}:doc_number")
    return web.json_response({"visit_id": visit_id, "doc_number": number, "erased": False})


@route("GET", "/api/v1/document-types", summary="Identity document types", tag="visits")
async def document_types(request: web.Request) -> web.Response:
    return web.json_response(
        [
            {"value": d.value, "label": DOCUMENT_LABELS[d][0], "label_en": DOCUMENT_LABELS[d][1]}
            for d in DocumentType
        ]
    )


__all__ = ["VisitState"]
