"""Login, logout, who am I; staff and API tokens (admin); the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from service import auth
from service.api import params
from service.api.app import CONFIG, RUNTIME, SESSION_COOKIE, VERSION, now_of, principal
from service.api.routing import ALL_STAFF, openapi_document, route
from service.auth import Role
from service.errors import ValidationError


@route(
    "POST",
    "/api/v1/login",
    summary="Log in (sets the session cookie)",
    tag="session",
    roles=None,
    body={"username": "string!", "password": "string!"},
)
async def login(request: web.Request) -> web.Response:
    body = await params.json_body(request)
    runtime = request.app[RUNTIME]
    token, who = await auth.login(
        runtime.engine,
        params.text(body, "username"),
        params.text(body, "password"),
        now_of(request),
        request.app[CONFIG].security.session_hours,
    )
    response = web.json_response(
        {"username": who.username, "name": who.name, "role": who.role.value, "csrf": who.csrf}
    )
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="Strict", path="/", secure=request.secure
    )
    return response


@route("POST", "/api/v1/logout", summary="Log out", tag="session")
async def logout(request: web.Request) -> web.Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await auth.logout(request.app[RUNTIME].engine, cookie)
        request.app[RUNTIME].credentials.forget(cookie)
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@route("GET", "/api/v1/me", summary="The logged-in staff member", tag="session")
async def me(request: web.Request) -> web.Response:
    who = principal(request)
    return web.json_response(
        {"username": who.username, "name": who.name, "role": who.role.value, "csrf": who.csrf}
    )


@route("GET", "/api/v1/staff", summary="List staff accounts", tag="admin", roles=(Role.ADMIN,))
async def staff_list(request: web.Request) -> web.Response:
    return web.json_response(await auth.list_staff(request.app[RUNTIME].engine))


@route(
    "POST",
    "/api/v1/staff",
    summary="Add a staff account",
    tag="admin",
    roles=(Role.ADMIN,),
    body={"username": "string!", "name": "string!", "role": "string!", "password": "string!"},
)
async def staff_add(request: web.Request) -> web.Response:
    body = await params.json_body(request)
    try:
        role = Role(params.text(body, "role"))
    except ValueError:
        raise ValidationError("Peran tidak dikenal.", "Unknown role.", field="role") from None
    ident = await auth.add_staff(
        request.app[RUNTIME].engine,
        params.text(body, "username"),
        params.text(body, "name"),
        role,
        params.text(body, "password"),
        now_of(request),
    )
    return web.json_response({"id": ident}, status=201)


@route(
    "POST",
    "/api/v1/tokens",
    summary="Create a bearer token for a device or API client",
    tag="admin",
    roles=(Role.ADMIN,),
    body={"name": "string!", "role": "string!"},
)
async def token_add(request: web.Request) -> web.Response:
    body = await params.json_body(request)
    try:
        role = Role(params.text(body, "role"))
    except ValueError:
        raise ValidationError("Peran tidak dikenal.", "Unknown role.", field="role") from None
    token = await auth.create_token(
        request.app[RUNTIME].engine, params.text(body, "name"), role, now_of(request)
    )
    return web.json_response({"token": token}, status=201)


@route("GET", "/api/v1/openapi.json", summary="This document", tag="session", roles=None)
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(VERSION))


__all__ = ["ALL_STAFF"]
