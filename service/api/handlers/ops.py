"""Queue, badges, facilities and the access log (the help desk: :mod:`.helpdesk`)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from service.api import contract, params
from service.api.app import RUNTIME, error_body, now_of, principal
from service.api.handlers.views import iso, ticket_json
from service.api.routing import route
from service.api.shapes.ops import (
    CODE_PARAM,
    AccessEventOut,
    BadgeIn,
    BadgeNoteIn,
    BadgeOut,
    BadgeStateOut,
    DayQuery,
    PriorityIn,
    ServiceIn,
    ServiceOut,
    TicketOut,
    body_of,
    shaped,
)
from service.api.shapes.status import FacilityOut, QueueOut
from service.api.shapes.views import BadgeRef
from service.auth import Role
from service.domain import badges, facilities, queue, visits
from service.domain.lifecycle import BadgeEvent
from service.domain.tx import Tx
from service.errors import NotFound
from service.i18n import _, _p
from service.logs import uid_tail
from service.status import facilities as facility_view
from service.status import queue_view
from service.store.loader import entity_from_values
from service.store.tables import AccessEventRow, AmendedRowRow

FO = (Role.FRONT_OFFICE, Role.HEAD, Role.ADMIN)


# -- queue -------------------------------------------------------------------------
@route("GET", "/api/v1/queue", summary="The queue per facility kind", tag="queue", reply=QueueOut)
async def queue_list(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return contract.reply(shaped(queue_view(runtime.state, runtime.policy), QueueOut))


@route(
    "POST",
    "/api/v1/queue/{kind}/call-next",
    summary="Call the next number of a kind to a free facility",
    tag="queue",
    roles=FO,
    reply=TicketOut,
    path_params={"kind": CODE_PARAM},
)
async def queue_call(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    kind = params.path_text(request, "kind", max_len=40)
    if kind not in runtime.policy.kinds:
        raise NotFound(
            _p("api.handlers.ops:queue_call", "Jenis fasilitas tidak dikenal: {kind}", kind=kind)
        )
    now = now_of(request)
    ticket = await runtime.execute(
        lambda tx: queue.call_next(tx, runtime.policy, kind, now, who.actor)
    )
    return contract.reply(shaped(ticket_json(ticket), TicketOut))


def _ticket(request: web.Request) -> int:
    runtime = request.app[RUNTIME]
    ticket_id = params.path_int(request, "id")
    if ticket_id not in runtime.state.tickets:
        raise NotFound(
            _p(
                "api.handlers.ops:_ticket",
                "Nomor antrian {ticket_id} tidak ada.",
                ticket_id=ticket_id,
            )
        )
    return ticket_id


@route(
    "POST",
    "/api/v1/queue/tickets/{id}/skip",
    summary="Skip a number (no-show)",
    tag="queue",
    roles=FO,
    reply=TicketOut,
)
async def ticket_skip(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    ticket_id, now = _ticket(request), now_of(request)

    await runtime.execute(lambda tx: queue.staff_skip(tx, ticket_id, now, who.actor))
    return contract.reply(shaped(ticket_json(runtime.state.tickets[ticket_id]), TicketOut))


@route(
    "POST",
    "/api/v1/queue/tickets/{id}/priority",
    summary="Give a waiting number priority, "
    "with a reason (e.g. the tender closes within the hour)",
    tag="queue",
    roles=FO,
    body=PriorityIn,
    reply=TicketOut,
)
async def ticket_priority(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    reason = (await body_of(request, PriorityIn)).reason
    ticket_id, now = _ticket(request), now_of(request)

    await runtime.execute(lambda tx: queue.prioritise(tx, ticket_id, reason, now, who.actor))
    return contract.reply(shaped(ticket_json(runtime.state.tickets[ticket_id]), TicketOut))


# -- badges ----------------------------------------------------------------------------
@route("GET", "/api/v1/badges", summary="The badge pool", tag="badges", reply=list[BadgeOut])
async def badge_list(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    holders = runtime.state.visits
    return contract.reply(
        [
            BadgeOut(
                id=b.id,
                uid_tail=uid_tail(b.uid),
                label=b.label,
                state=b.state,
                visit_id=b.visit_id,
                holder=holders[b.visit_id].name if b.visit_id in holders else None,
                company=holders[b.visit_id].company if b.visit_id in holders else None,
                note=b.note,
            )
            for b in sorted(runtime.state.badges.values(), key=lambda b: b.label)
        ]
    )


@route(
    "POST",
    "/api/v1/badges",
    summary="Enrol a badge into the pool by UID",
    tag="badges",
    roles=(Role.ADMIN,),
    body=BadgeIn,
    reply=BadgeRef,
    status=201,
)
async def badge_enroll(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    body = await body_of(request, BadgeIn)
    uid = params.badge_uid({"uid": body.uid}, "uid")
    label, now = body.label, now_of(request)
    badge = await runtime.execute(lambda tx: visits.enroll_badge(tx, uid, label, now, who.actor))
    return contract.reply(BadgeRef(id=badge.id, label=badge.label), status=201)


def _badge_action(event: BadgeEvent, summary: str, roles: tuple[Role, ...]) -> None:
    async def handler(request: web.Request) -> web.Response:
        runtime, who = request.app[RUNTIME], principal(request)
        ident, now = params.path_int(request, "id"), now_of(request)
        # The reason is required: the journal says why a badge left or came back.
        note = (await body_of(request, BadgeNoteIn, {"note": _("Alasan")})).note
        if ident not in runtime.state.badges:
            raise NotFound(_("Kartu {ident} tidak ada.", ident=ident))

        def act(tx: Tx) -> None:
            badges.check_action(tx.state.badges[ident], event)
            visits.badge_event(
                tx, runtime.policy, tx.state.badges[ident], event, now, who.actor, note
            )

        await runtime.execute(act)
        badge = runtime.state.badges[ident]
        return contract.reply(BadgeStateOut(id=badge.id, label=badge.label, state=badge.state))

    path = {"report_lost": "lost", "found": "found", "retire": "retire"}[event.value]
    route(
        "POST",
        f"/api/v1/badges/{{id}}/{path}",
        summary=summary,
        tag="badges",
        roles=roles,
        body=BadgeNoteIn,
        reply=BadgeStateOut,
    )(handler)


_badge_action(BadgeEvent.REPORT_LOST, "Report a badge lost (refused at every reader)", FO)
_badge_action(BadgeEvent.FOUND, "A lost badge was found", FO)
_badge_action(BadgeEvent.RETIRE, "Retire a badge", (Role.ADMIN,))


# -- facilities and access log ------------------------------------------------------
@route(
    "GET",
    "/api/v1/facilities",
    summary="Facilities and their state",
    tag="facilities",
    reply=list[FacilityOut],
)
async def facility_list(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    found = facility_view(runtime.state, runtime.policy, runtime.clock())
    return contract.reply(shaped(found, list[FacilityOut]))


def occupied_response(request: web.Request, exc: facilities.FacilityOccupied) -> web.Response:
    """409 with the occupant and the free facilities of the same kind to move them to."""
    body = error_body(request, exc)
    body["occupant"] = {
        "visit_id": exc.visit.id,
        "name": exc.visit.name,
        "company": exc.visit.company,
    }
    body["alternatives"] = list(exc.alternatives)
    return web.json_response(body, status=exc.http_status)


@route(
    "POST",
    "/api/v1/facilities/{code}/service",
    summary="Take a facility out of service or back (who, when and why are kept); "
    "one in use is refused with its occupant and the free ones to move them to (move_to)",
    tag="facilities",
    roles=FO,
    body=ServiceIn,
    reply=ServiceOut,
    path_params={"code": CODE_PARAM},
)
async def facility_service(request: web.Request) -> web.Response:
    runtime, who = request.app[RUNTIME], principal(request)
    code = params.path_text(request, "code", max_len=40)
    body = await body_of(request, ServiceIn)
    facility = next((f for f in runtime.state.facilities.values() if f.code == code), None)
    if facility is None:
        raise NotFound(_("Fasilitas {code} tidak ada.", code=code))
    flag, note, move_to = body.out_of_service, body.note or None, body.move_to or None
    now, fid = now_of(request), facility.id
    try:
        await runtime.execute(
            lambda tx: facilities.set_service(
                tx, runtime.policy, fid, flag, now, who.actor, note, move_to
            )
        )
    except facilities.FacilityOccupied as exc:
        return occupied_response(request, exc)
    after = runtime.state.facilities[fid]
    return contract.reply(
        ServiceOut(
            code=code,
            out_of_service=after.out_of_service,
            by=after.service_by,
            at=iso(after.service_at),
            note=after.service_note,
        )
    )


@route(
    "GET",
    "/api/v1/access-events",
    summary="The access log of a day (every tap)",
    tag="status",
    query=DayQuery,
    reply=list[AccessEventOut],
)
async def access_events(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    today = runtime.policy.day_of(now_of(request))
    day = params.bounded_date(params.query_of(request, DayQuery).day, "day", today)
    start, end = runtime.policy.day_bounds(day)
    async with runtime.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(AccessEventRow)
                .where(AccessEventRow.at >= start, AccessEventRow.at < end)
                .order_by(AccessEventRow.id)
            )
        ).all()
        # Taps after the day was signed are kept beside its sealed rows (amendments).
        later = (
            await conn.execute(
                select(AmendedRowRow.row).where(AmendedRowRow.entity == "access_event")
            )
        ).scalars()
        events = [*rows, *(entity_from_values("access_event", v) for v in later)]
    rows = sorted((e for e in events if start <= e.at < end), key=lambda e: e.id)
    return contract.reply(
        [
            AccessEventOut(
                id=r.id,
                at=r.at.isoformat(),
                reader=r.reader,
                role=r.role,
                uid_tail=uid_tail(r.uid),
                visit_id=r.visit_id,
                granted=r.granted,
                reason=r.reason,
                anomaly=r.anomaly,
                reported_at=iso(r.reported_at),
            )
            for r in rows
        ]
    )
