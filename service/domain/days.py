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


def close_day(
    tx: Tx, day: date, at: datetime, actor: str, note: str | None = None, tz: tzinfo = WIB
) -> OpenItems:
    advance(DAY_TABLE, "hari", _state(tx, day), DayEvent.CLOSE)
    tx.emit(f.DayClosed(at=at, actor=actor, day=day, note=(note or "").strip() or None))
    return open_items(tx.state, day, tz)


def reopen_day(tx: Tx, day: date, at: datetime, actor: str, reason: str | None = None) -> None:
    advance(DAY_TABLE, "hari", _state(tx, day), DayEvent.REOPEN)
    tx.emit(f.DayReopened(at=at, actor=actor, day=day, reason=(reason or "").strip() or None))


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
