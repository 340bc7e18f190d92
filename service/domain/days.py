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
_REFUSALS: dict[tuple[DayState, DayEvent], tuple[str, str]] = {
    (DayState.CLOSED, DayEvent.CLOSE): ("Hari ini sudah ditutup.", "This day is already closed."),
    (DayState.SIGNED, DayEvent.CLOSE): (
        "Hari ini sudah disahkan Kepala LPSE.",
        "This day is already signed off by the Head of LPSE.",
    ),
    (DayState.OPEN, DayEvent.REOPEN): ("Hari ini belum ditutup.", "This day is not closed."),
    (DayState.SIGNED, DayEvent.REOPEN): (
        "Hari yang sudah disahkan tidak dapat dibuka kembali; yang terjadi kemudian dicatat"
        " sebagai amandemen.",
        "A signed day cannot be reopened; what happens later is recorded as an amendment.",
    ),
}


def _advance(tx: Tx, day: date, event: DayEvent) -> None:
    state = _state(tx, day)
    refusal = _REFUSALS.get((state, event))
    if refusal is not None:
        raise Conflict(*refusal)
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
        raise Conflict(
            "Hari yang belum tiba tidak dapat ditutup.", "A day that has not come cannot be closed."
        )
    note = _reason(reason)
    if reason_needed(policy, day, at) and len(note or "") < REASON_MIN:
        raise ValidationError(
            f"Ruangan belum tutup (jam tutup {policy.closing:%H.%M} WIB): tulis alasan menutup"
            f" hari lebih awal (minimal {REASON_MIN} huruf).",
            f"The room closes at {policy.closing:%H:%M} WIB: write why the day is closed early"
            f" (at least {REASON_MIN} characters).",
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
            f"Alasan membuka kembali hari wajib diisi (minimal {REASON_MIN} huruf).",
            f"A reason for reopening the day is required (at least {REASON_MIN} characters).",
            field="reason",
        )
    tx.emit(f.DayReopened(at=at, actor=actor, day=day, reason=cleaned))


def sign_day(tx: Tx, policy: Policy, day: date, at: datetime, actor: str) -> None:
    if _state(tx, day) is not DayState.CLOSED:
        raise Conflict("Hari harus ditutup sebelum disahkan.", "Close the day before signing it.")
    # Step 9 ends with this signature, so measure the breaches as if signed now.
    unjustified = [
        b
        for b in standards.breaches(tx.state, policy, day, at)
        if b.justification is None and b.step != "9"
    ]
    if unjustified:
        raise Conflict(
            f"{len(unjustified)} penyimpangan standar waktu belum diberi alasan.",
            f"{len(unjustified)} service-standard breach(es) have no justification yet.",
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
        raise Conflict(
            "Tidak ada amandemen yang menunggu pengesahan.", "No amendment is waiting to be signed."
        )
    ids = tuple(a.id for a in pending)
    tx.emit(f.AmendmentsSigned(at=at, actor=actor, day=day, amendment_ids=ids))
    return [tx.state.amendments[i] for i in ids]


def justify(
    tx: Tx, day: date, step: str, subject: str, text: str, at: datetime, actor: str
) -> None:
    if step not in standards.STEP_NAMES:
        raise ValidationError(
            f"Langkah SOP tidak dikenal: {step}", f"Unknown SOP step: {step}", field="step"
        )
    if len(text.strip()) < 5:
        raise ValidationError(
            "Alasan penyimpangan wajib diisi (minimal 5 huruf).",
            "A justification of at least 5 characters is required.",
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
