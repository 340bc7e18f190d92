"""Routes declared once, with their roles and schema, for both aiohttp and OpenAPI.

A handler is registered with :func:`route`; :func:`setup_routes` adds every
declared route to the application and :func:`openapi_document` describes the very
same list, so the document cannot drift from the code (a test checks it too).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from service.api import contract
from service.auth import Role

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ALL_STAFF = (Role.FRONT_OFFICE, Role.HELPDESK, Role.HEAD, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    roles: tuple[Role, ...] | None  # None: no login needed
    body: type[contract.Body] | None = None
    query: type[contract.Query] | None = None
    reply: Any = None  # a Reply struct, list[...] of one, or None (no JSON body)
    status: int = 200
    response: str | tuple[str, ...] = "application/json"  # the media type(s) of a success
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A body that is not JSON (an image): its media types and their schemas.
    request_media: dict[str, Any] = field(default_factory=dict)
    # What the route checks that JSON Schema cannot say (a NIK's region and birth date,
    # a readable card in an image, one date before another): such input, valid by the
    # schema, is refused with 422 naming the field. In the document as x-checked-beyond.
    checked_beyond: str | None = None
    # Other answers than ``status`` that carry a reply of their own: {503: ReadyOut}.
    responses: dict[int, Any] = field(default_factory=dict)

    @property
    def body_required(self) -> bool:
        """A body is required when its struct has a field without a default."""
        if self.body is None:
            return False
        info = msgspec.inspect.type_info(self.body)
        assert isinstance(info, msgspec.inspect.StructType)
        return any(f.required for f in info.fields)


ROUTES: list[Route] = []
ROLES: dict[tuple[str, str], tuple[Role, ...] | None] = {}
DECLARED: dict[tuple[str, str], Route] = {}


def route(
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    roles: tuple[Role, ...] | None = ALL_STAFF,
    body: type[contract.Body] | None = None,
    query: type[contract.Query] | None = None,
    reply: Any = None,
    status: int = 200,
    response: str | tuple[str, ...] = "application/json",
    path_params: dict[str, dict[str, Any]] | None = None,
    request_media: dict[str, Any] | None = None,
    checked_beyond: str | None = None,
    responses: dict[int, Any] | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a route: who may call it, its body, query and reply types (see
    :mod:`service.api.contract`), its success status and media type."""

    def register(handler: Handler) -> Handler:
        declared = Route(
            method,
            path,
            handler,
            summary,
            tag,
            roles,
            body,
            query,
            reply,
            status,
            response,
            path_params or {},
            request_media or {},
            checked_beyond,
            responses or {},
        )
        ROUTES.append(declared)
        ROLES[(method, path)] = roles
        DECLARED[(method, path)] = declared
        return handler

    return register


def roles_of(method: str, path: str) -> tuple[Role, ...] | None:
    """Who may call a route (None: no login); an unknown route needs any staff login."""
    return ROLES.get((method, path), ALL_STAFF)


def declared(request: web.Request) -> Route | None:
    """The declaration of the route that matched ``request`` (None for one not declared)."""
    resource = request.match_info.route.resource
    if resource is None:
        return None
    return DECLARED.get((request.method, resource.canonical))


# What aiohttp matches a typed part of an address with (the document keeps ``{id}``):
# ``/visits/search`` is then not the visit ``search``, nor ``/archive/verify`` a day,
# and a 405's ``Allow`` names only the methods of the route that matched.
PATH_PATTERNS = {"id": "[0-9]+", "day": "[0-9]{4}-[0-9]{2}-[0-9]{2}"}


def aiohttp_path(path: str) -> str:
    return re.sub(
        r"{(\w+)}",
        lambda m: (
            f"{{{m.group(1)}:{PATH_PATTERNS[m.group(1)]}}}"
            if m.group(1) in PATH_PATTERNS
            else m.group(0)
        ),
        path,
    )


def setup_routes(app: web.Application) -> None:
    for r in ROUTES:
        app.router.add_route(r.method, aiohttp_path(r.path), r.handler)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
