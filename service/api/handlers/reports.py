"""Control books, visit reports, the sealed archive and personal-data requests."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

from aiohttp import web

from service.api import params
from service.api.app import RUNTIME, lang_of, now_of, principal
from service.api.routing import route
from service.auth import Role
from service.domain.identity import DocumentType
from service.errors import NotFound
from service.i18n import _
from service.reports import render
from service.reports.archive import list_sealed, read_sealed
from service.reports.jobs import books_job, verify_job, visits_job
from service.reports.retention import purge
from service.reports.subject import export_subject
from service.workers import WORKERS


def _dumps(value: object) -> str:
    return json.dumps(value, default=str)


SEALED_FILE = _("Nama berkas arsip")
BOOK_ROLES = (Role.FRONT_OFFICE, Role.HEAD, Role.ADMIN)
HEAD = (Role.HEAD, Role.ADMIN)


def _file(kind: str, start: date, end: date, fmt: str, data: bytes) -> web.Response:
    name = render.filename(kind, start, end, fmt)
    return web.Response(
        body=data,
        content_type=render.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _fmt(request: web.Request) -> str:
    return params.choice(request.query, "format", render.FORMATS, "pdf")


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
    book = params.choice(request.query, "book", render.BOOKS, "all")
    fmt, lang = _fmt(request), lang_of(request)
    data = await WORKERS.run(books_job, runtime.config, start, end, fmt, book, lang)
    return _file("books", start, end, fmt, data)


async def _visits(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    start, end = _period(request)
    fmt, lang = _fmt(request), lang_of(request)
    data = await WORKERS.run(visits_job, runtime.config, start, end, fmt, lang, now_of(request))
    return _file("visits", start, end, fmt, data)


BOOK_PARAMS = {"format": "pdf (default), xlsx or csv", "book": "all, access or usage"}
REPORT_PARAMS = {"format": "pdf (default), xlsx or csv"}
route(
    "GET",
    "/api/v1/reports/days/{day}/books",
    tag="reports",
    roles=BOOK_ROLES,
    summary="The two control books of a day (pdf, xlsx or csv)",
    params=BOOK_PARAMS,
)(_books)
route(
    "GET",
    "/api/v1/reports/months/{month}/books",
    tag="reports",
    roles=BOOK_ROLES,
    summary="The control books of a month",
    params=BOOK_PARAMS,
)(_books)
route(
    "GET",
    "/api/v1/reports/days/{day}/visits",
    tag="reports",
    roles=HEAD,
    summary="The visit report of a day for the Head of LPSE",
    params=REPORT_PARAMS,
)(_visits)
route(
    "GET",
    "/api/v1/reports/months/{month}/visits",
    tag="reports",
    roles=HEAD,
    summary="The monthly visit report",
    params=REPORT_PARAMS,
)(_visits)


@route(
    "GET",
    "/api/v1/archive/verify",
    summary="Verify the journal chain, the tables and the "
    "sealed files (every fault with its place)",
    tag="reports",
    roles=HEAD,
    params={"day": "YYYY-MM-DD (default: everything)"},
)
async def archive_verify(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    raw = request.query.get("day")
    day = params.a_date(raw, "day", _today(request)) if raw else None
    faults = await WORKERS.run(verify_job, runtime.config, day)
    return web.json_response(
        {"ok": not faults, "faults": [asdict(f) for f in faults]}, dumps=_dumps
    )


@route(
    "GET",
    "/api/v1/archive/{day}",
    summary="The sealed files of a signed-off day",
    tag="reports",
    roles=BOOK_ROLES,
)
async def archive_list(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    day = params.a_date(request.match_info["day"], "day", _today(request))
    files = await list_sealed(runtime.engine, day)
    return web.json_response(
        [
            {
                "name": f.name,
                "sha256": f.sha256,
                "size": f.size,
                "url": f"/api/v1/archive/{day.isoformat()}/{f.name}",
            }
            for f in files
        ]
    )


@route(
    "GET",
    "/api/v1/archive/{day}/{name}",
    summary="One sealed file, exactly as sealed",
    tag="reports",
    roles=BOOK_ROLES,
)
async def archive_file(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    day = params.a_date(request.match_info["day"], "day", _today(request))
    name = params.path_text(request, "name", max_len=200, label=SEALED_FILE)
    data = await read_sealed(runtime.engine, day, name)
    if data is None:
        raise NotFound(_("Berkas arsip {name} tidak ada.", name=name))
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
    body={"dry_run": "boolean"},
)
async def privacy_purge(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    report = await purge(
        runtime,
        now_of(request),
        dry_run=params.flag(body, "dry_run"),
        actor=principal(request).actor,
    )
    return web.json_response(asdict(report), dumps=_dumps)


@route(
    "POST",
    "/api/v1/privacy/export",
    summary="Everything held about one data subject (admin; the read is journaled)",
    tag="privacy",
    roles=(Role.ADMIN,),
    body={"nik": "string!", "doc_type": "string"},
)
async def privacy_export(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    data = await export_subject(
        runtime,
        params.text(body, "nik", max_len=40),
        principal(request).actor,
        params.choice(body, "doc_type", [d.value for d in DocumentType], "ktp"),
    )
    return web.json_response(data, dumps=_dumps)
