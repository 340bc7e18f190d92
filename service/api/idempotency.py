"""The ``Idempotency-Key`` middleware: every state-changing API route honours the header.

A request without the header passes straight through (one dictionary look-up): the
readers' ``POST /api/v1/taps`` is idempotent by ``event_id`` already and pays
nothing. Routes that need no login (the login itself) ignore the header, so a
replay can never hand out someone's session cookie. The rules and the store are in
:mod:`service.idempotency`; this module only maps them onto aiohttp.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from service.api import body as bodies
from service.api.app import PRINCIPAL_KEY, RUNTIME, error_response
from service.api.routing import UNSAFE_METHODS
from service.auth import Principal
from service.errors import BidroomError
from service.idempotency import HEADER, Answer, IdempotencyKeys, Request, fingerprint, parse_key

KEYS = web.AppKey("idempotency_keys", IdempotencyKeys)
REPLAYED = "Idempotent-Replayed"
# Answers larger than this are not kept (none of the API's JSON answers comes close).
MAX_STORED_BYTES = 1024 * 1024


async def keys_ctx(app: web.Application) -> AsyncIterator[None]:
    """After the runtime's context: the keys live in the runtime's database."""
    runtime = app[RUNTIME]
    app[KEYS] = IdempotencyKeys(runtime.engine, runtime.clock, runtime.keys.derive("idempotency"))
    yield


def _scope(who: Principal) -> str:
    """Keys are per sender: a staff member, or a token without one."""
    return f"staff:{who.staff_id}" if who.staff_id is not None else f"token:{who.username}"


def _json(request: web.Request) -> bool:
    kind = request.content_type.lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _replay(answer: Answer) -> web.Response:
    content_type, _, charset = answer.content_type.partition("; charset=")
    return web.Response(
        status=answer.status,
        body=answer.body,
        content_type=content_type or None,
        charset=charset or None,
        headers={REPLAYED: "true"},
    )


def _keepable(response: web.StreamResponse) -> Answer | None:
    """The answer to store, or None for one a retry should not get again."""
    if not isinstance(response, web.Response) or response.status >= 500 or response.cookies:
        return None
    body = response.body
    if not isinstance(body, bytes) or len(body) > MAX_STORED_BYTES:
        return None
    return Answer(response.status, response.headers.get("Content-Type", ""), body)


@web.middleware
async def idempotency_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    raw = request.headers.get(HEADER)
    if raw is None or request.method not in UNSAFE_METHODS:
        return await handler(request)
    if request.match_info.http_exception is not None:  # 404 or 405 (with Allow) first
        return await handler(request)
    who = request.get(PRINCIPAL_KEY)
    if who is None or not request.path.startswith("/api/"):
        return await handler(request)
    key = parse_key(raw)
    body = b""
    if request.body_exists:
        if not _json(request):  # an image sent to be read (identity scan) changes nothing
            return await handler(request)
        body = await bodies.read_limited(request)
    req = Request(
        principal=_scope(who),
        key=key,
        method=request.method,
        path=request.path_qs,
        digest=fingerprint(request.method, request.path_qs, body),
    )
    keys = request.app[KEYS]
    stored = await keys.begin(req)
    if stored is not None:
        return _replay(stored)
    try:
        try:
            response = await handler(request)
        except BidroomError as exc:  # a refusal is an answer too: the retry gets it again
            response = error_response(request, exc)
    except BaseException:
        with contextlib.suppress(Exception):
            await keys.release(req)
        raise
    answer = _keepable(response)
    if answer is None:
        await keys.release(req)
    else:
        await keys.finish(req, answer)
    return response
