"""The API's request context: the application keys, who is asking (session or
bearer token), the language of the answer, and the one error middleware.

Handlers import what they need from here; the application itself is assembled in
:mod:`service.server` (the API routes, the front-office pages and the runtime), so
this package never imports the pages and handlers never import their assembler.
Handlers are thin: they parse, call a rule through ``runtime.execute``, and shape
the answer; domain errors become JSON errors here, in one place, with a message a
clerk can understand and never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from service.api import cookies, routing
from service.auth import Principal
from service.config import Config
from service.errors import BidroomError, Forbidden, Unauthorized, ValidationError
from service.i18n import Text, _, both, render
from service.runtime import Runtime

_LOGGER = logging.getLogger(__name__)

RUNTIME = web.AppKey("runtime", Runtime)
CONFIG = web.AppKey("config", Config)
PRINCIPAL_KEY = web.RequestKey("principal", Principal)
SESSION_COOKIE = cookies.SESSION  # "__Host-" in front when served over HTTPS
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
VERSION = "0.1.0"


def _language(value: str) -> str | None:
    """``en`` or ``id`` for a tag that names one (``en-GB``, ``ID``), else None."""
    primary = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in ("id", "en") else None


def _accepted(header: str) -> str:
    """The first of Indonesian and English in an Accept-Language header, by weight."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, weight = item.partition(";")
        try:
            quality = float(weight.strip().removeprefix("q=")) if weight else 1.0
        except ValueError:
            quality = 0.0
        found = _language(tag)
        if found and 0.0 < quality <= 1.0:
            ranked.append((-quality, position, found))
    return min(ranked)[2] if ranked else "id"


def lang_of(request: web.Request) -> str:
    """``?lang=``, else the ``lang`` cookie, else Accept-Language; Indonesian by default.

    A ``lang`` value that names neither language falls back to Indonesian.
    """
    for wanted in (request.query.get("lang"), request.cookies.get("lang")):
        if wanted:
            return _language(wanted) or "id"
    return _accepted(request.headers.get("Accept-Language", ""))


def error_body(request: web.Request, exc: BidroomError) -> dict[str, Any]:
    """The JSON of an error: its code and the clerk's message in both languages."""
    body: dict[str, Any] = {
        "error": exc.code,
        "message": exc.message(lang_of(request)),
        "message_id": exc.message_id,
        "message_en": exc.message_en,
    }
    if exc.field:
        body["field"] = exc.field
    return body


def error_response(request: web.Request, exc: BidroomError) -> web.Response:
    body = error_body(request, exc)
    headers = {}
    retry = getattr(exc, "retry_after_s", None)
    if exc.http_status == 503 or retry is not None:  # busy, gone, throttled: say when
        headers["Retry-After"] = str(retry or 2)
    return web.json_response(body, status=exc.http_status, headers=headers)


def principal(request: web.Request) -> Principal:
    found = request.get(PRINCIPAL_KEY)
    if not isinstance(found, Principal):
        raise Unauthorized(_("Silakan masuk terlebih dahulu."))
    return found


async def session_of(request: web.Request) -> Principal | None:
    """The staff member behind the request's session cookie, unless the session ended
    (logout, absolute or idle timeout, password, role or account changed)."""
    security = request.app[CONFIG].security
    cookie = cookies.read(request, security, cookies.SESSION)
    if not cookie:
        return None
    runtime = request.app[RUNTIME]
    idle = timedelta(minutes=security.session_idle_minutes)
    return await runtime.credentials.session(cookie, runtime.clock(), idle)


async def _form(request: web.Request) -> Any:
    """The page's own form fields (for its CSRF field); a malformed form is a 400."""
    if not request.content_type.startswith(("application/x-www-form-urlencoded", "multipart/")):
        return {}
    try:
        return await request.post()
    except (HttpProcessingError, ValueError, AssertionError):
        raise ValidationError(_("Formulir yang dikirim tidak sah; muat ulang halaman.")) from None


async def _authenticate(request: web.Request) -> Principal | None:
    runtime = request.app[RUNTIME]
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        found = await runtime.credentials.token(header[7:].strip(), runtime.clock())
        if found is None:
            raise Unauthorized(_("Token tidak sah."))
        return found
    cookie = cookies.read(request, request.app[CONFIG].security, cookies.SESSION)
    if cookie:
        found = await session_of(request)
        if found is not None and request.method not in SAFE_METHODS:
            sent = request.headers.get("X-CSRF-Token")
            if sent is None:
                form = await _form(request)
                sent = str(form.get("csrf", "")) if form else None
            if sent != found.csrf:
                raise Forbidden(
                    _("Token CSRF tidak cocok; muat ulang halaman."),
                )
        return found
    return None


HTTP_MESSAGES: dict[int, Text] = {
    404: _("Alamat tidak ditemukan."),
    405: _("Alamat ini tidak menerima cara permintaan tersebut."),
    413: _("Data yang dikirim terlalu besar."),
}
CLIENT_ERROR = _("Permintaan tidak dapat diproses.")
SERVER_ERROR = _("Terjadi kesalahan internal; sudah dicatat.")


def _plain(
    request: web.Request, code: str, status: int, messages: Text, **headers: str
) -> web.Response:
    message_id, message_en = both(messages)
    body = {
        "error": code,
        "message": render(messages, lang_of(request)),
        "message_id": message_id,
        "message_en": message_en,
    }
    return web.json_response(body, status=status, headers=headers or None)


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every API error is JSON with a plain message in both languages, never a trace."""
    try:
        return await handler(request)
    except BidroomError as exc:
        if request.path.startswith("/api/"):
            return error_response(request, exc)
        raise
    except web.HTTPException as exc:
        if request.path.startswith("/api/") and exc.status >= 400:
            fallback = CLIENT_ERROR if exc.status < 500 else SERVER_ERROR
            messages = HTTP_MESSAGES.get(exc.status, fallback)
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
            return _plain(request, "http", exc.status, messages, **allow)
        raise
    except Exception:
        _LOGGER.exception("unhandled error on %s %s", request.method, request.path)
        return _plain(request, "internal", 500, SERVER_ERROR)


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every API route checks its role; pages check theirs in the web package.

    A role may call a route only when the route lists it: the administrator runs the
    accounts and the configuration, not the Head's sign-off (SOP step 9).
    """
    if not request.path.startswith("/api/") or request.match_info.http_exception is not None:
        return await handler(request)  # a page, or a 404/405 (with Allow) for anyone
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else request.path
    roles = routing.roles_of(request.method, canonical)
    if roles is None:
        return await handler(request)
    found = await _authenticate(request)
    if found is None:
        raise Unauthorized(_("Silakan masuk terlebih dahulu."))
    if found.role not in roles:  # exactly the roles the route lists: no role passes by rank
        raise Forbidden(_("Peran Anda tidak diizinkan untuk tindakan ini."))
    request[PRINCIPAL_KEY] = found
    return await handler(request)


def now_of(request: web.Request) -> datetime:
    return request.app[RUNTIME].clock()
