"""Identity documents: the NIK check as it is typed, returning visitors, the admin reveal."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from service.api import contract, params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.visits import FO, _find_visitor
from service.api.routing import route
from service.api.shapes.identity import (
    DocumentTypeOut,
    LookupIn,
    LookupOut,
    NikCheckIn,
    NikCheckOut,
    RevealOut,
)
from service.auth import Role
from service.domain.facts import PersonalDataRead
from service.domain.identity import (
    DOCUMENT_LABELS,
    DocumentType,
    NikError,
    check_document,
    check_nik,
    mask_number,
)
from service.errors import NotFound
from service.i18n import _, render
from service.privacy import KeyShredded, PersonalData
from service.store.tables import DataKeyRow, VisitorRow, VisitRow


@route(
    "POST",
    "/api/v1/nik/check",
    summary="Check a NIK as it is typed (same rules as the form)",
    tag="visits",
    body=NikCheckIn,
    reply=NikCheckOut,
)
async def nik_check(request: web.Request) -> web.Response:
    raw = (await params.body_of(request, NikCheckIn)).nik
    try:
        info = check_nik(raw, now_of(request).date())
    except NikError as exc:
        return contract.reply(
            NikCheckOut(
                valid=False,
                fault=exc.fault.value,
                message=exc.message_id,
                message_en=exc.message_en,
            )
        )
    return contract.reply(
        NikCheckOut(
            valid=True,
            masked=mask_number(info.number),
            region_code=info.region_code,
            birth_date=info.birth_date,
        )
    )


@route(
    "POST",
    "/api/v1/visitors/lookup",
    summary="Find a returning visitor by document number (to prefill the form)",
    tag="visits",
    roles=FO,
    body=LookupIn,
    reply=LookupOut,
    checked_beyond="the document number as its type requires (a NIK's region and birth date)",
)
async def visitor_lookup(request: web.Request) -> web.Response:
    """A POST so the number is in the body: never in a URL a proxy or an access log keeps."""
    runtime = request.app[RUNTIME]
    body = await params.body_of(request, LookupIn)
    doc_type = body.doc_type
    number = check_document(doc_type, body.doc_number, now_of(request).date())
    found = await _find_visitor(runtime, runtime.personal.lookup_hash(doc_type.value, number))
    if found is None:
        return contract.reply(LookupOut(found=False))
    visitor, (row, wrapped) = found
    subject = f"visitor:{visitor.id}"
    opened: dict[str, str | None] = {"phone": None, "npwp": None}
    try:
        key = runtime.personal.unwrap(subject, wrapped)
        for name, token in (("phone", row.phone_enc), ("npwp", row.npwp_enc)):
            if token:
                opened[name] = PersonalData.decrypt(key, token, f"{subject}:{name}")
    except (KeyShredded, ValueError):
        pass
    return contract.reply(
        LookupOut(
            found=True,
            visitor_id=visitor.id,
            name=visitor.name,
            company=visitor.company,
            npwp=opened["npwp"],
            phone=opened["phone"],
        )
    )


@route(
    "GET",
    "/api/v1/visits/{id}/document",
    summary="Reveal the full document number (admin; the read is journaled)",
    tag="visits",
    roles=(Role.ADMIN,),
    reply=RevealOut,
)
async def visit_reveal(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    visit_id = params.path_int(request, "id")
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                select(VisitorRow.id, VisitorRow.doc_enc)
                .join(VisitRow, VisitRow.visitor_id == VisitorRow.id)
                .where(VisitRow.id == visit_id)
            )
        ).first()
        wrapped = None
        if row is not None:
            wrapped = (
                await conn.execute(
                    select(DataKeyRow.wrapped).where(DataKeyRow.subject == f"visitor:{row.id}")
                )
            ).scalar_one_or_none()
    if row is None:
        raise NotFound(_("Kunjungan {visit_id} tidak ditemukan.", visit_id=visit_id))
    now = now_of(request)
    read = PersonalDataRead(at=now, actor=who.actor, visitor_id=row.id, what="doc_number")
    await runtime.execute(lambda tx: tx.emit(read))
    if row.doc_enc is None or wrapped is None:
        return contract.reply(RevealOut(visit_id=visit_id, doc_number=None, erased=True))
    subject = f"visitor:{row.id}"
    key = runtime.personal.unwrap(subject, wrapped)
    number = PersonalData.decrypt(key, row.doc_enc, f"{subject}:doc_number")
    return contract.reply(RevealOut(visit_id=visit_id, doc_number=number, erased=False))


@route(
    "GET",
    "/api/v1/document-types",
    summary="Identity document types",
    tag="visits",
    reply=list[DocumentTypeOut],
)
async def document_types(request: web.Request) -> web.Response:
    return contract.reply(
        [
            DocumentTypeOut(
                value=d,
                label=render(DOCUMENT_LABELS[d]),
                label_en=render(DOCUMENT_LABELS[d], "en"),
            )
            for d in DocumentType
        ]
    )
