"""The administrator's accounts, tokens and login locks.

A change that gives access (a new account, a password, a role, a token) asks a
session for its own password again (``current_password``, ASVS V3.7.1); one that
takes access away (disable, revoke) or lifts a lock does not, so it is quick in an
incident. A bearer token with the admin role is itself the credential and is not
asked. Every change to an account ends its sessions (:mod:`service.accounts`).
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from service import accounts, auth, throttle, tokens
from service.api import contract, cookies, params
from service.api.app import CONFIG, RUNTIME, now_of, principal
from service.api.routing import route
from service.api.shapes.accounts import (
    USERNAME_PARAM,
    LockLiftIn,
    LockLiftOut,
    LockOut,
    StaffActiveOut,
    StaffCreated,
    StaffIn,
    StaffOut,
    StaffPasswordIn,
    StaffPasswordOut,
    StaffRoleIn,
    StaffRoleOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    TokenRevoked,
)
from service.auth import Role
from service.i18n import _

ADMIN = (Role.ADMIN,)
BY_USERNAME = {"username": USERNAME_PARAM}


async def _reauthenticate(request: web.Request, current_password: str | None) -> None:
    who = principal(request)
    if who.csrf is None:  # a bearer token: nothing to ask again
        return
    if not current_password:
        raise params.invalid("current_password", _("{label} wajib diisi."))
    runtime, security = request.app[RUNTIME], request.app[CONFIG].security
    await auth.reauthenticate(
        runtime.engine,
        runtime.credentials.login_gate,
        who,
        current_password,
        cookies.client_address(request, security),
        now_of(request),
        security,
    )


def _username(request: web.Request) -> str:
    return params.path_text(request, "username", max_len=60)


@route(
    "GET",
    "/api/v1/staff",
    summary="List staff accounts",
    tag="admin",
    roles=ADMIN,
    reply=list[StaffOut],
)
async def staff_list(request: web.Request) -> web.Response:
    found = await auth.list_staff(request.app[RUNTIME].engine)
    return contract.reply(msgspec.convert(found, list[StaffOut]))


@route(
    "POST",
    "/api/v1/staff",
    summary="Add a staff account (the admin's own password again)",
    tag="admin",
    roles=ADMIN,
    body=StaffIn,
    reply=StaffCreated,
    status=201,
)
async def staff_add(request: web.Request) -> web.Response:
    body = await params.body_of(request, StaffIn)
    role = accounts.staff_role(body.role)
    await _reauthenticate(request, body.current_password)
    runtime = request.app[RUNTIME]
    ident = await auth.add_staff(
        runtime.engine, body.username, body.name, role, body.password, now_of(request)
    )
    return contract.reply(StaffCreated(id=ident), status=201)


async def _set_active(request: web.Request, active: bool) -> web.Response:
    runtime, username = request.app[RUNTIME], _username(request)
    ended = await accounts.set_active(runtime.engine, runtime.credentials, username, active)
    return contract.reply(StaffActiveOut(username=username, active=active, sessions_ended=ended))


@route(
    "POST",
    "/api/v1/staff/{username}/disable",
    summary="Disable a staff account; its sessions end",
    tag="admin",
    roles=ADMIN,
    reply=StaffActiveOut,
    path_params=BY_USERNAME,
)
async def staff_disable(request: web.Request) -> web.Response:
    return await _set_active(request, False)


@route(
    "POST",
    "/api/v1/staff/{username}/enable",
    summary="Enable a staff account",
    tag="admin",
    roles=ADMIN,
    reply=StaffActiveOut,
    path_params=BY_USERNAME,
)
async def staff_enable(request: web.Request) -> web.Response:
    return await _set_active(request, True)


@route(
    "POST",
    "/api/v1/staff/{username}/password",
    summary="Reset a staff member's password (the admin's own password again); their sessions end",
    tag="admin",
    roles=ADMIN,
    body=StaffPasswordIn,
    reply=StaffPasswordOut,
    path_params=BY_USERNAME,
)
async def staff_password(request: web.Request) -> web.Response:
    runtime, username = request.app[RUNTIME], _username(request)
    body = await params.body_of(request, StaffPasswordIn)
    await _reauthenticate(request, body.current_password)
    ended = await accounts.set_password(
        runtime.engine, runtime.credentials, username, body.new_password, field="new_password"
    )
    return contract.reply(StaffPasswordOut(username=username, sessions_ended=ended))


@route(
    "POST",
    "/api/v1/staff/{username}/role",
    summary="Change a staff member's role (the admin's own password again); their sessions end",
    tag="admin",
    roles=ADMIN,
    body=StaffRoleIn,
    reply=StaffRoleOut,
    path_params=BY_USERNAME,
)
async def staff_role(request: web.Request) -> web.Response:
    runtime, username = request.app[RUNTIME], _username(request)
    body = await params.body_of(request, StaffRoleIn)
    role = accounts.staff_role(body.role)
    await _reauthenticate(request, body.current_password)
    ended = await accounts.set_role(runtime.engine, runtime.credentials, username, role)
    return contract.reply(StaffRoleOut(username=username, role=role, sessions_ended=ended))


@route(
    "GET",
    "/api/v1/login-locks",
    summary="Locked accounts, client addresses and browsers, and those counting failed logins",
    tag="admin",
    roles=ADMIN,
    reply=list[LockOut],
)
async def lock_list(request: web.Request) -> web.Response:
    found = await throttle.locks(request.app[RUNTIME].engine, now_of(request))
    return contract.reply(msgspec.convert(found, list[LockOut]))


@route(
    "POST",
    "/api/v1/login-locks/lift",
    summary="Lift the login lock of an account, a client address or a browser",
    tag="admin",
    roles=ADMIN,
    body=LockLiftIn,
    reply=LockLiftOut,
)
async def lock_lift(request: web.Request) -> web.Response:
    body = await params.body_of(request, LockLiftIn)
    engine = request.app[RUNTIME].engine
    lifted = await accounts.unlock(engine, body.account, body.address, body.device)
    return contract.reply(LockLiftOut(lifted=lifted))


@route(
    "GET",
    "/api/v1/tokens",
    summary="List bearer tokens (never their secret)",
    tag="admin",
    roles=ADMIN,
    reply=list[TokenOut],
)
async def token_list(request: web.Request) -> web.Response:
    found = await tokens.list_tokens(request.app[RUNTIME].engine)
    return contract.reply(msgspec.convert(found, list[TokenOut]))


@route(
    "POST",
    "/api/v1/tokens",
    summary="Create a bearer token for a device (bound to its readers) or an API client "
    "(the admin's own password again)",
    tag="admin",
    roles=ADMIN,
    body=TokenIn,
    reply=TokenCreated,
    status=201,
)
async def token_add(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.body_of(request, TokenIn)
    role = Role(body.role)  # a plain str once the body is trimmed
    wanted = [reader.strip() for reader in body.readers]
    readers = tokens.check_readers(role, wanted, runtime.policy.readers)
    await _reauthenticate(request, body.current_password)
    token = await tokens.create_token(
        runtime.engine, body.name, role, now_of(request), readers=readers or None
    )
    return contract.reply(
        TokenCreated(token=token, name=body.name, role=role, readers=readers), status=201
    )


@route(
    "POST",
    "/api/v1/tokens/{name}/revoke",
    summary="Revoke a bearer token by name (refused everywhere within a second)",
    tag="admin",
    roles=ADMIN,
    reply=TokenRevoked,
)
async def token_revoke(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    name = params.path_text(request, "name", max_len=100, field="name")
    revoked = await tokens.revoke_token(
        runtime.engine, runtime.credentials, name, now_of(request), who.actor
    )
    return contract.reply(TokenRevoked(name=name, revoked=revoked))
