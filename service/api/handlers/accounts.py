"""The administrator's accounts, tokens and login locks.

A change that gives access (a new account, a password, a role, a token) asks a
session for its own password again (``current_password``, ASVS V3.7.1); one that
takes access away (disable, revoke) or lifts a lock does not, so it is quick in an
incident. A bearer token with the admin role is itself the credential and is not
asked. Every change to an account ends its sessions (:mod:`service.accounts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from service import accounts, auth, throttle, tokens
from service.api import cookies, params
from service.api.app import CONFIG, RUNTIME, now_of, principal
from service.api.routing import route
from service.auth import Role
from service.errors import ValidationError
from service.i18n import _

ADMIN = (Role.ADMIN,)


async def _reauthenticate(request: web.Request, body: Mapping[str, Any]) -> None:
    who = principal(request)
    if who.csrf is None:  # a bearer token: nothing to ask again
        return
    runtime, security = request.app[RUNTIME], request.app[CONFIG].security
    await auth.reauthenticate(
        runtime.engine,
        runtime.credentials,
        who,
        params.text(body, "current_password"),
        cookies.client_address(request, security),
        now_of(request),
        security,
    )


def _username(request: web.Request) -> str:
    return params.path_text(request, "username", max_len=60)


@route("GET", "/api/v1/staff", summary="List staff accounts", tag="admin", roles=ADMIN)
async def staff_list(request: web.Request) -> web.Response:
    return web.json_response(await auth.list_staff(request.app[RUNTIME].engine))


@route(
    "POST",
    "/api/v1/staff",
    summary="Add a staff account (the admin's own password again)",
    tag="admin",
    roles=ADMIN,
    body={
        "username": "string!",
        "name": "string!",
        "role": "string!",
        "password": "string!",
        "current_password": "string",
    },
)
async def staff_add(request: web.Request) -> web.Response:
    body = await params.json_body(request)
    role = accounts.staff_role(params.text(body, "role"))
    username, name = params.text(body, "username", max_len=60), params.text(body, "name")
    password = params.text(body, "password")
    await _reauthenticate(request, body)
    runtime = request.app[RUNTIME]
    ident = await auth.add_staff(runtime.engine, username, name, role, password, now_of(request))
    return web.json_response({"id": ident}, status=201)


async def _set_active(request: web.Request, active: bool) -> web.Response:
    runtime, username = request.app[RUNTIME], _username(request)
    ended = await accounts.set_active(runtime.engine, runtime.credentials, username, active)
    return web.json_response({"username": username, "active": active, "sessions_ended": ended})


@route(
    "POST",
    "/api/v1/staff/{username}/disable",
    summary="Disable a staff account; its sessions end",
    tag="admin",
    roles=ADMIN,
)
async def staff_disable(request: web.Request) -> web.Response:
    return await _set_active(request, False)


@route(
    "POST",
    "/api/v1/staff/{username}/enable",
    summary="Enable a staff account",
    tag="admin",
    roles=ADMIN,
)
async def staff_enable(request: web.Request) -> web.Response:
    return await _set_active(request, True)


@route(
    "POST",
    "/api/v1/staff/{username}/password",
    summary="Reset a staff member's password (the admin's own password again); their sessions end",
    tag="admin",
    roles=ADMIN,
    body={"new_password": "string!", "current_password": "string"},
)
async def staff_password(request: web.Request) -> web.Response:
    runtime, username = request.app[RUNTIME], _username(request)
    body = await params.json_body(request)
    password = params.text(body, "new_password")
    await _reauthenticate(request, body)
    ended = await accounts.set_password(
        runtime.engine, runtime.credentials, username, password, field="new_password"
    )
    return web.json_response({"username": username, "sessions_ended": ended})


@route(
    "POST",
    "/api/v1/staff/{username}/role",
    summary="Change a staff member's role (the admin's own password again); their sessions end",
    tag="admin",
    roles=ADMIN,
    body={"role": "string!", "current_password": "string"},
)
async def staff_role(request: web.Request) -> web.Response:
    runtime, username = request.app[RUNTIME], _username(request)
    body = await params.json_body(request)
    role = accounts.staff_role(params.text(body, "role"))
    await _reauthenticate(request, body)
    ended = await accounts.set_role(runtime.engine, runtime.credentials, username, role)
    return web.json_response({"username": username, "role": role.value, "sessions_ended": ended})


@route(
    "GET",
    "/api/v1/login-locks",
    summary="Locked accounts, client addresses and browsers, and those counting failed logins",
    tag="admin",
    roles=ADMIN,
)
async def lock_list(request: web.Request) -> web.Response:
    return web.json_response(await throttle.locks(request.app[RUNTIME].engine, now_of(request)))


@route(
    "POST",
    "/api/v1/login-locks/lift",
    summary="Lift the login lock of an account, a client address or a browser",
    tag="admin",
    roles=ADMIN,
    body={"account": "string", "address": "string", "device": "string"},
)
async def lock_lift(request: web.Request) -> web.Response:
    body = await params.json_body(request)
    account = params.opt_text(body, "account", 100)
    address, device = params.opt_text(body, "address", 64), params.opt_text(body, "device", 64)
    lifted = await accounts.unlock(request.app[RUNTIME].engine, account, address, device)
    return web.json_response({"lifted": lifted})


@route(
    "GET",
    "/api/v1/tokens",
    summary="List bearer tokens (never their secret)",
    tag="admin",
    roles=ADMIN,
)
async def token_list(request: web.Request) -> web.Response:
    return web.json_response(await tokens.list_tokens(request.app[RUNTIME].engine))


def _readers(body: Mapping[str, Any]) -> list[str]:
    value = body.get("readers", [])
    if not isinstance(value, list) or len(value) > tokens.MAX_READERS:
        raise params.invalid("readers", _("{label} harus berupa daftar nama."))
    return [params.clean(v, "readers", max_len=100) for v in value]


@route(
    "POST",
    "/api/v1/tokens",
    summary="Create a bearer token for a device (bound to its readers) or an API client "
    "(the admin's own password again)",
    tag="admin",
    roles=ADMIN,
    body={"name": "string!", "role": "string!", "readers": "array", "current_password": "string"},
)
async def token_add(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    name = params.text(body, "name", max_len=100)
    try:
        role = Role(params.text(body, "role"))
    except ValueError:
        raise ValidationError(_("Peran tidak dikenal."), field="role") from None
    readers = tokens.check_readers(role, _readers(body), runtime.policy.readers)
    await _reauthenticate(request, body)
    token = await tokens.create_token(
        runtime.engine, name, role, now_of(request), readers=readers or None
    )
    return web.json_response(
        {"token": token, "name": name, "role": role.value, "readers": readers}, status=201
    )


@route(
    "POST",
    "/api/v1/tokens/{name}/revoke",
    summary="Revoke a bearer token by name (refused everywhere within a second)",
    tag="admin",
    roles=ADMIN,
)
async def token_revoke(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    name = params.path_text(request, "name", max_len=100, field="name")
    revoked = await tokens.revoke_token(
        runtime.engine, runtime.credentials, name, now_of(request), who.actor
    )
    return web.json_response({"name": name, "revoked": revoked})
