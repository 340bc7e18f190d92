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
from service.api import contract, params
from service.api.app import RUNTIME, lang_of, now_of, principal
from service.api.routing import route
from service.api.shapes.events import (
    AckIn,
    AlarmList,
    AlarmOut,
    DoorList,
    EventLog,
    LogEvent,
    LogQuery,
    SimulateIn,
    SimulateOut,
    UnlockIn,
    UnlockOut,
)
from service.api.shapes.ops import body_of, shaped
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
    query=LogQuery,
    reply=EventLog,
)
async def log(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    query = params.query_of(request, LogQuery)
    today = runtime.policy.day_of(now_of(request))
    day = params.bounded_date(query.day, "day", today)
    reader = query.reader or None
    if reader is not None and reader not in runtime.policy.readers:
        # Not echoed: a query may carry anything (bytes that are not UTF-8 arrive as
        # U+FFFD); the filter's list on the page names the readers there are.
        raise NotFound(_("Pembaca kartu itu tidak terdaftar di ruangan ini."), field="reader")
    kind = query.event
    items = await event_log.day_log(
        runtime.engine,
        runtime.policy,
        runtime.state,
        day,
        lang_of(request),
        reader=reader,
        kind=kind,
    )
    events = shaped(items, list[LogEvent])
    return contract.reply(EventLog(day=day, count=len(events), events=events))


@route(
    "GET",
    "/api/v1/alarms",
    summary="Open alarms, and today's acknowledged ones",
    tag="events",
    reply=AlarmList,
)
async def list_alarms(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    start = runtime.policy.day_bounds(runtime.policy.day_of(now_of(request)))[0]
    shown = [a for a in runtime.state.alarms.values() if a.acked_at is None or a.at >= start]
    shown.sort(key=lambda a: a.id, reverse=True)
    return contract.reply(AlarmList(alarms=shaped([alarm_view(a) for a in shown], list[AlarmOut])))


@route(
    "POST",
    "/api/v1/alarms/{id}/ack",
    summary="Acknowledge an alarm with a note of what was done (journaled: who, when, note)",
    tag="events",
    body=AckIn,
    reply=AlarmOut,
)
async def acknowledge(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    alarm_id = params.path_int(request, "id")
    note = (await body_of(request, AckIn, {"note": NOTE_LABEL})).note
    actor, now = principal(request).actor, now_of(request)
    alarm = await runtime.execute(lambda tx: alarms.acknowledge(tx, alarm_id, note, now, actor))
    return contract.reply(shaped(alarm_view(alarm), AlarmOut))


@route(
    "GET",
    "/api/v1/doors",
    summary="A tile per door: its state and whether it can be opened",
    tag="events",
    reply=DoorList,
)
async def doors(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    tiles = runtime.doors.tiles(runtime.clock(), runtime.adapters())
    return contract.reply(shaped({"doors": tiles}, DoorList))


@route(
    "POST",
    "/api/v1/doors/{reader}/unlock",
    summary="Buka pintu: open a door for a moment, with a reason (journaled); Head and admin",
    tag="events",
    roles=UNLOCK_ROLES,
    body=UnlockIn,
    reply=UnlockOut,
)
async def unlock(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    reader = params.path_text(request, "reader", field="reader")
    body = await body_of(request, UnlockIn, {"reason": REASON_LABEL})
    reason = body.reason
    seconds = runtime.policy.door_open_s if body.seconds is None else float(body.seconds)
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
    return contract.reply(UnlockOut(reader=reader, seconds=seconds, unlocked=True))


@route(
    "POST",
    "/api/v1/readers/{name}/simulate-door",
    summary="Demo: a simulated (sim:) door reader reports a door event (forced_open, tamper …)",
    tag="events",
    body=SimulateIn,
    reply=SimulateOut,
)
async def simulate_door(request: web.Request) -> web.Response:
    reader = params.path_text(request, "name", field="reader")
    kind = (await body_of(request, SimulateIn)).event
    if not simulated.is_running(reader):
        raise NotFound(
            _("Pembaca '{reader}' bukan pembaca simulasi yang sedang berjalan.", reader=reader),
            field="reader",
        )
    await simulated.simulate_door_event(reader, kind)
    return contract.reply(SimulateOut(reader=reader, event=kind))
