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

from aiohttp import web

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
    body: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    response: str = "application/json"

    @property
    def body_required(self) -> bool:
        """A body is required when it declares a required field (``"name": "string!"``)."""
        return self.body is not None and any(spec.endswith("!") for spec in self.body.values())


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
    body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    response: str = "application/json",
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        declared = Route(method, path, handler, summary, tag, roles, body, params or {}, response)
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


def setup_routes(app: web.Application) -> None:
    for r in ROUTES:
        app.router.add_route(r.method, r.path, r.handler)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERROR_REF = {"$ref": "#/components/schemas/Error"}
# draft-ietf-httpapi-idempotency-key-header; the rules are in service/idempotency.py.
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "An RFC 8941 String unique per user action, e.g. "
        '"8e03978e-40d5-43e8-bc93-6894a57f9324". A retry with the same key and the same '
        "method, path and body within 24 hours gets the first answer again "
        "(Idempotent-Replayed: true) and changes nothing; the same key with another "
        "request: 422; while the first is still being answered: the retry waits for its "
        "answer, or 409. A malformed key: 400. Keys are per user (or token), kept 24 "
        "hours; 5xx answers are not kept."
    ),
    "schema": {"type": "string", "maxLength": 257},
}

JSON_TYPES = ("string", "integer", "boolean", "number", "array", "object")


def _schema(body: dict[str, Any]) -> dict[str, Any]:
    """``{"name": "string!", "at": "date-time"}``: a trailing ``!`` marks required."""
    props: dict[str, Any] = {}
    required = []
    for name, spec in body.items():
        kind = spec.rstrip("!")
        if spec.endswith("!"):
            required.append(name)
        props[name] = {"type": kind} if kind in JSON_TYPES else {"type": "string", "format": kind}
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def openapi_document(version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for r in ROUTES:
        op: dict[str, Any] = {
            "summary": r.summary,
            "tags": [r.tag],
            "operationId": f"{r.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', r.path.lower())}",
            "responses": {
                "200": {"description": "OK", "content": {r.response: {}}},
                "4XX": {
                    "description": "Error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
        if r.roles is not None:
            op["security"] = [{"session": []}, {"bearer": []}]
            op["x-roles"] = [role.value for role in r.roles]
        else:
            op["security"] = []
        parameters = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in re.findall(r"{(\w+)}", r.path)
        ]
        parameters += [
            {
                "name": n,
                "in": "query",
                "required": False,
                "description": d,
                "schema": {"type": "string"},
            }
            for n, d in r.params.items()
        ]
        if r.roles is not None and r.method in UNSAFE_METHODS:
            parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
            op["responses"]["409"] = {"$ref": "#/components/responses/IdempotencyKeyInFlight"}
            op["responses"]["422"] = {"$ref": "#/components/responses/IdempotencyKeyReused"}
        if parameters:
            op["parameters"] = parameters
        if r.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(r.body)}},
            }
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "bidroom API",
            "version": version,
            "description": "Access-control and visit service of an LPSE bidding room.",
        },
        "paths": paths,
        "components": {
            "parameters": {"IdempotencyKey": IDEMPOTENCY_KEY},
            "responses": {
                "IdempotencyKeyInFlight": {
                    "description": "A request with this Idempotency-Key is still being answered",
                    "content": {"application/json": {"schema": ERROR_REF}},
                },
                "IdempotencyKeyReused": {
                    "description": "Invalid input, or this Idempotency-Key was used for "
                    "another request (method, path or body)",
                    "content": {"application/json": {"schema": ERROR_REF}},
                },
            },
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "bidroom_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "message_id": {"type": "string"},
                        "message_en": {"type": "string"},
                        "field": {"type": "string"},
                    },
                }
            },
        },
    }
