"""A visit's whole history (its page), and visit search across days.

Both read the store, which holds every day (the published state holds only open
visits and unsigned days). The search takes its terms in the body of a POST, so a
name or document digits never end up in an address (proxy logs, browser history),
and nothing here logs them.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from service import visit_history
from service.api import params
from service.api.app import RUNTIME, now_of
from service.api.handlers.views import visit_json
from service.api.handlers.visits import FO
from service.api.routing import route
from service.errors import NotFound, ValidationError
from service.i18n import _
from service.store.visit_records import PAGE_SIZE, VisitQuery, search_visits, visit_records

# The masked number shows its last two digits (1571**********01): those can be searched.
VISIBLE_DIGITS = 2
_DIGITS = re.compile(r"[0-9]+")
MAX_PAGE = 10_000


@route("GET", "/api/v1/visits/{id}/history", summary="A visit's whole history", tag="visits")
async def visit_history_get(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    visit_id = params.path_int(request, "id")
    records = await visit_records(runtime.engine, visit_id)
    if records is None:
        raise NotFound(_("Kunjungan {visit_id} tidak ditemukan.", visit_id=visit_id))
    live = runtime.state.visits.get(visit_id)
    return web.json_response(
        {
            "visit": visit_history.summary(records),
            "history": visit_history.history(records),
            # Visits still in memory can be acted on (issue a badge, return, hand back).
            "live": visit_json(runtime.state, live) if live is not None else None,
        }
    )


def _doc_digits(body: dict[str, Any]) -> str | None:
    digits = params.opt_text(body, "doc_digits", 20)
    if digits is None:
        return None
    if not _DIGITS.fullmatch(digits) or len(digits) > VISIBLE_DIGITS:
        raise ValidationError(
            _(
                "Isi 1 sampai {VISIBLE_DIGITS} angka terakhir nomor identitas (hanya itu yang tersimpan terbuka).",
                VISIBLE_DIGITS=VISIBLE_DIGITS,
            ),
            field="doc_digits",
        )
    return digits


@route(
    "POST",
    "/api/v1/visits/search",
    summary="Search visits of every day (name, company, document digits, badge, tender, days)",
    tag="visits",
    roles=FO,
    body={
        "name": "string",
        "company": "string",
        "doc_digits": "string",
        "label": "string",
        "tender_code": "string",
        "from_day": "date",
        "to_day": "date",
        "page": "integer",
    },
)
async def visit_search(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.json_body(request)
    today = runtime.policy.day_of(now_of(request))
    from_day = (
        params.a_date(body.get("from_day"), "from_day", today) if body.get("from_day") else None
    )
    to_day = params.a_date(body.get("to_day"), "to_day", today) if body.get("to_day") else None
    if from_day and to_day and from_day > to_day:
        raise ValidationError(
            _("Tanggal awal harus sebelum atau sama dengan tanggal akhir."),
            field="from_day",
        )
    page = body.get("page")
    query = VisitQuery(
        name=params.opt_text(body, "name", 200),
        company=params.opt_text(body, "company", 200),
        doc_digits=_doc_digits(body),
        label=params.opt_text(body, "label", 40),
        tender_code=params.opt_text(body, "tender_code", 100),
        from_day=from_day,
        to_day=to_day,
        page=1 if page is None else params.integer(page, "page", minimum=1, maximum=MAX_PAGE),
    )
    found, more = await search_visits(runtime.engine, query)
    return web.json_response(
        {
            "page": query.page,
            "page_size": PAGE_SIZE,
            "more": more,
            "visits": [
                {
                    "id": f.visit.id,
                    "day": f.visit.day.isoformat(),
                    "state": f.visit.state.value,
                    "name": f.visit.name,
                    "company": f.visit.company,
                    "tender_code": f.visit.tender_code,
                    "badge": f.badge_label,
                    "slot": f.deposit.slot if f.deposit else None,
                    "doc_type": f.deposit.doc_type if f.deposit else None,
                    "doc_masked": f.deposit.doc_masked if f.deposit else None,
                    "registered_at": f.visit.registered_at.isoformat(),
                    "closed_at": f.visit.closed_at.isoformat() if f.visit.closed_at else None,
                }
                for f in found
            ],
        }
    )
