"""Bodies and replies of logging in and out, who am I, my own password, the OpenAPI
document (:mod:`service.api.handlers.session`)."""

from __future__ import annotations

from typing import Any

from service.api import contract
from service.api.shapes.accounts import NewPassword
from service.auth import Role


class LoginIn(contract.Body):
    username: contract.Name
    password: contract.Password


class WhoOut(contract.Reply):
    """The staff member logged in; ``csrf`` goes back in X-CSRF-Token (null for a token)."""

    username: str
    name: str
    role: Role
    csrf: str | None


class LoggedOut(contract.Reply):
    ok: bool


class MyPasswordIn(contract.Body):
    current_password: contract.Password
    new_password: NewPassword


class OpenApiOut(contract.Reply):
    """An OpenAPI 3.1 document (its parts are OpenAPI's own objects)."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]
