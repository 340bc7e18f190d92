"""Control books, visit reports, the sealed archive and personal-data requests."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from service.api import contract, params
from service.api.app import RUNTIME, lang_of, now_of, principal
from service.api.routing import route
from service.api.shapes.reports import (
    FILE_MEDIA,
    FILE_NAME_PARAM,
    MONTH_PARAM,
    SEALED_MEDIA,
    BooksQuery,
    ExportIn,
    ExportOut,
    Fault,
    PurgeIn,
    PurgeOut,
    ReportQuery,
    SealedFileOut,
    VerifyOut,
    VerifyQuery,
)
from service.auth import Role
from service.errors import NotFound
from service.i18n import _
from service.reports import render
from service.reports.archive import list_sealed, read_sealed
from service.reports.jobs import books_job, verify_job, visits_job
from service.reports.retention import purge
from service.reports.subject import export_subject
from service.workers import WORKERS

BOOK_ROLES = (Role.FRONT_OFFICE, Role.HEAD, Role.ADMIN)
HEAD = (Role.HEAD, Role.ADMIN)


def _file(kind: str, start: date, end: date, fmt: str, data: bytes) -> web.Response:
    name = render.filename(kind, start, end, fmt)
    return web.Response(
        body=data,
        content_type=render.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _today(request: web.Request) -> date:
    return request.app[RUNTIME].policy.day_of(now_of(request))


def _period(request: web.Request) -> tuple[date, date]:
    """A ``{day}`` or a ``{month}`` of the path as a range of local days."""
    if "day" in request.match_info:
        day = params.a_date(request.match_info["day"], "day", _today(request))
        return day, day
    return params.a_month(request.match_info["month"], "month", _today(request))


async def _books(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    start, end = _period(request)
    query = params.query_of(request, BooksQuery)
    book, fmt, lang = query.book, query.format, lang_of(request)
    data = await WORKERS.run(books_job, runtime.config, start, end, fmt, book, lang)
    return _file("books", start, end, fmt, data)


async def _visits(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    start, end = _period(request)
    fmt, lang = params.query_of(request, ReportQuery).format, lang_of(request)
    data = await WORKERS.run(visits_job, runtime.config, start, end, fmt, lang, now_of(request))
    return _file("visits", start, end, fmt, data)


route(
    "GET",
    "/api/v1/reports/days/{day}/books",
    tag="reports",
    roles=BOOK_ROLES,
    summary="The two control books of a day (pdf, xlsx or csv)",
    query=BooksQuery,
    response=FILE_MEDIA,
)(_books)
route(
    "GET",
    "/api/v1/reports/months/{month}/books",
    tag="reports",
    roles=BOOK_ROLES,
    summary="The control books of a month",
    query=BooksQuery,
    path_params={"month": MONTH_PARAM},
    response=FILE_MEDIA,
)(_books)
route(
    "GET",
    "/api/v1/reports/days/{day}/visits",
    tag="reports",
    roles=HEAD,
    summary="The visit report of a day for the Head of LPSE",
    query=ReportQuery,
    response=FILE_MEDIA,
)(_visits)
route(
    "GET",
    "/api/v1/reports/months/{month}/visits",
    tag="reports",
    roles=HEAD,
    summary="The monthly visit report",
    query=ReportQuery,
    path_params={"month": MONTH_PARAM},
    response=FILE_MEDIA,
)(_visits)


@route(
    "GET",
    "/api/v1/archive/verify",
    summary="Verify the journal chain, the tables and the "
    "sealed files (every fault with its place)",
    tag="reports",
    roles=HEAD,
    query=VerifyQuery,
    reply=VerifyOut,
)
async def archive_verify(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    raw = params.query_of(request, VerifyQuery).day
    day = params.bounded_date(raw, "day", _today(request)) if raw else None
    faults = await WORKERS.run(verify_job, runtime.config, day)
    return contract.reply(
        VerifyOut(ok=not faults, faults=[Fault(place=f.place, problem=f.problem) for f in faults])
    )


@route(
    "GET",
    "/api/v1/archive/{day}",
    summary="The sealed files of a signed-off day",
    tag="reports",
    roles=BOOK_ROLES,
    reply=list[SealedFileOut],
)
async def archive_list(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    day = params.a_date(request.match_info["day"], "day", _today(request))
    files = await list_sealed(runtime.engine, day)
    return contract.reply(
        [
            SealedFileOut(
                name=f.name,
                sha256=f.sha256,
                size=f.size,
                url=f"/api/v1/archive/{day.isoformat()}/{f.name}",
            )
            for f in files
        ]
    )


@route(
    "GET",
    "/api/v1/archive/{day}/{name}",
    summary="One sealed file, exactly as sealed",
    tag="reports",
    roles=BOOK_ROLES,
    response=SEALED_MEDIA,
    path_params={"name": FILE_NAME_PARAM},
)
async def archive_file(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    day = params.a_date(request.match_info["day"], "day", _today(request))
    # Only looked up, never stored or logged: a name no sealed file has is simply absent.
    name = request.match_info["name"]
    data = await read_sealed(runtime.engine, day, name) if len(name) <= 200 else None
    if data is None:
        raise NotFound(_("Tidak ada berkas arsip dengan nama itu pada hari tersebut."))
    fmt = name.rsplit(".", 1)[-1]
    return web.Response(
        body=data,
        content_type=render.MEDIA_TYPES.get(fmt, "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@route(
    "POST",
    "/api/v1/privacy/purge",
    summary="Erase personal data past the retention period (dry_run shows what would go)",
    tag="privacy",
    roles=(Role.ADMIN,),
    body=PurgeIn,
    reply=PurgeOut,
)
async def privacy_purge(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.body_of(request, PurgeIn)
    report = await purge(
        runtime, now_of(request), dry_run=body.dry_run, actor=principal(request).actor
    )
    return contract.reply(
        PurgeOut(
            cutoff=report.cutoff,
            visitor_ids=list(report.visitor_ids),
            visits=report.visits,
            dry_run=report.dry_run,
            help_ids=list(report.help_ids),
            fields=list(report.fields),
        )
    )


@route(
    "POST",
    "/api/v1/privacy/export",
    summary="Everything held about one data subject (admin; the read is journaled)",
    tag="privacy",
    roles=(Role.ADMIN,),
    body=ExportIn,
    reply=ExportOut,
)
async def privacy_export(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.body_of(request, ExportIn)
    data = await export_subject(runtime, body.nik, principal(request).actor, body.doc_type.value)
    return contract.reply(contract.convert(data, ExportOut, strict=False))
