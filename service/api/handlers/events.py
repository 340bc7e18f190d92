"""Events and alarms, doors: the operator screens of the access-control system.

``GET /api/v1/events/log`` lists a day's taps and door/reader events; alarms stay
open until a staff member acknowledges them with a note; the Head and admins may
open a door by hand (*buka pintu*) with a reason. Open alarms and the door tiles
are also in ``GET /api/v1/status`` (``alarms``, ``doors``), live over SSE.
"""

from __future__ import annotations

from aiohttp import web

from devices import simulated
from devices.base import DeviceError
from service import event_log
from service.api import params
from service.api.app import RUNTIME, lang_of, now_of, principal
from service.api.routing import route
from service.auth import Role
from service.domain import alarms
from service.doors import alarm_view, output_of
from service.errors import Conflict, NotFound, Unavailable
from service.i18n import _, _p

UNLOCK_ROLES = (Role.HEAD, Role.ADMIN)
NOTE_LABEL = _p("api.handlers.events:NOTE_LABEL", "Catatan penanganan")
REASON_LABEL = _p("api.handlers.events:REASON_LABEL", "Alasan membuka pintu")


@route(
    "GET",
    "/api/v1/events/log",
    summary="A day's taps (granted or denied, with the reason) and door/reader events",
    tag="events",
    params={
        "day": "YYYY-MM-DD (default today)",
        "reader": "only this reader",
        "event": "only this kind: " + ", ".join(event_log.KINDS),
    },
)
async def log(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    query = request.query
    today = runtime.policy.day_of(now_of(request))
    day = params.a_date(query.get("day"), "day", today)
    reader = params.text(query, "reader", required=False, max_len=100) or None
    if reader is not None and reader not in runtime.policy.readers:
        raise NotFound(
            _("Pembaca kartu '{reader}' tidak terdaftar.", reader=reader),
            field="reader",
        )
    kind = params.text(query, "event", required=False, max_len=40) or None
    if kind is not None and kind not in event_log.KINDS:
        raise params.invalid("event", _("{label} tidak dikenal."), field="event")
    items = await event_log.day_log(
        runtime.engine,
        runtime.policy,
        runtime.state,
        day,
        lang_of(request),
        reader=reader,
        kind=kind,
    )
    return web.json_response({"day": day.isoformat(), "count": len(items), "events": items})


@route("GET", "/api/v1/alarms", summary="Open alarms, and today's acknowledged ones", tag="events")
async def list_alarms(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    start = runtime.policy.day_bounds(runtime.policy.day_of(now_of(request)))[0]
    shown = [a for a in runtime.state.alarms.values() if a.acked_at is None or a.at >= start]
    shown.sort(key=lambda a: a.id, reverse=True)
    return web.json_response({"alarms": [alarm_view(a) for a in shown]})


@route(
    "POST",
    "/api/v1/alarms/{id}/ack",
    summary="Acknowledge an alarm with a note of what was done (journaled: who, when, note)",
    tag="events",
    body={"note": "string!"},
)
async def acknowledge(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    alarm_id = params.path_int(request, "id")
    body = await params.json_body(request)
    note = params.text(body, "note", max_len=alarms.NOTE_MAX, label=NOTE_LABEL)
    actor, now = principal(request).actor, now_of(request)
    alarm = await runtime.execute(lambda tx: alarms.acknowledge(tx, alarm_id, note, now, actor))
    return web.json_response(alarm_view(alarm))


@route(
    "GET",
    "/api/v1/doors",
    summary="A tile per door: its state and whether it can be opened",
    tag="events",
)
async def doors(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return web.json_response({"doors": runtime.doors.tiles(runtime.clock(), runtime.adapters())})


@route(
    "POST",
    "/api/v1/doors/{reader}/unlock",
    summary="Buka pintu: open a door for a moment, with a reason (journaled); Head and admin",
    tag="events",
    roles=UNLOCK_ROLES,
    body={"reason": "string!", "seconds": "number"},
)
async def unlock(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    reader = params.path_text(request, "reader", field="reader")
    body = await params.json_body(request)
    reason = params.text(body, "reason", max_len=alarms.REASON_MAX, label=REASON_LABEL)
    seconds = runtime.policy.door_open_s
    if body.get("seconds") not in (None, ""):
        seconds = float(
            params.integer(body["seconds"], "seconds", minimum=1, maximum=int(alarms.UNLOCK_MAX_S))
        )
    if reader not in {r.name for r in runtime.doors.doors}:
        raise NotFound(_("Pintu '{reader}' tidak ada.", reader=reader), field="reader")
    output = output_of(runtime.adapters(), reader)
    if output is None or not runtime.health[reader].as_dict()["online"]:
        raise Conflict(
            _(
                "Pintu {reader} tidak dapat dibuka sekarang: pembacanya luring atau tidak mempunyai keluaran kunci pintu.",
                reader=reader,
            ),
        )
    actor, now = principal(request).actor, now_of(request)
    await runtime.execute(lambda tx: alarms.unlock_door(tx, reader, reason, seconds, now, actor))
    try:
        await output.unlock(reader, seconds)
    except (DeviceError, LookupError) as exc:
        raise Unavailable(
            _(
                "Buka pintu tercatat, tetapi pintu {reader} tidak menjawab. Periksa pintunya.",
                reader=reader,
            ),
        ) from exc
    return web.json_response({"reader": reader, "seconds": seconds, "unlocked": True})


@route(
    "POST",
    "/api/v1/readers/{name}/simulate-door",
    summary="Demo: a simulated (sim:) door reader reports a door event (forced_open, tamper …)",
    tag="events",
    body={"event": "string!"},
)
async def simulate_door(request: web.Request) -> web.Response:
    reader = params.path_text(request, "name", field="reader")
    body = await params.json_body(request)
    kind = params.choice(body, "event", sorted(simulated.DOOR_EVENTS), "")
    if not simulated.is_running(reader):
        raise NotFound(
            _("Pembaca '{reader}' bukan pembaca simulasi yang sedang berjalan.", reader=reader),
            field="reader",
        )
    await simulated.simulate_door_event(reader, kind)
    return web.json_response({"reader": reader, "event": kind})
