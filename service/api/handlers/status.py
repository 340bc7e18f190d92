"""Status, live events (SSE) and the public queue display."""

from __future__ import annotations

import asyncio
import contextlib
import json

import msgspec
from aiohttp import web

from service.api import contract
from service.api.app import RUNTIME
from service.api.routing import route
from service.api.shapes.status import PublicQueueOut, QueueEvent, StatusEvent, StatusOut
from service.events import EventHub

# A named ping every second: the pages show a cut connection when it stops (common.js).
KEEPALIVE_S = 1.0
PING = b"event: ping\ndata: {}\n\n"


@route(
    "GET",
    "/api/v1/status",
    summary="Occupancy, facilities, queue, deposits, help, readers, anomalies, breaches",
    tag="status",
    reply=StatusOut,
)
async def status(request: web.Request) -> web.Response:
    return contract.reply(msgspec.convert(request.app[RUNTIME].status(), StatusOut))


async def _stream(request: web.Request, hub: EventHub, channel: str) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    client = hub.subscribe(channel)
    try:
        first = hub.render(channel)
        first.update({"changes": [], "sequence": hub.sequence})
        await response.write(
            f"retry: 1000\nevent: {channel}\ndata: {json.dumps(first, default=str)}\n\n".encode()
        )
        while not hub.closed:
            try:
                data = await asyncio.wait_for(client.queue.get(), KEEPALIVE_S)
            except TimeoutError:
                await response.write(PING)
                continue
            if hub.closed:
                break  # the daemon is stopping; the page reconnects by itself
            if client.overflowed:
                client.overflowed = False
                while not client.queue.empty():
                    data = client.queue.get_nowait()
            await response.write(f"event: {channel}\ndata: {data}\n\n".encode())
    except ConnectionResetError:
        pass  # the page went away
    finally:
        hub.unsubscribe(client)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
    return response


@route(
    "GET",
    "/api/v1/events",
    summary="Server-Sent Events: the status after every change",
    tag="status",
    reply=StatusEvent,
    response="text/event-stream",
)
async def events(request: web.Request) -> web.StreamResponse:
    return await _stream(request, request.app[RUNTIME].hub, "status")


@route(
    "GET",
    "/api/v1/queue/public",
    summary="Today's last five calls, the called and waiting numbers, no personal data (waiting-area display)",
    tag="queue",
    roles=None,
    reply=PublicQueueOut,
)
async def public_queue(request: web.Request) -> web.Response:
    return contract.reply(msgspec.convert(request.app[RUNTIME].public_queue(), PublicQueueOut))


@route(
    "GET",
    "/api/v1/queue/events",
    summary="Server-Sent Events for the queue display (no login, no personal data)",
    tag="queue",
    roles=None,
    reply=QueueEvent,
    response="text/event-stream",
)
async def queue_events(request: web.Request) -> web.StreamResponse:
    return await _stream(request, request.app[RUNTIME].hub, "queue")
