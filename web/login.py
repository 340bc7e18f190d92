"""The login page and its own form: ``GET /login`` shows it, ``POST /login`` logs in.

The form works without JavaScript and is the only body ``/login`` takes: URL-encoded
(415 otherwise) and carrying the page's own token, which must match the cookie the
page set (a form posted from another site has neither). The check itself is the
API's (:func:`service.api.handlers.session.log_in`): throttled per account and client
address, a new session every time. A refusal is shown on the page in the page's
language, with ``Retry-After`` when the throttle says to wait.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.api import cookies, params
from service.api.app import CONFIG, lang_of, session_of
from service.api.handlers.session import log_in
from service.auth import Principal
from service.errors import BidroomError, UnsupportedMediaType, ValidationError
from service.i18n import _

FORM_TYPE = "application/x-www-form-urlencoded"
Context = Callable[[web.Request, Principal | None, Any], dict[str, Any]]
# The pages' template context (web.app.base_context), handed over by web.app's setup.
CONTEXT: web.AppKey[Context] = web.AppKey("web_login_context")


def _target(value: object) -> str:
    """Where to go after logging in: a path on this site only."""
    target = value if isinstance(value, str) else "/"
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _render(
    request: web.Request, target: str, error: BidroomError | None = None, username: str = ""
) -> web.Response:
    context = request.app[CONTEXT](request, None, None)
    token = secrets.token_urlsafe(24)
    context.update(
        {
            "title": context["_"]("Masuk"),
            "next": target,
            "login_csrf": token,
            "error": error.message(lang_of(request)) if error else "",
            "username": username,
        }
    )
    response = aiohttp_jinja2.render_template("login.html", request, context)
    if error is not None:
        response.set_status(error.http_status)
        retry = getattr(error, "retry_after_s", None)
        if retry is not None:
            response.headers["Retry-After"] = str(retry)
    security = request.app[CONFIG].security
    cookies.put(request, security, response, cookies.LOGIN_FORM, token, max_age=3600)
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    target = _target(request.query.get("next", "/"))
    if await session_of(request) is not None:
        raise web.HTTPFound(target)
    return _render(request, target)


async def login_submit(request: web.Request) -> web.StreamResponse:
    security = request.app[CONFIG].security
    if request.content_type != FORM_TYPE:
        unsupported = UnsupportedMediaType(_("Masuk hanya melalui formulir di halaman ini."))
        return _render(request, "/", unsupported)
    form = await request.post()
    target, username = _target(form.get("next")), ""
    try:
        expected = cookies.read(request, security, cookies.LOGIN_FORM) or ""
        if not expected or not hmac.compare_digest(str(form.get("csrf", "")), expected):
            raise ValidationError(
                _("Halaman masuk sudah kedaluwarsa; silakan isi sekali lagi."),
            )
        username = params.clean(form.get("username", ""), "username", max_len=100)
        password = params.clean(form.get("password", ""), "password")
        if not username or not password:
            raise ValidationError(_MISSING)
        found = await log_in(request, username, password)
    except BidroomError as exc:
        return _render(request, target, exc, username if isinstance(username, str) else "")
    response = web.Response(status=303, headers={"Location": target})
    cookies.put_login(request, security, response, found.token, found.device_cookie)
    cookies.drop(request, security, response, cookies.LOGIN_FORM)
    return response


_MISSING = _("Nama pengguna dan kata sandi wajib diisi.")


def setup(app: web.Application, context: Context) -> None:
    app[CONTEXT] = context
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
