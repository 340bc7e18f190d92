"""The OpenAPI 3.1 document, built from the declared routes and their msgspec types.

Every request body, query and reply schema comes from the structs the handlers
decode and encode (:mod:`service.api.contract`), through
``msgspec.json.schema_components``: JSON Schema 2020-12, which OpenAPI 3.1 takes as it
is. Nothing here is written by hand except what is not a type: the error body, the
security schemes, the Idempotency-Key header and the path parameters.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from service.api import contract
from service.api.routing import ROUTES, UNSAFE_METHODS, Route

REF = "#/components/schemas/{name}"
ERROR_REF = {"$ref": REF.format(name="Problem")}


class Problem(contract.Reply):
    """An error: its code, and the message for a person in the asked language and both."""

    error: str
    message: str
    message_id: str
    message_en: str
    field: str | None = None


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
    "schema": {
        "type": "string",
        "format": "sf-string",
        "maxLength": 257,
        # An sf-string (RFC 8941 3.3.3) holding at least one character that is not a space.
        "pattern": r'^" *(?:[!#-\[\]-~]|\\["\\])(?:[ !#-\[\]-~]|\\["\\]){0,254}"$',
    },
}

# The parts of an address, by name; a route may say otherwise (``path_params=``).
PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "id": {"type": "integer", "minimum": 1, "maximum": contract.INT64_MAX},
    "day": {
        "type": "string",
        "format": "date",
        "description": "YYYY-MM-DD, from 2000-01-01 to one year after today",
    },
}
TEXT_PARAM: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 100,
    "pattern": contract.LINE,
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 1},
}


def _components() -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
    """The schema of every declared type, and the shared components they refer to."""
    types: list[Any] = [Problem]
    index: list[tuple[Route, str]] = []
    for r in ROUTES:
        for part in ("body", "query", "reply"):
            declared = getattr(r, part)
            if declared is not None:
                index.append((r, part))
                types.append(declared)
        for code, declared in r.responses.items():
            index.append((r, str(code)))
            types.append(declared)
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    for declared in types:  # the rules across fields (contract.Body.schema_rule)
        rule = getattr(declared, "schema_rule", None)
        if rule:
            components[declared.__name__].update(rule)
    per_route: dict[tuple[str, str], dict[str, Any]] = {}
    for (r, part), schema in zip(index, schemas[1:], strict=True):
        per_route.setdefault((r.method, r.path), {})[part] = schema
    return per_route, components


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return components[ref.rsplit("/", 1)[-1]] if ref else schema


def _query_parameters(schema: dict[str, Any], components: dict[str, Any]) -> list[Any]:
    struct = _resolve(schema, components)
    required = set(struct.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k not in ("title", "default")},
        }
        for name, prop in struct.get("properties", {}).items()
    ]


def _responses(r: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "OK"}
    media = (r.response,) if isinstance(r.response, str) else r.response
    if "reply" in schemas:
        success["content"] = {m: {"schema": schemas["reply"]} for m in media}
    elif r.status != 204:
        content: dict[str, Any] = {}
        for m in media:
            kind = {"type": "string"}
            if not m.startswith("text/"):
                kind["format"] = "binary"
            content[m] = {"schema": kind}
        success["content"] = content
    error = {"description": "Refused", "content": {"application/json": {"schema": ERROR_REF}}}
    responses: dict[str, Any] = {str(r.status): success, "4XX": error}
    for code in r.responses:  # a route's other answers with a reply of their own
        other: dict[str, Any] = {
            "description": "See the summary",
            "content": {"application/json": {"schema": schemas[str(code)]}},
        }
        if code in (429, 503):
            other["headers"] = {"Retry-After": RETRY_AFTER}
        responses[str(code)] = other
    if r.roles is not None:
        responses["503"] = {
            "description": "The database is unavailable or the daemon is busy: try again",
            "headers": {"Retry-After": RETRY_AFTER},
            "content": {"application/json": {"schema": ERROR_REF}},
        }
    return responses


def _operation(r: Route, schemas: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": r.summary,
        "tags": [r.tag],
        "operationId": f"{r.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', r.path.lower())}",
        "responses": _responses(r, schemas),
    }
    if r.checked_beyond:
        op["x-checked-beyond"] = r.checked_beyond
        op["description"] = (
            f"Checked beyond this schema (422 naming the field): {r.checked_beyond}."
        )
    if r.roles is not None:
        op["security"] = [{"session": []}, {"bearer": []}]
        op["x-roles"] = [role.value for role in r.roles]
    else:
        op["security"] = []
    parameters: list[Any] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": r.path_params.get(name) or PATH_SCHEMAS.get(name, TEXT_PARAM),
        }
        for name in re.findall(r"{(\w+)}", r.path)
    ]
    if "query" in schemas:
        parameters += _query_parameters(schemas["query"], components)
    if r.roles is not None and r.method in UNSAFE_METHODS:
        parameters.append(
            IDEMPOTENCY_KEY
        )  # inline: schemathesis' coverage phase ignores a $ref's pattern
        op["responses"]["409"] = {"$ref": "#/components/responses/IdempotencyKeyInFlight"}
        op["responses"]["422"] = {"$ref": "#/components/responses/IdempotencyKeyReused"}
    if parameters:
        op["parameters"] = parameters
    if r.request_media:
        op["requestBody"] = {
            "required": False,
            "content": {m: {"schema": schema} for m, schema in r.request_media.items()},
        }
    if "body" in schemas:
        op["requestBody"] = {
            "required": r.body_required,
            "content": {"application/json": {"schema": schemas["body"]}},
        }
    return op


def openapi_document(version: str) -> dict[str, Any]:
    per_route, components = _components()
    paths: dict[str, Any] = {}
    for r in ROUTES:
        op = _operation(r, per_route.get((r.method, r.path), {}), components)
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "bidroom API",
            "version": version,
            "description": "Access-control and visit service of an LPSE bidding room.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
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
        },
    }
