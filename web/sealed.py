"""The day's sealed report files (control books, visit report) for the sign-off page.

Until the JSON API has a reports route, the pages list and serve the files that
``service.reports.archive`` sealed when the Head of LPSE signed the day off. Staff
login required; the bytes are served exactly as sealed, with their SHA-256.
"""

from __future__ import annotations

import mimetypes
from datetime import date

from aiohttp import web

from service.api.app import RUNTIME
from service.reports.archive import list_sealed, read_sealed
from web.app import STAFF, allowed, who_is


def _day(request: web.Request) -> date:
    try:
        return date.fromisoformat(request.match_info["day"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def _staff(request: web.Request) -> None:
    who = await who_is(request)
    if who is None:
        raise web.HTTPUnauthorized()
    if not allowed(who, STAFF):
        raise web.HTTPForbidden()


async def sealed_list(request: web.Request) -> web.Response:
    await _staff(request)
    day = _day(request)
    files = await list_sealed(request.app[RUNTIME].engine, day)
    return web.json_response(
        [
            {
                "name": f.name,
                "size": f.size,
                "sha256": f.sha256,
                "href": f"/day/{day.isoformat()}/files/{f.name}",
            }
            for f in sorted(files, key=lambda f: f.name)
        ]
    )


async def sealed_file(request: web.Request) -> web.Response:
    await _staff(request)
    day, name = _day(request), request.match_info["name"]
    data = await read_sealed(request.app[RUNTIME].engine, day, name)
    if data is None:
        raise web.HTTPNotFound()
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return web.Response(
        body=data,
        content_type=kind,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/day/{day}/files", sealed_list)
    app.router.add_get("/day/{day}/files/{name}", sealed_file)
