"""The front-office pages, mounted on the daemon's application by ``setup(app, demo=...)``.

Pages are thin Jinja2 shells: each renders its labels in the chosen language and
loads one plain-JS module that talks to the JSON API (``/api/v1``) with the session
cookie and the CSRF header. Rules live in the server only; the pages show what the
API answers, live through Server-Sent Events.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
import jinja2
from aiohttp import web

from service.api.app import CONFIG, RUNTIME, lang_of, session_of
from service.auth import Principal, Role
from web import i18n, login, texts
from web.texts import DEMO

_LOGGER = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
ASSET_VERSION = web.AppKey("web_asset_version", str)

FO = (Role.FRONT_OFFICE, Role.HEAD, Role.ADMIN)
STAFF = (Role.FRONT_OFFICE, Role.HELPDESK, Role.HEAD, Role.ADMIN)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    name: str
    template: str
    title: str  # Indonesian source string, translated when rendered
    roles: tuple[Role, ...] | None  # None: no login (the waiting-area display)
    nav: bool = True


PAGES = (
    Page("/", "board", "board.html", "Papan Status", STAFF),
    Page("/arrival", "arrival", "arrival.html", "Kedatangan", FO),
    Page("/return", "return", "return.html", "Pengembalian", FO),
    Page("/helpdesk", "helpdesk", "helpdesk.html", "Helpdesk", STAFF),
    Page("/day", "day", "day.html", "Tutup Hari", STAFF),
    Page("/roll-call", "roll_call", "roll_call.html", "Daftar Evakuasi", STAFF),
    Page("/events", "events", "events.html", "Kejadian & Alarm", STAFF),
    Page("/queue-display", "queue_display", "queue_display.html", "Layar Antrian", None),
    Page("/visits", "visits", "visits.html", "Cari Kunjungan", FO),
    Page(r"/visits/{id:\d+}", "visit", "visit.html", "Kunjungan", STAFF, nav=False),
    Page("/badges", "badges", "badges.html", "Kartu Pengenal", FO),
    Page("/admin", "admin", "admin.html", "Staf dan Perangkat", (Role.ADMIN,)),
)


def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


async def who_is(request: web.Request) -> Principal | None:
    """The staff member behind the session cookie, or None (also once it has ended)."""
    return await session_of(request)


def allowed(who: Principal, roles: tuple[Role, ...]) -> bool:
    return who.role in roles or who.role is Role.ADMIN


def base_context(request: web.Request, who: Principal | None, page: Page | None) -> dict[str, Any]:
    lang = lang_of(request)
    gettext = i18n.translations(lang).gettext
    runtime = request.app[RUNTIME]
    now = runtime.clock()
    nav = [
        {"path": p.path, "title": gettext(p.title), "current": p is page}
        for p in PAGES
        if p.nav and p.roles is not None and who is not None and allowed(who, p.roles)
    ]
    return {
        "_": gettext,
        "lang": lang,
        "other_lang": "en" if lang == "id" else "id",
        "who": who,
        "role_label": texts.role_label(who.role, lang) if who else "",
        "csrf": who.csrf if who and who.csrf else "",
        "page": page,
        "title": gettext(page.title) if page else "",
        "nav": nav,
        "today_long": i18n.long_date(runtime.policy.day_of(now), lang),
        "today": runtime.policy.day_of(now).isoformat(),
        "v": request.app[ASSET_VERSION],
        "demo": request.app[DEMO],
        "retention_days": request.app[CONFIG].privacy.retention_days,
        "page_data": texts.page_data(request, lang, who),
        # queuetv: the room's name (room.name) in the header and on the waiting-area TV,
        # whose clock runs in the site's time zone from the server's time.
        "room_name": request.app[CONFIG].room.name,
        "site_name": request.app[CONFIG].site.name,
        "site_tz": request.app[CONFIG].site.timezone,
        "server_now": now.isoformat(),
    }


def _page_handler(page: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        who = await who_is(request)
        if page.roles is not None:
            if who is None:
                raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))
            if not allowed(who, page.roles):
                context = base_context(request, who, None)
                response = aiohttp_jinja2.render_template("forbidden.html", request, context)
                response.set_status(403)
                return response
        context = base_context(request, who, page)
        return aiohttp_jinja2.render_template(page.template, request, context)

    return handler


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    if not request.path.startswith("/api/"):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def setup(app: web.Application, *, demo: bool) -> None:
    """Mount the pages, their static assets and the template engine on ``app``."""
    app[DEMO] = demo
    app[ASSET_VERSION] = _asset_version()
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(("html",)),
        undefined=jinja2.StrictUndefined,
    )
    app.middlewares.append(security_headers)
    login.setup(app, base_context)  # GET /login (the page), POST /login (its own form)
    for page in PAGES:
        app.router.add_get(page.path, _page_handler(page), name=f"page_{page.name}_view")
    app.router.add_static("/static/", STATIC_DIR, name="static")
    _LOGGER.info("front-office pages mounted (demo=%s)", demo)
