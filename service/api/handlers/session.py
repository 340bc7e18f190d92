"""Log in and out, who am I, change my own password; the OpenAPI document.

``POST /api/v1/login`` takes JSON only (415 otherwise); the login page posts its own
form to ``/login`` (:mod:`web.login`), which ends in the same :func:`log_in`. Staff
accounts and tokens (admin) are in :mod:`service.api.handlers.accounts`.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from service import auth
from service.accounts import set_password
from service.api import contract, cookies, params
from service.api.app import CONFIG, RUNTIME, VERSION, now_of, principal
from service.api.openapi import openapi_document
from service.api.routing import ALL_STAFF, route
from service.api.shapes.session import LoggedOut, LoginIn, MyPasswordIn, OpenApiOut, WhoOut
from service.auth import Attempt, LoginResult
from service.errors import Forbidden
from service.i18n import _


async def log_in(request: web.Request, username: str, password: str) -> LoginResult:
    """Check a login (throttled) and end the session this browser had before, if any."""
    runtime, security = request.app[RUNTIME], request.app[CONFIG].security
    attempt = Attempt(
        username,
        password,
        cookies.client_address(request, security),
        cookies.read(request, security, cookies.DEVICE),
    )
    found = await auth.login(
        runtime.engine,
        runtime.credentials.login_gate,
        attempt,
        now_of(request),
        security,
        runtime.keys.derive("device-cookie"),
    )
    await _end_this_session(request)
    return found


async def _end_this_session(request: web.Request) -> None:
    cookie = cookies.read(request, request.app[CONFIG].security, cookies.SESSION)
    if cookie:
        await auth.logout(request.app[RUNTIME].engine, cookie)
        request.app[RUNTIME].credentials.forget(cookie)


def _who(who: auth.Principal) -> web.Response:
    return contract.reply(
        WhoOut(username=who.username, name=who.name, role=who.role, csrf=who.csrf)
    )


@route(
    "POST",
    "/api/v1/login",
    summary="Log in (sets the session cookie); throttled per account and client address",
    tag="session",
    roles=None,
    body=LoginIn,
    reply=WhoOut,
)
async def login(request: web.Request) -> web.Response:
    body = await params.body_of(request, LoginIn)
    found = await log_in(request, body.username, body.password)
    response = _who(found.principal)
    security = request.app[CONFIG].security
    cookies.put_login(request, security, response, found.token, found.device_cookie)
    return response


@route("POST", "/api/v1/logout", summary="Log out", tag="session", reply=LoggedOut)
async def logout(request: web.Request) -> web.Response:
    await _end_this_session(request)
    response = contract.reply(LoggedOut(ok=True))
    cookies.drop(request, request.app[CONFIG].security, response, cookies.SESSION)
    return response


@route("GET", "/api/v1/me", summary="The logged-in staff member", tag="session", reply=WhoOut)
async def me(request: web.Request) -> web.Response:
    return _who(principal(request))


@route(
    "POST",
    "/api/v1/me/password",
    summary="Change my own password (the current one again); every session of mine ends "
    "and this browser gets a new one",
    tag="session",
    roles=ALL_STAFF,
    body=MyPasswordIn,
    reply=WhoOut,
)
async def my_password(request: web.Request) -> web.Response:
    runtime, who, security = request.app[RUNTIME], principal(request), request.app[CONFIG].security
    body = await params.body_of(request, MyPasswordIn)
    current, new = body.current_password, body.new_password
    if who.staff_id is None or who.csrf is None:
        raise Forbidden(
            _("Kata sandi hanya dapat diganti dari sesi masuk petugas."),
        )
    now = now_of(request)
    address = cookies.client_address(request, security)
    await auth.reauthenticate(
        runtime.engine, runtime.credentials.login_gate, who, current, address, now, security
    )
    await set_password(runtime.engine, runtime.credentials, who.username, new, field="new_password")
    token, fresh = await auth.start_session(runtime.engine, who.staff_id, now, security)
    response = _who(fresh)
    cookies.put(request, security, response, cookies.SESSION, token)
    return response


@route(
    "GET",
    "/api/v1/openapi.json",
    summary="This document",
    tag="session",
    roles=None,
    reply=OpenApiOut,
)
async def openapi(request: web.Request) -> web.Response:
    return contract.reply(msgspec.convert(openapi_document(VERSION), OpenApiOut))
