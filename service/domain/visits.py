"""Visits from arrival to return (SOP steps 2, 3, 7 and 8) and the badge pool.

Step 2: the access form is filled, the identity document is deposited in a
numbered slot and exchanged for a special badge. Step 3: a facility, or a queue
number. Steps 7-8: the badge comes back, usage sessions close, the visit closes,
and the document goes back from its slot to the person who deposited it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain import back_entry, queue
from service.domain import facts as f
from service.domain.identity import DocumentType
from service.domain.lifecycle import (
    BADGE_TABLE,
    VISIT_TABLE,
    BadgeEvent,
    BadgeState,
    IllegalTransition,
    VisitEvent,
    VisitState,
    advance,
)
from service.domain.model import Badge, Deposit, DeviceItem, Ticket, Visit, Visitor
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import BidroomError, Conflict, NotFound, ValidationError
from service.i18n import _


@dataclass(frozen=True, slots=True)
class Arrival:
    """The bidding-room access form (formulir akses bidding room), already validated."""

    name: str
    company: str
    doc_type: DocumentType
    doc_masked: str
    npwp_masked: str | None = None
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
    # The numbers themselves (document, phone, NPWP): sealed by the store, never kept.
    identity: f.Identity | None = None
    # A back-entry for a document that still has an open visit: the clerk confirmed it.
    confirm_open_visit: bool = False


def _require(visit_id: int, visits: dict[int, Visit]) -> Visit:
    visit = visits.get(visit_id)
    if visit is None:
        raise NotFound(_("Kunjungan {visit_id} tidak ditemukan.", visit_id=visit_id))
    return visit


def register(
    tx: Tx,
    policy: Policy,
    form: Arrival,
    at: datetime,
    actor: str,
    now: datetime | None = None,
) -> Visit:
    """Step 2: the access form is recorded and the identity document deposited.

    ``at`` is when it happened; ``now`` (default ``at``) the clock, for a back-entry.
    """
    if form.back_entered:
        back_entry.check(
            tx.state, policy, form.known_visitor, form.confirm_open_visit, at, now or at
        )
    if not form.back_entered and not (form.rules_ack and form.privacy_ack):
        raise ValidationError(
            _(
                "Pengunjung harus menyetujui tata tertib dan pemberitahuan pelindungan data pribadi."
            ),
            field="rules_ack",
        )
    if not form.name.strip():
        raise ValidationError(_("Nama wajib diisi."), field="name")
    if form.wanted_kind is not None and form.wanted_kind not in policy.kinds:
        raise ValidationError(
            _("Jenis fasilitas tidak dikenal: {wanted_kind}", wanted_kind=form.wanted_kind),
            field="wanted_kind",
        )
    slot = free_slot(tx, policy)
    known = form.known_visitor
    visitor = Visitor(
        id=known.id if known is not None else tx.next_id("visitor"),
        name=form.name.strip(),
        company=form.company.strip(),
        doc_type=form.doc_type.value,
        doc_masked=form.doc_masked,
        npwp_masked=form.npwp_masked,
        created_at=known.created_at if known is not None else at,
    )
    tx.emit(f.VisitorRecorded(at=at, actor=actor, visitor=visitor, identity=form.identity))
    visit = Visit(
        id=tx.next_id("visit"),
        day=policy.day_of(at),
        visitor_id=visitor.id,
        name=visitor.name,
        company=visitor.company,
        purpose=form.purpose,
        tender_code=form.tender_code,
        devices=tuple(DeviceItem(kind=k, serial=s) for k, s in form.devices),
        wanted_kind=form.wanted_kind,
        form_started_at=form.form_started_at or at,
        registered_at=at,
        back_entered=form.back_entered,
        officer=actor,
        rules_ack=form.rules_ack,
        privacy_ack=form.privacy_ack,
    )
    deposit = Deposit(
        id=tx.next_id("deposit"),
        visit_id=visit.id,
        doc_type=form.doc_type.value,
        doc_masked=form.doc_masked,
        slot=slot,
        taken_at=at,
        taken_by=actor,
    )
    tx.emit(f.VisitRegistered(at=at, actor=actor, visit=visit, deposit=deposit))
    return visit


def free_slot(tx: Tx, policy: Policy) -> str:
    held = {d.slot for d in tx.state.deposits.values() if d.returned_at is None}
    for slot in policy.slots:
        if slot not in held:
            return slot
    raise Conflict(_("Semua laci titipan identitas terisi."))


def issue_problem(
    state: RoomState, policy: Policy, visit: Visit, badge: Badge
) -> BidroomError | None:
    """Why ``badge`` cannot be issued to ``visit`` now (None: it can)."""
    if visit.state is VisitState.CLOSED:
        return Conflict(_("Kunjungan sudah ditutup."))
    if visit.badge_id is not None:
        return Conflict(_("Kunjungan sudah memiliki kartu."))
    if state.deposit_of(visit.id) is None:
        return Conflict(_("Titipan identitas belum dicatat."))
    try:
        advance(BADGE_TABLE, "kartu", badge.state, BadgeEvent.ISSUE)
    except IllegalTransition as refused:
        return refused
    if (
        visit.state is VisitState.REGISTERED
        and visit.wanted_kind is not None
        and visit.wanted_kind not in policy.kinds
    ):
        return NotFound(
            _("Jenis fasilitas tidak dikenal: {wanted_kind}", wanted_kind=visit.wanted_kind),
            field="wanted_kind",
        )
    return None


def issue_badge(
    tx: Tx, policy: Policy, visit: Visit, badge: Badge, at: datetime, actor: str
) -> Ticket | None:
    """Bind a free badge to the visit, then step 3: facility or queue number."""
    problem = issue_problem(tx.state, policy, visit, badge)
    if problem is not None:
        raise problem
    tx.emit(f.BadgeIssued(at=at, actor=actor, badge_id=badge.id, visit_id=visit.id))
    for reader, armed in list(tx.state.armed.items()):
        if armed.visit_id == visit.id:
            tx.emit(f.BadgeIssueDisarmed(at=at, actor=actor, reader=reader))
    if tx.state.visits[visit.id].state is VisitState.REGISTERED:
        return queue.assign_or_queue(tx, policy, visit.id, at, actor)
    return None


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
        raise Conflict(_("Kunjungan sudah ditutup."))
    if code is not None:
        facility = tx.state.facility_by_code(code)
        if facility is None:
            raise NotFound(_("Fasilitas {code} tidak ada.", code=code))
        if not queue.is_free(facility, at) and facility.visit_id != visit.id:
            raise Conflict(_("Fasilitas {code} sedang dipakai.", code=code))
        if facility.visit_id == visit.id:
            return None  # already theirs
        _leave_facility(tx, policy, visit.id, at, actor)
        queue.cancel_ticket_of(tx, visit.id, at, actor)
        if tx.state.visits[visit.id].state is VisitState.QUEUED:
            advance(VISIT_TABLE, "kunjungan", VisitState.QUEUED, VisitEvent.UNQUEUE)
            tx.emit(f.VisitUnqueued(at=at, actor=actor, visit_id=visit.id))
        queue.assign(tx, visit.id, tx.state.facilities[facility.id], at, actor)
        return None
    if visit.state is not VisitState.REGISTERED:
        raise Conflict(
            _("Kunjungan sudah mendapat fasilitas atau nomor antrian."),
        )
    if kind is not None and kind not in policy.kinds:
        raise ValidationError(_("Jenis fasilitas tidak dikenal: {kind}", kind=kind), field="kind")
    if kind != visit.wanted_kind:
        tx.emit(f.WantedKindChanged(at=at, actor=actor, visit_id=visit.id, kind=kind))
    return queue.assign_or_queue(tx, policy, visit.id, at, actor)


def _leave_facility(tx: Tx, policy: Policy, visit_id: int, at: datetime, actor: str) -> None:
    usage = tx.state.open_usage(visit_id)
    if usage is not None:
        tx.emit(f.UsageEnded(at=at, actor=actor, usage_id=usage.id, by="return"))
    queue.leave(tx, policy, visit_id, at, actor)


def _wind_up(tx: Tx, policy: Policy, visit_id: int, at: datetime, actor: str) -> None:
    """What every way of ending a visit does: sessions, facility, ticket, badge, presence."""
    _leave_facility(tx, policy, visit_id, at, actor)
    queue.cancel_ticket_of(tx, visit_id, at, actor)
    visit = tx.state.visits[visit_id]
    if visit.inside:
        tx.emit(f.VisitExited(at=at, actor=actor, visit_id=visit_id))
    if visit.badge_id is not None:
        badge = tx.state.badges[visit.badge_id]
        if badge.state is BadgeState.ISSUED and badge.visit_id == visit_id:
            tx.emit(f.BadgeReturned(at=at, actor=actor, badge_id=badge.id))
    for reader, armed in list(tx.state.armed.items()):
        if armed.visit_id == visit_id:
            tx.emit(f.BadgeIssueDisarmed(at=at, actor=actor, reader=reader))
        elif armed.asked_visit_id == visit_id:
            tx.emit(
                f.DeskReturnAnswered(
                    at=at, actor=actor, reader=reader, visit_id=visit_id, returned=True
                )
            )


def return_badge(
    tx: Tx,
    policy: Policy,
    visit: Visit,
    at: datetime,
    actor: str,
    devices_checked: bool | None = None,
) -> Deposit | None:
    """Steps 7-8: the badge is back; the visit closes and its document's slot is shown."""
    advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.RETURN)
    _wind_up(tx, policy, visit.id, at, actor)
    tx.emit(f.VisitReturned(at=at, actor=actor, visit_id=visit.id, devices_checked=devices_checked))
    return tx.state.deposit_of(visit.id)


def force_close(
    tx: Tx, policy: Policy, visit: Visit, reason: str, at: datetime, actor: str
) -> Deposit | None:
    """A supervisor closes a visit that cannot end normally (lost badge, visitor left)."""
    if not reason.strip():
        raise ValidationError(_("Alasan penutupan wajib diisi."), field="reason")
    advance(VISIT_TABLE, "kunjungan", visit.state, VisitEvent.FORCE_CLOSE)
    _wind_up(tx, policy, visit.id, at, actor)
    tx.emit(f.VisitForceClosed(at=at, actor=actor, visit_id=visit.id, reason=reason.strip()))
    return tx.state.deposit_of(visit.id)


def return_document(tx: Tx, visit: Visit, to: str, at: datetime, actor: str) -> Deposit:
    """The deposited document leaves its slot; only once its visit is closed."""
    deposit = tx.state.deposit_of(visit.id)
    if deposit is None:
        raise NotFound(_("Tidak ada titipan identitas."))
    if visit.state is not VisitState.CLOSED:
        raise Conflict(
            _("Kartu identitas dikembalikan setelah tanda pengenal khusus diterima kembali."),
        )
    if deposit.returned_at is not None:
        raise Conflict(_("Kartu identitas sudah dikembalikan."))
    tx.emit(
        f.DocumentReturned(
            at=at,
            actor=actor,
            deposit_id=deposit.id,
            visitor_id=visit.visitor_id,
            to=to.strip() or visit.name,
        )
    )
    return tx.state.deposits[deposit.id]


def arm_issue(tx: Tx, reader: str, visit: Visit, at: datetime, actor: str) -> None:
    """The front desk's next tap of a free badge binds it to this visit."""
    if visit.state is VisitState.CLOSED or visit.badge_id is not None:
        raise Conflict(_("Kunjungan ini tidak menunggu kartu."))
    tx.emit(f.BadgeIssueArmed(at=at, actor=actor, reader=reader, visit_id=visit.id))


def enroll_badge(tx: Tx, uid: str, label: str, at: datetime, actor: str) -> Badge:
    if tx.state.badge_by(uid) is not None:
        raise Conflict(_("Kartu dengan UID ini sudah terdaftar."))
    if any(b.label == label for b in tx.state.badges.values()):
        raise Conflict(_("Label {label} sudah dipakai.", label=label))
    badge = Badge(id=tx.next_id("badge"), uid=uid, label=label, enrolled_at=at)
    tx.emit(f.BadgeEnrolled(at=at, actor=actor, badge=badge))
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
        tx.emit(f.VisitBadgeLost(at=at, actor=actor, visit_id=badge.visit_id))
    tx.emit(
        f.BadgeStateChanged(
            at=at, actor=actor, badge_id=badge.id, event=event, state=new_state, note=note
        )
    )


def get_visit(tx: Tx, visit_id: int) -> Visit:
    return _require(visit_id, tx.state.visits)


def staff_usage(
    tx: Tx, policy: Policy, visit: Visit, start: bool, at: datetime, actor: str
) -> None:
    """Step 4 by staff action (a workstation without a desk reader, or a reader down)."""
    usage = tx.state.open_usage(visit.id)
    if start:
        if visit.state is not VisitState.ADMITTED or visit.facility_id is None:
            raise Conflict(_("Kunjungan belum mendapat fasilitas."))
        if usage is not None:
            raise Conflict(_("Penggunaan fasilitas sudah berjalan."))
        facility = tx.state.facilities[visit.facility_id]
        queue.start_usage(tx, visit, facility, at, "staff", actor)
        return
    if usage is None:
        raise Conflict(_("Tidak ada penggunaan fasilitas yang berjalan."))
    queue.end_usage(tx, policy, visit.id, usage, at, "staff", actor)
