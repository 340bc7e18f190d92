"""Help-desk assistance (SOP steps 5-6): a problem raised, claimed, resolved."""

from __future__ import annotations

from datetime import datetime

from service.domain import facts as f
from service.domain.lifecycle import HELP_TABLE, HelpEvent, advance
from service.domain.model import HelpRequest
from service.domain.tx import Tx
from service.errors import NotFound, ValidationError
from service.i18n import Text, _

CATEGORIES: dict[str, Text] = {
    "login": _("Login / akun SPSE"),
    "upload": _("Unggah dokumen penawaran"),
    "apendo": _("Enkripsi / SPAMKODOK"),
    "registration": _("Pendaftaran / verifikasi penyedia"),
    "network": _("Jaringan / internet / hotspot"),
    "hardware": _("Perangkat (PC, printer, scanner)"),
    "other": _("Lainnya"),
}
SOURCES = ("staff", "status_page", "workstation")


def _get(tx: Tx, request_id: int) -> HelpRequest:
    request = tx.state.help_requests.get(request_id)
    if request is None:
        raise NotFound(_("Permintaan bantuan {request_id} tidak ada.", request_id=request_id))
    return request


def _visitor_of(tx: Tx, request: HelpRequest) -> int | None:
    visit = tx.state.visits.get(request.visit_id) if request.visit_id is not None else None
    return visit.visitor_id if visit is not None else None


def open_request(
    tx: Tx,
    visit_id: int | None,
    facility_id: int | None,
    source: str,
    category: str,
    problem: str,
    at: datetime,
    actor: str,
) -> HelpRequest:
    if category not in CATEGORIES:
        raise ValidationError(
            _("Kategori tidak dikenal: {category}", category=category), field="category"
        )
    if source not in SOURCES:
        raise ValidationError(_("Sumber tidak dikenal: {source}", source=source), field="source")
    if visit_id is not None and visit_id not in tx.state.visits:
        raise NotFound(_("Kunjungan {visit_id} tidak ditemukan.", visit_id=visit_id))
    if facility_id is not None and facility_id not in tx.state.facilities:
        raise NotFound(_("Fasilitas {facility_id} tidak ada.", facility_id=facility_id))
    if facility_id is None and visit_id is not None:
        facility_id = tx.state.visits[visit_id].facility_id
    request = HelpRequest(
        id=tx.next_id("help"),
        visit_id=visit_id,
        facility_id=facility_id,
        source=source,
        category=category,
        problem=problem.strip(),
        opened_at=at,
        opened_by=actor,
    )
    tx.emit(f.HelpOpened(at=at, actor=actor, request=request, visitor_id=_visitor_of(tx, request)))
    return request


def claim(tx: Tx, request_id: int, at: datetime, actor: str) -> HelpRequest:
    request = _get(tx, request_id)
    advance(HELP_TABLE, "permintaan bantuan", request.state, HelpEvent.CLAIM)
    tx.emit(f.HelpClaimed(at=at, actor=actor, request_id=request.id))
    return tx.state.help_requests[request.id]


def resolve(
    tx: Tx, request_id: int, problem: str | None, resolution: str, at: datetime, actor: str
) -> HelpRequest:
    if not resolution.strip():
        raise ValidationError(_("Penyelesaian wajib diisi."), field="resolution")
    request = _get(tx, request_id)
    advance(HELP_TABLE, "permintaan bantuan", request.state, HelpEvent.RESOLVE)
    tx.emit(
        f.HelpResolved(
            at=at,
            actor=actor,
            request_id=request.id,
            visitor_id=_visitor_of(tx, request),
            problem=(problem or request.problem).strip(),
            resolution=resolution.strip(),
        )
    )
    return tx.state.help_requests[request.id]


def cancel(tx: Tx, request_id: int, at: datetime, actor: str) -> HelpRequest:
    request = _get(tx, request_id)
    advance(HELP_TABLE, "permintaan bantuan", request.state, HelpEvent.CANCEL)
    tx.emit(f.HelpCancelled(at=at, actor=actor, request_id=request.id))
    return tx.state.help_requests[request.id]
