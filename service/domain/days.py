"""Day close and sign-off (SOP step 9), with the justification of breaches.

Closing lists what is still open (visits, badges out, documents in their slots);
the Head of LPSE signs the day off once every breach of a service standard has
its justification, because the SOP counts an unexplained deviation as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from service.domain import facts as f
from service.domain import standards
from service.domain.lifecycle import DAY_TABLE, DayEvent, DayState, VisitState, advance
from service.domain.model import Amendment, Justification
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import Conflict, ValidationError
from service.i18n import Msg, _

WIB = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True, slots=True)
class OpenItems:
    open_visits: tuple[int, ...]
    badges_out: tuple[int, ...]
    documents_held: tuple[int, ...]
    open_help: tuple[int, ...]


def open_items(state: RoomState, day: date, tz: tzinfo = WIB) -> OpenItems:
    visits = [v for v in state.visits.values() if v.day == day]
    return OpenItems(
        open_visits=tuple(v.id for v in visits if v.state is not VisitState.CLOSED),
        badges_out=tuple(
            v.badge_id
            for v in visits
            if v.state is not VisitState.CLOSED and v.badge_id is not None
        ),
        documents_held=tuple(
            d.id
            for v in visits
            if (d := state.deposit_of(v.id)) is not None and d.returned_at is None
        ),
        open_help=tuple(
            h.id
            for h in state.help_requests.values()
            if h.opened_at.astimezone(tz).date() <= day and h.state.value in ("open", "claimed")
        ),
    )


def _state(tx: Tx, day: date) -> DayState:
    record = tx.state.days.get(day)
    return record.state if record is not None else DayState.OPEN


# Why a day cannot take an event now, in words a clerk reads (never a state's name).
_REFUSALS: dict[tuple[DayState, DayEvent], Msg] = {
    (DayState.CLOSED, DayEvent.CLOSE): _("Hari ini sudah ditutup."),
    (DayState.SIGNED, DayEvent.CLOSE): _("Hari ini sudah disahkan Kepala LPSE."),
    (DayState.OPEN, DayEvent.REOPEN): _("Hari ini belum ditutup."),
    (DayState.SIGNED, DayEvent.REOPEN): _(
        "Hari yang sudah disahkan tidak dapat dibuka kembali; yang terjadi kemudian dicatat sebagai amandemen."
    ),
}


def _advance(tx: Tx, day: date, event: DayEvent) -> None:
    state = _state(tx, day)
    refusal = _REFUSALS.get((state, event))
    if refusal is not None:
        raise Conflict(refusal)
    advance(DAY_TABLE, "hari", state, event)


REASON_MIN = 5


def _reason(text: str | None) -> str | None:
    cleaned = (text or "").strip()
    return cleaned or None


def reason_needed(policy: Policy, day: date, at: datetime) -> bool:
    """A working day closed before the room's closing time needs a reason (the books show it)."""
    return day.isoweekday() in policy.days and at < policy.closing_at(day)


def close_day(
    tx: Tx, policy: Policy, day: date, at: datetime, actor: str, reason: str | None = None
) -> OpenItems:
    """Close ``day`` (SOP step 9); before the closing time only with a reason.

    The reason is kept on the day (``note``) and in the journal (``DayClosed.note``).
    """
    _advance(tx, day, DayEvent.CLOSE)
    if day > policy.day_of(at):
        raise Conflict(_("Hari yang belum tiba tidak dapat ditutup."))
    note = _reason(reason)
    if reason_needed(policy, day, at) and len(note or "") < REASON_MIN:
        raise ValidationError(
            _(
                "Ruangan belum tutup (jam tutup {closing:%H.%M} WIB): tulis alasan menutup hari lebih awal (minimal {REASON_MIN} huruf).",
                closing=policy.closing,
                REASON_MIN=REASON_MIN,
            ),
            field="note",
        )
    tx.emit(f.DayClosed(at=at, actor=actor, day=day, note=note))
    return open_items(tx.state, day, policy.tz)


def reopen_day(tx: Tx, day: date, at: datetime, actor: str, reason: str | None) -> None:
    """The Head of LPSE reopens a closed, unsigned day; the reason is journaled."""
    _advance(tx, day, DayEvent.REOPEN)
    cleaned = _reason(reason)
    if cleaned is None or len(cleaned) < REASON_MIN:
        raise ValidationError(
            _(
                "Alasan membuka kembali hari wajib diisi (minimal {REASON_MIN} huruf).",
                REASON_MIN=REASON_MIN,
            ),
            field="reason",
        )
    tx.emit(f.DayReopened(at=at, actor=actor, day=day, reason=cleaned))


def sign_day(tx: Tx, policy: Policy, day: date, at: datetime, actor: str) -> None:
    if _state(tx, day) is not DayState.CLOSED:
        raise Conflict(_("Hari harus ditutup sebelum disahkan."))
    # Step 9 ends with this signature, so measure the breaches as if signed now.
    unjustified = [
        b
        for b in standards.breaches(tx.state, policy, day, at)
        if b.justification is None and b.step != "9"
    ]
    if unjustified:
        raise Conflict(
            _("{len} penyimpangan standar waktu belum diberi alasan.", len=len(unjustified)),
        )
    advance(DAY_TABLE, "hari", DayState.CLOSED, DayEvent.SIGN)
    tx.emit(f.DaySigned(at=at, actor=actor, day=day))


def pending_amendments(state: RoomState, day: date) -> list[Amendment]:
    """What happened after ``day`` was signed and waits for the Head's signature."""
    return sorted(
        (a for a in state.amendments.values() if a.day == day and a.signed_at is None),
        key=lambda a: a.id,
    )


def sign_amendments(tx: Tx, day: date, at: datetime, actor: str) -> list[Amendment]:
    """The Head of LPSE signs every pending amendment of a signed day."""
    pending = pending_amendments(tx.state, day)
    if not pending:
        raise Conflict(_("Tidak ada amandemen yang menunggu pengesahan."))
    ids = tuple(a.id for a in pending)
    tx.emit(f.AmendmentsSigned(at=at, actor=actor, day=day, amendment_ids=ids))
    return [tx.state.amendments[i] for i in ids]


def justify(
    tx: Tx, day: date, step: str, subject: str, text: str, at: datetime, actor: str
) -> None:
    if step not in standards.STEP_NAMES:
        raise ValidationError(_("Langkah SOP tidak dikenal: {step}", step=step), field="step")
    if len(text.strip()) < 5:
        raise ValidationError(
            _("Alasan penyimpangan wajib diisi (minimal 5 huruf)."),
            field="text",
        )
    existing = next(
        (
            j
            for j in tx.state.justifications.values()
            if j.day == day and j.step == step and j.subject == subject
        ),
        None,
    )
    note = Justification(
        id=existing.id if existing is not None else tx.next_id("justification"),
        day=day,
        step=step,
        subject=subject,
        text=text.strip(),
        by=actor,
        at=at,
    )
    tx.emit(f.BreachJustified(at=at, actor=actor, justification=note))
