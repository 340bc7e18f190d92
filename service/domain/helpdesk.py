"""Help-desk assistance (SOP steps 5-6): a problem raised, claimed, resolved."""

from __future__ import annotations

from datetime import datetime

from service.domain.lifecycle import HELP_TABLE, HelpEvent, advance
from service.domain.model import HelpRequest
from service.domain.tx import Tx
from service.errors import NotFound, ValidationError

CATEGORIES: dict[str, tuple[str, str]] = {
    "login": ("Login / akun SPSE", "SPSE login / account"),
    "upload": ("Unggah dokumen penawaran", "Uploading bid documents"),
    "apendo": ("Enkripsi / SPAMKODOK", "Encryption / SPAMKODOK"),
    "registration": ("Pendaftaran / verifikasi penyedia", "Vendor registration / verification"),
    "network": ("Jaringan / internet / hotspot", "Network / internet / hotspot"),
    "hardware": ("Perangkat (PC, printer, scanner)", "Equipment (PC, printer, scanner)"),
    "other": ("Lainnya", "Other"),
}
SOURCES = ("staff", "status_page", "workstation")


def _get(tx: Tx, request_id: int) -> HelpRequest:
    request = tx.state.help_requests.get(request_id)
    if request is None:
        raise NotFound(
            f"Permintaan bantuan {request_id} tidak ada.", f"No help request {request_id}."
        )
    return request


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
            f"Kategori tidak dikenal: {category}", f"Unknown category: {category}", field="category"
        )
    if source not in SOURCES:
        raise ValidationError(
            f"Sumber tidak dikenal: {source}", f"Unknown source: {source}", field="source"
        )
    if visit_id is not None and visit_id not in tx.state.visits:
        raise NotFound(f"Kunjungan {visit_id} tidak ditemukan.", f"Visit {visit_id} not found.")
    if facility_id is None and visit_id is not None:
        facility_id = tx.state.visits[visit_id].facility_id
    request: HelpRequest = tx.create(
        "help",
        {
            "visit_id": visit_id,
            "facility_id": facility_id,
            "source": source,
            "category": category,
            "problem": problem.strip(),
            "opened_at": at,
            "opened_by": actor,
        },
    )
    tx.fact("help.opened", at, actor)
    return request


def claim(tx: Tx, request_id: int, at: datetime, actor: str) -> HelpRequest:
    request = _get(tx, request_id)
    tx.update(
        "help",
        request.id,
        claimed_at=at,
        claimed_by=actor,
        state=advance(HELP_TABLE, "permintaan bantuan", request.state, HelpEvent.CLAIM),
    )
    tx.fact("help.claimed", at, actor)
    return request


def resolve(
    tx: Tx, request_id: int, problem: str | None, resolution: str, at: datetime, actor: str
) -> HelpRequest:
    if not resolution.strip():
        raise ValidationError(
            "Penyelesaian wajib diisi.", "The resolution is required.", field="resolution"
        )
    request = _get(tx, request_id)
    new_state = advance(HELP_TABLE, "permintaan bantuan", request.state, HelpEvent.RESOLVE)
    tx.update(
        "help",
        request.id,
        state=new_state,
        resolved_at=at,
        resolved_by=actor,
        resolution=resolution.strip(),
        problem=(problem or request.problem).strip(),
        claimed_at=request.claimed_at or at,
        claimed_by=request.claimed_by or actor,
    )
    tx.fact("help.resolved", at, actor)
    return request


def cancel(tx: Tx, request_id: int, at: datetime, actor: str) -> HelpRequest:
    request = _get(tx, request_id)
    tx.update(
        "help",
        request.id,
        resolved_at=at,
        resolved_by=actor,
        state=advance(HELP_TABLE, "permintaan bantuan", request.state, HelpEvent.CANCEL),
    )
    tx.fact("help.cancelled", at, actor)
    return request
