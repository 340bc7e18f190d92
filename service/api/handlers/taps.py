"""``POST /api/v1/taps``: the tap ingest for remote readers, agents and the demo panel."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from msgspec import Meta

from service.api import contract, params
from service.api.app import RUNTIME, lang_of, now_of, principal
from service.api.labels import LABELS
from service.api.routing import ALL_STAFF, route
from service.auth import Role
from service.domain.taps import InvalidTap, Led, Reason, Tap, reason_text
from service.errors import Forbidden, NotFound, ValidationError
from service.i18n import _

TAP_ROLES = (*ALL_STAFF, Role.DEVICE)


class TapIn(contract.Body):
    """A badge presented at a reader."""

    reader: contract.Name
    uid: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=40,
            pattern=contract.LINE,
            description="4 to 10 bytes of hex, with or without ':' or '-' (04:A2:3B:1C)",
        ),
    ]
    event_id: Annotated[str, Meta(min_length=1, max_length=64, pattern=contract.LINE)]
    at: contract.When | None = None
    token: Annotated[str, Meta(max_length=200, pattern=contract.ANY_LINE)] | None = None


class Feedback(contract.Reply):
    led: Led
    beeps: int
    open_door_s: float


class TapOut(contract.Reply):
    """The committed decision."""

    granted: bool
    reason: Reason
    message: str
    feedback: Feedback
    visit_id: int | None
    badge: str | None
    slot: str | None
    anomalies: list[str]
    replayed: bool


def _may_use(request: web.Request, reader: str) -> None:
    """A token bound to readers (every device token is) is refused on any other (403)."""
    if not principal(request).may_use_reader(reader):
        raise Forbidden(
            _("Token ini tidak diizinkan untuk pembaca kartu {reader}.", reader=reader),
            field="reader",
        )


@route(
    "POST",
    "/api/v1/taps",
    summary="Submit a tap (idempotent by event_id); answered after the decision is committed",
    tag="taps",
    roles=TAP_ROLES,
    body=TapIn,
    reply=TapOut,
)
async def tap(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.body_of(request, TapIn)
    reader = body.reader
    _may_use(request, reader)
    if reader not in runtime.policy.readers:
        raise NotFound(
            _("Pembaca kartu '{reader}' tidak terdaftar.", reader=reader),
            field="reader",
        )
    # The reader's own time, if it sends one; the decision is on the daemon's clock, and
    # the runtime bounds the reader's time (skew ahead, age, signed days).
    now = now_of(request)
    at = params.bounded_datetime(body.at, "at", now) or now
    try:
        item = Tap(
            reader=reader,
            uid=params.badge_uid({"uid": body.uid}, "uid"),
            at=at,
            event_id=body.event_id,
            token=body.token.strip() or None if body.token else None,
        )
    except InvalidTap:  # every field was checked above; kept as the last guard
        raise ValidationError(_("Tap tidak sah.")) from None
    decision, replayed = await runtime.submit_ex(item)
    fb = decision.feedback
    return contract.reply(
        TapOut(
            granted=decision.granted,
            reason=decision.reason,
            message=reason_text(decision.reason, lang_of(request)),
            feedback=Feedback(led=fb.led, beeps=fb.beeps, open_door_s=fb.open_door_s),
            visit_id=decision.visit_id,
            badge=decision.badge_label,
            slot=decision.slot,
            anomalies=list(decision.anomalies),
            replayed=replayed,
        )
    )


@route(
    "POST",
    "/api/v1/readers/{name}/heartbeat",
    summary="A remote reader agent is alive",
    tag="taps",
    roles=TAP_ROLES,
    status=204,
)
async def heartbeat(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    name = params.path_text(request, "name", label=LABELS["reader"])
    _may_use(request, name)
    health = runtime.health.get(name)
    if health is None:
        raise NotFound(_("Pembaca kartu '{name}' tidak terdaftar.", name=name))
    health.seen()
    return web.Response(status=204)
