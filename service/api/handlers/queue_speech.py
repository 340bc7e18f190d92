"""The waiting-area TV's spoken calls: ``GET /api/v1/queue/calls/{number}/speech``.

No login, like the display itself: the audio says only the queue number and the
facility ("Nomor antrian P C nol nol tujuh, silakan ke P C nol satu"), both already
on the public display, and only for a number called today, so the route never
speaks text a caller chose.
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from service.api import contract, params
from service.api.app import RUNTIME
from service.api.routing import route
from service.domain import spoken
from service.domain.model import Ticket
from service.domain.state import RoomState
from service.errors import NotFound
from service.i18n import _
from service.speech import SpeechUnavailable


def called_today(state: RoomState, number: str, today: date) -> Ticket | None:
    """The ticket called today under ``number`` (numbers restart every day)."""
    found = [
        t
        for t in state.tickets.values()
        if t.number == number and t.day == today and t.called_at is not None
    ]
    return max(found, key=lambda t: t.id) if found else None


@route(
    "GET",
    "/api/v1/queue/calls/{number}/speech",
    summary="A number called today, spoken in Indonesian (audio/wav by espeak-ng); "
    "503 with a message when the server has no speech engine (the display chimes only)",
    tag="queue",
    roles=None,
    response="audio/wav",
    path_params={
        "number": {
            "type": "string",
            "minLength": 1,
            "maxLength": spoken.MAX_CODE,
            "pattern": contract.LINE,
            "description": "A queue number as the display shows it (PC-007)",
        }
    },
)
async def call_speech(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    number = params.path_text(request, "number", max_len=spoken.MAX_CODE).upper()
    ticket = called_today(runtime.state, number, runtime.policy.day_of(runtime.clock()))
    if ticket is None:
        raise NotFound(_("Nomor antrian ini belum dipanggil hari ini."))
    facility = runtime.state.facilities.get(ticket.facility_id) if ticket.facility_id else None
    try:
        text = spoken.call_text(ticket.number, facility.code if facility else None)
    except ValueError:  # a facility prefix of the configuration that cannot be read out
        raise SpeechUnavailable(
            _("Nomor ini tidak dapat diucapkan; layar antrian hanya membunyikan lonceng."),
        ) from None
    audio = await runtime.speech.wav(text)
    return web.Response(
        body=audio,
        content_type="audio/wav",
        headers={"Cache-Control": "no-cache", "Content-Language": "id", "X-Spoken-Text": text},
    )
