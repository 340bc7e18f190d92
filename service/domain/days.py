"""Day close and sign-off (SOP step 9), with the justification of breaches.

Closing lists what is still open (visits, badges out, documents in their slots);
the Head of LPSE signs the day off once every breach of a service standard has
its justification, because the SOP counts an unexplained deviation as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from service.domain import standards
from service.domain.lifecycle import DAY_TABLE, DayEvent, DayState, VisitState, advance
from service.domain.model import Day, RoomState
from service.domain.policy import Policy
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


def _day(tx: Tx, day: date) -> Day:
    record = tx.state.days.get(day)
    if record is None:
        record = tx.create("day", {}, key=day)
    return record


def close_day(
    tx: Tx, day: date, at: datetime, actor: str, note: str | None = None, tz: tzinfo = WIB
) -> OpenItems:
    record = _day(tx, day)
    tx.update(
        "day",
        day,
        closed_at=at,
        closed_by=actor,
        note=note,
        state=advance(DAY_TABLE, "hari", record.state, DayEvent.CLOSE),
    )
    tx.fact("day.closed", at, actor)
    return open_items(tx.state, day, tz)


def reopen_day(tx: Tx, day: date, at: datetime, actor: str) -> None:
    record = _day(tx, day)
    tx.update(
        "day",
        day,
        closed_at=None,
        closed_by=None,
        state=advance(DAY_TABLE, "hari", record.state, DayEvent.REOPEN),
    )
    tx.fact("day.reopened", at, actor)


def sign_day(tx: Tx, policy: Policy, day: date, at: datetime, actor: str) -> None:
    record = _day(tx, day)
    if record.state is not DayState.CLOSED:
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
    tx.update(
        "day",
        day,
        signed_at=at,
        signed_by=actor,
        state=advance(DAY_TABLE, "hari", record.state, DayEvent.SIGN),
    )
    tx.fact("day.signed", at, actor)


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
    if existing is not None:
        tx.update("justification", existing.id, text=text.strip(), by=actor, at=at)
    else:
        tx.create(
            "justification",
            {
                "day": day,
                "step": step,
                "subject": subject,
                "text": text.strip(),
                "by": actor,
                "at": at,
            },
        )
    tx.fact("breach.justified", at, actor)
