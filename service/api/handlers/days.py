"""Day close and sign-off (SOP step 9), service-standard breaches and justifications."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from service.api import contract, params
from service.api.app import RUNTIME, now_of, principal
from service.api.handlers.views import iso
from service.api.routing import route
from service.api.shapes.days import (
    AmendmentOut,
    AmendmentsSignedOut,
    Breach,
    ClosedOut,
    CloseIn,
    DayOut,
    DayQuery,
    JustifyIn,
    OpenItems,
    ReopenedOut,
    ReopenIn,
    SignedOut,
)
from service.auth import Role
from service.domain import days, standards
from service.domain.lifecycle import DayState
from service.i18n import render
from service.runtime import Runtime

CLOSERS = (Role.FRONT_OFFICE, Role.HEAD, Role.ADMIN)


def _day(request: web.Request) -> date:
    """The ``{day}`` of the address, or the ``day`` of the query (default today)."""
    runtime = request.app[RUNTIME]
    today = runtime.policy.day_of(now_of(request))
    if "day" in request.match_info:
        return params.a_date(request.match_info["day"], "day", today)
    return params.bounded_date(params.query_of(request, DayQuery).day, "day", today)


def _open(items: days.OpenItems) -> OpenItems:
    return OpenItems(
        open_visits=list(items.open_visits),
        badges_out=list(items.badges_out),
        documents_held=list(items.documents_held),
        open_help=list(items.open_help),
    )


def breaches_json(runtime: Runtime, day: date, request: web.Request) -> list[Breach]:
    return [
        Breach(
            step=b.step,
            step_name=render(standards.STEP_NAMES[b.step]),
            subject=b.subject,
            label=b.label,
            started=iso(b.started),
            ended=iso(b.ended),
            duration_s=int(b.duration.total_seconds()),
            standard_s=int(b.standard.total_seconds()),
            ongoing=b.ongoing,
            justification=b.justification,
            justified_by=b.justified_by,
        )
        for b in standards.breaches(runtime.state, runtime.policy, day, now_of(request))
    ]


@route(
    "GET",
    "/api/v1/days/{day}",
    summary="A day: visits, open items, breaches, sign-off",
    tag="days",
    reply=DayOut,
)
async def day_summary(request: web.Request) -> web.Response:
    runtime, day = request.app[RUNTIME], _day(request)
    record = runtime.state.days.get(day)
    visits = [v for v in runtime.state.visits.values() if v.day == day]
    return contract.reply(
        DayOut(
            day=day.isoformat(),
            state=record.state if record else DayState.OPEN,
            closed_at=iso(record.closed_at) if record else None,
            closed_by=record.closed_by if record else None,
            close_note=record.note if record else None,
            closing_at=iso(runtime.policy.closing_at(day)),
            reason_needed=days.reason_needed(runtime.policy, day, now_of(request)),
            signed_at=iso(record.signed_at) if record else None,
            signed_by=record.signed_by if record else None,
            visits=len(visits),
            companies=len({v.company for v in visits}),
            open_items=_open(days.open_items(runtime.state, day, runtime.policy.tz)),
            breaches=breaches_json(runtime, day, request),
            amendments=[
                AmendmentOut(
                    id=a.id,
                    at=iso(a.at),
                    kind=a.kind,
                    actor=a.actor,
                    rows=list(a.rows),
                    signed_at=iso(a.signed_at),
                    signed_by=a.signed_by,
                )
                for a in sorted(runtime.state.amendments.values(), key=lambda a: a.id)
                if a.day == day
            ],
        )
    )


@route(
    "POST",
    "/api/v1/days/{day}/close",
    summary="Close the day (lists what is still open); before the closing time with a reason",
    tag="days",
    roles=CLOSERS,
    body=CloseIn,
    reply=ClosedOut,
)
async def day_close(request: web.Request) -> web.Response:
    runtime, who, day = request.app[RUNTIME], principal(request), _day(request)
    note = (await params.body_of(request, CloseIn)).note or None
    now = now_of(request)
    items = await runtime.execute(
        lambda tx: days.close_day(tx, runtime.policy, day, now, who.actor, note)
    )
    return contract.reply(ClosedOut(day=day.isoformat(), state="closed", open_items=_open(items)))


@route(
    "POST",
    "/api/v1/days/{day}/reopen",
    summary="The Head of LPSE reopens a closed, unsigned day (with a reason)",
    tag="days",
    roles=(Role.HEAD,),
    body=ReopenIn,
    reply=ReopenedOut,
)
async def day_reopen(request: web.Request) -> web.Response:
    runtime, who, day = request.app[RUNTIME], principal(request), _day(request)
    reason = (await params.body_of(request, ReopenIn)).reason
    now = now_of(request)
    await runtime.execute(lambda tx: days.reopen_day(tx, day, now, who.actor, reason))
    return contract.reply(ReopenedOut(day=day.isoformat(), state="open"))


@route(
    "POST",
    "/api/v1/days/{day}/sign",
    summary="The Head of LPSE signs the day off (SOP step 9)",
    tag="days",
    roles=(Role.HEAD,),
    reply=SignedOut,
)
async def day_sign(request: web.Request) -> web.Response:
    runtime, who, day = request.app[RUNTIME], principal(request), _day(request)
    now = now_of(request)
    await runtime.execute(lambda tx: days.sign_day(tx, runtime.policy, day, now, who.actor))
    return contract.reply(SignedOut(day=day.isoformat(), state="signed", signed_by=who.actor))


@route(
    "POST",
    "/api/v1/days/{day}/amendments/sign",
    summary="The Head of LPSE signs what happened after the day was signed (its amendments)",
    tag="days",
    roles=(Role.HEAD,),
    reply=AmendmentsSignedOut,
)
async def amendments_sign(request: web.Request) -> web.Response:
    runtime, who, day = request.app[RUNTIME], principal(request), _day(request)
    now = now_of(request)
    signed = await runtime.execute(lambda tx: days.sign_amendments(tx, day, now, who.actor))
    return contract.reply(
        AmendmentsSignedOut(day=day.isoformat(), signed=[a.id for a in signed], signed_by=who.actor)
    )


@route(
    "GET",
    "/api/v1/breaches",
    summary="Service-standard breaches of a day",
    tag="days",
    query=DayQuery,
    reply=list[Breach],
)
async def breach_list(request: web.Request) -> web.Response:
    runtime, day = request.app[RUNTIME], _day(request)
    return contract.reply(breaches_json(runtime, day, request))


@route(
    "POST",
    "/api/v1/breaches/justify",
    summary="Record the justification of a breach",
    tag="days",
    roles=CLOSERS,
    body=JustifyIn,
    reply=list[Breach],
)
async def breach_justify(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    body = await params.body_of(request, JustifyIn)
    day = params.bounded_date(body.day, "day", runtime.policy.day_of(now_of(request)))
    step, subject, text, now = body.step, body.subject, body.text, now_of(request)
    await runtime.execute(lambda tx: days.justify(tx, day, step, subject, text, now, who.actor))
    return contract.reply(breaches_json(runtime, day, request))
