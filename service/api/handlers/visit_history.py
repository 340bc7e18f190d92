"""A visit's whole history (its page), and visit search across days.

Both read the store, which holds every day (the published state holds only open
visits and unsigned days). The search takes its terms in the body of a POST, so a
name or document digits never end up in an address (proxy logs, browser history),
and nothing here logs them.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from service import visit_history
from service.api import contract, params
from service.api.app import RUNTIME, now_of
from service.api.handlers.views import visit_out
from service.api.handlers.visits import FO
from service.api.routing import route
from service.api.shapes.visits import (
    FoundVisit,
    HistoryEntry,
    SearchResult,
    VisitHistory,
    VisitSearch,
    VisitSummary,
)
from service.errors import NotFound, ValidationError
from service.i18n import _
from service.store.visit_records import PAGE_SIZE, VisitQuery, search_visits, visit_records

# The masked number shows its last two digits (1571**********01): those can be searched
# (the schema of ``doc_digits`` says so: at most 2 digits), and at most 10,000 pages.


@route(
    "GET",
    "/api/v1/visits/{id}/history",
    summary="A visit's whole history",
    tag="visits",
    reply=VisitHistory,
)
async def visit_history_get(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    visit_id = params.path_int(request, "id")
    records = await visit_records(runtime.engine, visit_id)
    if records is None:
        raise NotFound(_("Kunjungan {visit_id} tidak ditemukan.", visit_id=visit_id))
    live = runtime.state.visits.get(visit_id)
    return contract.reply(
        VisitHistory(
            visit=msgspec.convert(visit_history.summary(records), VisitSummary),
            history=msgspec.convert(visit_history.history(records), list[HistoryEntry]),
            # Visits still in memory can be acted on (issue a badge, return, hand back).
            live=visit_out(runtime.state, live) if live is not None else None,
        )
    )


def _doc_digits(value: str | None) -> str | None:
    """The last digits of the document number: the schema allows 0 to 2 digits, and
    none is no term."""
    return value or None


@route(
    "POST",
    "/api/v1/visits/search",
    summary="Search visits of every day (name, company, document digits, badge, tender, days)",
    tag="visits",
    roles=FO,
    body=VisitSearch,
    reply=SearchResult,
    checked_beyond="the first day of the span is not after the last",
)
async def visit_search(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await params.body_of(request, VisitSearch)
    today = runtime.policy.day_of(now_of(request))
    from_day = params.bounded_date(body.from_day, "from_day", today) if body.from_day else None
    to_day = params.bounded_date(body.to_day, "to_day", today) if body.to_day else None
    if from_day and to_day and from_day > to_day:
        raise ValidationError(
            _("Tanggal awal harus sebelum atau sama dengan tanggal akhir."),
            field="from_day",
        )
    query = VisitQuery(
        name=body.name or None,
        company=body.company or None,
        doc_digits=_doc_digits(body.doc_digits),
        label=body.label or None,
        tender_code=body.tender_code or None,
        from_day=from_day,
        to_day=to_day,
        page=int(body.page or 1),
    )
    found, more = await search_visits(runtime.engine, query)
    return contract.reply(
        SearchResult(
            page=query.page,
            page_size=PAGE_SIZE,
            more=more,
            visits=[
                FoundVisit(
                    id=f.visit.id,
                    day=f.visit.day,
                    state=f.visit.state,
                    name=f.visit.name,
                    company=f.visit.company,
                    tender_code=f.visit.tender_code,
                    badge=f.badge_label,
                    slot=f.deposit.slot if f.deposit else None,
                    doc_type=f.deposit.doc_type if f.deposit else None,
                    doc_masked=f.deposit.doc_masked if f.deposit else None,
                    registered_at=f.visit.registered_at,
                    closed_at=f.visit.closed_at,
                )
                for f in found
            ],
        )
    )
