"""Visits from arrival to return (SOP steps 2, 3, 7 and 8) and the badge pool.

Step 2: the access form is filled, the identity document is deposited in a
numbered slot and exchanged for a special badge. Step 3: a facility, or a queue
number. Steps 7-8: the badge comes back, usage sessions close, the visit closes,
and the document goes back from its slot to the person who deposited it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from service.domain import queue
from service.domain.identity import DocumentType
from service.domain.lifecycle import (
    BADGE_TABLE,
    VISIT_TABLE,
    BadgeEvent,
    BadgeState,
    VisitEvent,
    VisitState,
    advance,
)
from service.domain.model import Badge, Deposit, Ticket, Visit, Visitor
from service.domain.policy import Policy
from service.domain.tx import Tx
from service.errors import Conflict, NotFound, ValidationError


@dataclass(frozen=True, slots=True)
class Arrival:
    """The bidding-room access form (formulir akses bidding room), already validated."""

    name: str
    company: str
    doc_type: DocumentType
    doc_masked: str
    phone: str | None = None
    doc_number: str | None = None
    npwp: str | None = None
    purpose: str = ""
    tender_code: str = ""
    devices: tuple[tuple[str, str], ...] = ()
    wanted_kind: str | None = None
    rules_ack: bool = False
    privacy_ack: bool = False
    back_entered: bool = False
    # A returning visitor, as stored (found by the keyed hash of the document number).
    known_visitor: Visitor | None = None
    form_started_at: datetime | None = None
    personal: dict[str, str] = field(default_factory=dict)


def _require(visit_id: int, visits: dict[int, Visit]) -> Visit:
    visit = visits.get(visit_id)
    if visit is None:
        raise NotFound(f"Kunjungan {visit_id} tidak ditemukan.", f"Visit {visit_id} not found.")
    return visit


def register(tx: Tx, policy: Policy, form: Arrival, at: datetime, actor: str) -> Visit:
    """Step 2: the access form is recorded and the identity document deposited."""
    if not form.back_entered and not (form.rules_ack and form.privacy_ack):
        raise ValidationError(
            "Pengunjung harus menyetujui tata tertib dan pemberitahuan pelindungan data pribadi.",
            "The visitor must acknowledge the house rules and the personal-data notice.",
            field="rules_ack",
        )
    if not form.name.strip():
        raise ValidationError("Nama wajib diisi.", "Name is required.", field="name")
    if form.wanted_kind is not None and form.wanted_kind not in policy.kinds:
        raise ValidationError(
            f"Jenis fasilitas tidak dikenal: {form.wanted_kind}",
            f"Unknown facility kind: {form.wanted_kind}",
            field="wanted_kind",
        )
    slot = free_slot(tx, policy)
    visitor_values = {
        "name": form.name.strip(),
        "company": form.company.strip(),
        "doc_type": form.doc_type.value,
        "doc_masked": form.doc_masked,
        "npwp": form.npwp,
    }
    known = form.known_visitor
    if known is None:
        visitor = tx.create("visitor", {**visitor_values, "created_at": at})
    else:
        if known.id not in tx.state.visitors:
            tx.state.add("visitor", known)  # a cache of the stored row, not a change
        visitor = tx.state.visitors[known.id]
        tx.update("visitor", visitor.id, **visitor_values)
    visit: Visit = tx.create(
        "visit",
        {
            "day": policy.day_of(at),
            "visitor_id": visitor.id,
            "name": visitor.name,
            "company": visitor.company,
            "purpose": form.purpose,
            "tender_code": form.tender_code,
            "devices": [{"kind": k, "serial": s} for k, s in form.devices],
            "wanted_kind": form.wanted_kind,
            "form_started_at": form.form_started_at or at,
            "registered_at": at,
            "back_entered": form.back_entered,
            "officer": actor,
            "rules_ack": form.rules_ack,
            "privacy_ack": form.privacy_ack,
        },
    )
    tx.create(
        "deposit",
        {
            "visit_id": visit.id,
            "doc_type": form.doc_type.value,
            "doc_masked": form.doc_masked,
            "slot": slot,
            "taken_at": at,
            "taken_by": actor,
        },
    )
    tx.fact("visit.registered", at, actor, personal=form.personal, visitor_id=visitor.id)
    return visit


def free_slot(tx: Tx, policy: Policy) -> str:
    held = {d.slot for d in tx.state.deposits.values() if d.returned_at is None}
    for slot in policy.slots:
        if slot not in held:
            return slot
    raise Conflict("Semua laci titipan identitas terisi.", "Every deposit slot is taken.")


def issue_badge(
    tx: Tx, policy: Policy, visit: Visit, badge: Badge, at: datetime, actor: str
) -> Ticket | None:
    """Bind a free badge to the visit, then step 3: facility or queue number."""
    if visit.state is VisitState.CLOSED:
        raise Conflict("Kunjungan sudah ditutup.", "The visit is closed.")
    if visit.badge_id is not None:
        raise Conflict("Kunjungan sudah memiliki kartu.", "The visit already has a badge.")
    if tx.state.deposit_of(visit.id) is None:
        raise Conflict("Titipan identitas belum dicatat.", "No identity document deposited.")
    tx.update(
        "badge",
        badge.id,
        visit_id=visit.id,
        state=advance(BADGE_TABLE, "kartu", badge.state, BadgeEvent.ISSUE),
    )
    tx.update("visit", visit.id, badge_id=badge.id, badge_issued_at=at)
    tx.fact("badge.issued", at, actor)
    ticket = None
    if visit.state is VisitState.REGISTERED:
        ticket = queue.assign_or_queue(tx, policy, visit, at)
        tx.fact("queue.ticket" if ticket else "facility.assigned", at, actor)
    return ticket


def assign_facility(
    tx: Tx,
    policy: Policy,
    visit: Visit,
    kind: str | None,
    code: str | None,
    at: datetime,
    actor: str,
) -> Ticket | None:
    """Staff (re)assign: a named facility, or the next free of a kind, or a ticket."""
    if visit.state is VisitState.CLOSED:
        raise Conflict("Kunjungan sudah ditutup.", "The visit is closed.")
    if code is not None:
        facility = next((f for f in tx.state.facilities.values() if f.code == code), None)
        if facility is None:
            raise NotFound(f"Fasilitas {code} tidak ada.", f"No facility {code}.")
        if not queue.is_free(facility, at) and facility.visit_id != visit.id:
            raise Conflict(f"Fasilitas {code} sedang dipakai.", f"Facility {code} is in use.")
        _leave_facility(tx, policy, visit, at)
        queue.cancel_ticket_of(tx, visit, at)
        if visit.state is VisitState.QUEUED:
            tx.update(
                "visit",
                visit.id,
                state=advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.UNQUEUE),
            )
        queue.assign(tx, visit, facility, at)
        tx.fact("facility.assigned", at, actor)
        return None
    if visit.state is not VisitState.REGISTERED:
        raise Conflict(
            "Kunjungan sudah mendapat fasilitas atau nomor antrian.",
            "The visit already has a facility or a queue number.",
        )
    tx.update("visit", visit.id, wanted_kind=kind)
    ticket = queue.assign_or_queue(tx, policy, visit, at)
    tx.fact("queue.ticket" if ticket else "facility.assigned", at, actor)
    return ticket


def _leave_facility(tx: Tx, policy: Policy, visit: Visit, at: datetime) -> None:
    usage = tx.state.open_usage(visit.id)
    if usage is not None:
        tx.update("usage", usage.id, ended_at=at, ended_by="return")
    if visit.facility_id is not None:
        facility = tx.state.facilities[visit.facility_id]
        if facility.visit_id == visit.id:
            queue.release(tx, policy, facility, at)
        tx.update("visit", visit.id, facility_id=None)


def _wind_up(tx: Tx, policy: Policy, visit: Visit, at: datetime) -> None:
    """What every way of ending a visit does: sessions, facility, ticket, badge, presence."""
    _leave_facility(tx, policy, visit, at)
    queue.cancel_ticket_of(tx, visit, at)
    if visit.inside:
        tx.update("visit", visit.id, inside=False, exited_at=at)
    if visit.badge_id is not None:
        badge = tx.state.badges[visit.badge_id]
        if badge.state is BadgeState.ISSUED:
            tx.update(
                "badge",
                badge.id,
                visit_id=None,
                state=advance(BADGE_TABLE, "kartu", badge.state, BadgeEvent.RETURN),
            )
    for reader, armed in list(tx.state.armed_issue.items()):
        if armed == visit.id:
            del tx.state.armed_issue[reader]


def return_badge(
    tx: Tx,
    policy: Policy,
    visit: Visit,
    at: datetime,
    actor: str,
    devices_checked: bool | None = None,
) -> Deposit | None:
    """Steps 7-8: the badge is back; the visit closes and its document's slot is shown."""
    new_state = advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.RETURN)
    _wind_up(tx, policy, visit, at)
    tx.update(
        "visit",
        visit.id,
        state=new_state,
        returned_at=at,
        closed_at=at,
        devices_checked=devices_checked,
    )
    tx.fact("badge.returned", at, actor)
    return tx.state.deposit_of(visit.id)


def force_close(
    tx: Tx, policy: Policy, visit: Visit, reason: str, at: datetime, actor: str
) -> Deposit | None:
    """A supervisor closes a visit that cannot end normally (lost badge, visitor left)."""
    if not reason.strip():
        raise ValidationError(
            "Alasan penutupan wajib diisi.", "A reason is required.", field="reason"
        )
    new_state = advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.FORCE_CLOSE)
    _wind_up(tx, policy, visit, at)
    tx.update(
        "visit", visit.id, state=new_state, closed_at=at, forced=True, close_reason=reason.strip()
    )
    tx.fact("visit.force_closed", at, actor)
    return tx.state.deposit_of(visit.id)


def return_document(tx: Tx, visit: Visit, to: str, at: datetime, actor: str) -> Deposit:
    """The deposited document leaves its slot; only once its visit is closed."""
    deposit = tx.state.deposit_of(visit.id)
    if deposit is None:
        raise NotFound("Tidak ada titipan identitas.", "No deposited document.")
    if visit.state is not VisitState.CLOSED:
        raise Conflict(
            "Kartu identitas dikembalikan setelah tanda pengenal khusus diterima kembali.",
            "The document goes back only after the special badge is returned.",
        )
    if deposit.returned_at is not None:
        raise Conflict("Kartu identitas sudah dikembalikan.", "The document was already returned.")
    tx.update(
        "deposit",
        deposit.id,
        returned_at=at,
        returned_to=to.strip() or visit.name,
        returned_by=actor,
    )
    tx.fact("document.returned", at, actor, visitor_id=visit.visitor_id)
    return deposit


def arm_issue(tx: Tx, reader: str, visit: Visit) -> None:
    """The front desk's next tap of a free badge binds it to this visit."""
    if visit.state is VisitState.CLOSED or visit.badge_id is not None:
        raise Conflict(
            "Kunjungan ini tidak menunggu kartu.", "This visit is not waiting for a badge."
        )
    tx.state.armed_issue[reader] = visit.id


def enroll_badge(tx: Tx, uid: str, label: str, at: datetime, actor: str) -> Badge:
    if tx.state.badge_by(uid) is not None:
        raise Conflict("Kartu dengan UID ini sudah terdaftar.", "A badge with this UID exists.")
    if any(b.label == label for b in tx.state.badges.values()):
        raise Conflict(f"Label {label} sudah dipakai.", f"Label {label} is taken.")
    badge: Badge = tx.create("badge", {"uid": uid, "label": label, "enrolled_at": at})
    tx.fact("badge.enrolled", at, actor)
    return badge


def badge_event(
    tx: Tx,
    policy: Policy,
    badge: Badge,
    event: BadgeEvent,
    at: datetime,
    actor: str,
    note: str | None = None,
) -> None:
    """Report lost, found or retire a badge. A lost badge leaves its visit badge-less."""
    new_state = advance(BADGE_TABLE, "kartu", badge.state, event)
    if badge.visit_id is not None and event is BadgeEvent.REPORT_LOST:
        tx.update("visit", badge.visit_id, badge_id=None)
    tx.update("badge", badge.id, state=new_state, visit_id=None, note=note)
    tx.fact(f"badge.{event.value}", at, actor)


def get_visit(tx: Tx, visit_id: int) -> Visit:
    return _require(visit_id, tx.state.visits)


def staff_usage(
    tx: Tx, policy: Policy, visit: Visit, start: bool, at: datetime, actor: str
) -> None:
    """Step 4 by staff action (a workstation without a desk reader, or a reader down)."""
    usage = tx.state.open_usage(visit.id)
    if start:
        if visit.state is not VisitState.ADMITTED or visit.facility_id is None:
            raise Conflict(
                "Kunjungan belum mendapat fasilitas.", "The visit has no facility assigned."
            )
        if usage is not None:
            raise Conflict("Penggunaan fasilitas sudah berjalan.", "A session is already open.")
        queue.start_usage(tx, visit, tx.state.facilities[visit.facility_id], at, "staff")
        tx.fact("usage.started", at, actor)
        return
    if usage is None:
        raise Conflict("Tidak ada penggunaan fasilitas yang berjalan.", "No open session.")
    queue.end_usage(tx, policy, visit, usage, at, "staff")
    tx.fact("usage.ended", at, actor)
