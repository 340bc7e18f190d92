"""Notices an admin must acknowledge (a database file moved aside): see service/notices.py.

They are listed in ``GET /api/v1/status`` (``notices``) and on the status board.
"""

from __future__ import annotations

from aiohttp import web

from service.api import contract, params
from service.api.app import RUNTIME, now_of, principal
from service.api.routing import route
from service.api.shapes.notices import NoticeAcked
from service.auth import Role


@route(
    "POST",
    "/api/v1/notices/{id}/ack",
    summary="Acknowledge a notice (e.g. a corrupt database file moved aside); it leaves the board",
    tag="status",
    roles=(Role.ADMIN,),
    reply=NoticeAcked,
)
async def acknowledge(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    notice_id = params.path_int(request, "id")
    await runtime.notices.acknowledge(notice_id, principal(request).actor, now_of(request))
    runtime.hub.publish(["notice.acknowledged"])
    return contract.reply(NoticeAcked(id=notice_id, acknowledged=True))
