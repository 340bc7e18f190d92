"""Day close and sign-off (SOP step 9), service-standard breaches and justifications."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from aiohttp import web

from service.api import params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import iso
from service.api.routing import route
from service.auth import Role
from service.domain import days, standards
from service.domain.lifecycle import DayState
from service.i18n import render
from service.runtime import Runtime

CLOSERS = (Role.FRONT_OFFICE, Role.HEAD, Role.ADMIN)


def _day(request: web.Request) -> date:
    runtime = request.app[RUNTIME]
    value = request.match_info.get("day") or request.query.get("day")
    return params.a_date(value, "day", runtime.policy.day_of(now_of(request)))


def breaches_json(runtime: Runtime, day: date, request: web.Request) -> list[dict[str, Any]]:
    return [
        {
            "step": b.step,
            "step_name": render(standards.STEP_NAMES[b.step]),
            "subject": b.subject,
            "label": b.label,
            "started": iso(b.started),
            "ended": iso(b.ended),
            "duration_s": int(b.duration.total_seconds()),
            "standard_s": int(b.standard.total_seconds()),
            "ongoing": b.ongoing,
            "justification": b.justification,
            "justified_by": b.justified_by,
        }
        for b in standards.breaches(runtime.state, runtime.policy, day, now_of(request))
    ]


@route(
    "GET", "/api/v1/days/{day}", summary="A day: visits, open items, breaches, sign-off", tag="days"
)
async def day_summary(request: web.Request) -> web.Response:
    runtime, day = request.app[RUNTIME], _day(request)
    record = runtime.state.days.get(day)
    visits = [v for v in runtime.state.visits.values() if v.day == day]
    return web.json_response(
        {
            "day": day.isoformat(),
            "state": record.state.value if record else DayState.OPEN.value,
            "closed_at": iso(record.closed_at) if record else None,
            "closed_by": record.closed_by if record else None,
            "close_note": record.note if record else None,
            "closing_at": iso(runtime.policy.closing_at(day)),
            "reason_needed": days.reason_needed(runtime.policy, day, now_of(request)),
            "signed_at": iso(record.signed_at) if record else None,
            "signed_by": record.signed_by if record else None,
            "visits": len(visits),
            "companies": len({v.company for v in visits}),
            "open_items": asdict(days.open_items(runtime.state, day, runtime.policy.tz)),
            "breaches": breaches_json(runtime, day, request),
            "amendments": [
                {
                    "id": a.id,
                    "at": iso(a.at),
                    "kind": a.kind,
                    "actor": a.actor,
                    "rows": list(a.rows),
                    "signed_at": iso(a.signed_at),
                    "signed_by": a.signed_by,
                }
                for a in sorted(runtime.state.amendments.values(), key=lambda a: a.id)
                if a.day == day
            ],
        }
    )


@route(
    "POST",
    "/api/v1/days/{day}/close",
    summary="Close the day (lists what is still open); before the closing time with a reason",
    tag="days",
    roles=CLOSERS,
    body={"note": "string"},
)
async def day_close(request: web.Request) -> web.Response:
    runtime, who, day = request.app[RUNTIME], principal(request), _day(request)
    note = params.opt_text(await params.json_body(request), "note", 1000)
    now = now_of(request)
    items = await runtime.execute(
        lambda tx: days.close_day(tx, runtime.policy, day, now, who.actor, note)
    )
    return web.json_response(
        {"day": day.isoformat(), "state": "closed", "open_items": asdict(items)}
    )


@route(
    "POST",
    "/api/v1/days/{day}/reopen",
    summary="The Head of LPSE reopens a closed, unsigned day (with a reason)",
    tag="days",
    roles=(Role.HEAD,),
    body={"reason": "string!"},
)
async def day_reopen(request: web.Request) -> web.Response:
    runtime, who, day = request.app[RUNTIME], principal(request), _day(request)
    reason = params.text(await params.json_body(request), "reason", max_len=1000)
    now = now_of(request)
    await runtime.execute(lambda tx: days.reopen_day(tx, day, now, who.actor, reason))
    return web.json_response({"day": day.isoformat(), "state": "open"})


@route(
    "POST",
    "/api/v1/days/{day}/sign",
    summary="The Head of LPSE signs the day off (SOP step 9)",
    tag="days",
    roles=(Role.HEAD,),
)
async def day_sign(request: web.Request) -> web.Response:
    runtime, who, day = request.app[RUNTIME], principal(request), _day(request)
    now = now_of(request)
    await runtime.execute(lambda tx: days.sign_day(tx, runtime.policy, day, now, who.actor))
    return web.json_response({"day": day.isoformat(), "state": "signed", "signed_by": who.actor})


@route(
    "POST",
    "/api/v1/days/{day}/amendments/sign",
    summary="The Head of LPSE signs what happened after the day was signed (its amendments)",
    tag="days",
    roles=(Role.HEAD,),
)
async def amendments_sign(request: web.Request) -> web.Response:
    runtime, who, day = request.app[RUNTIME], principal(request), _day(request)
    now = now_of(request)
    signed = await runtime.execute(lambda tx: days.sign_amendments(tx, day, now, who.actor))
    return web.json_response(
        {"day": day.isoformat(), "signed": [a.id for a in signed], "signed_by": who.actor}
    )


@route(
    "GET",
    "/api/v1/breaches",
    summary="Service-standard breaches of a day",
    tag="days",
    params={"day": "YYYY-MM-DD (default today)"},
)
async def breach_list(request: web.Request) -> web.Response:
    runtime, day = request.app[RUNTIME], _day(request)
    return web.json_response(breaches_json(runtime, day, request))


@route(
    "POST",
    "/api/v1/breaches/justify",
    summary="Record the justification of a breach",
    tag="days",
    roles=CLOSERS,
    body={"day": "date!", "step": "string!", "subject": "string!", "text": "string!"},
)
async def breach_justify(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    body = await params.json_body(request)
    day = params.a_date(
        params.text(body, "day", max_len=40), "day", runtime.policy.day_of(now_of(request))
    )
    step, subject = params.text(body, "step"), params.text(body, "subject", max_len=40)
    text, now = params.text(body, "text", max_len=2000), now_of(request)
    await runtime.execute(lambda tx: days.justify(tx, day, step, subject, text, now, who.actor))
    return web.json_response(breaches_json(runtime, day, request))
