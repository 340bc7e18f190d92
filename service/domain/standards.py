"""Service-time standards (standar waktu layanan): each timed SOP step, measured.

The SOP counts any deviation from a step's standard as a failure the executor
must account for. The steps measured from the records:

- step 2, access form and badge: form opened -> badge issued;
- step 3, facility or queue number: badge issued -> facility assigned or ticket;
- step 8, return: badge returned -> identity document handed back;
- step 9, hand-over: day closed -> signed off by the Head of LPSE.

A step still running past its standard is a breach too (``ongoing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from service.domain.policy import Policy
from service.domain.state import RoomState
from service.i18n import Text, _

STEP_NAMES: dict[str, Text] = {
    "2": _("Formulir akses & tanda pengenal khusus"),
    "3": _("Fasilitas / nomor antrian"),
    "8": _("Pengembalian kartu & identitas"),
    "9": _("Penyerahan laporan ke Kepala LPSE"),
}


@dataclass(frozen=True, slots=True)
class Timing:
    step: str
    subject: str  # "visit:12" or "day:2026-11-25"
    label: str
    started: datetime
    ended: datetime | None
    standard: timedelta

    def duration(self, now: datetime) -> timedelta:
        return (self.ended or now) - self.started


@dataclass(frozen=True, slots=True)
class Breach:
    step: str
    subject: str
    label: str
    started: datetime
    ended: datetime | None
    duration: timedelta
    standard: timedelta
    justification: str | None
    justified_by: str | None

    @property
    def ongoing(self) -> bool:
        return self.ended is None


def timings(state: RoomState, policy: Policy, day: date) -> list[Timing]:
    std = policy.standards
    out: list[Timing] = []
    for visit in sorted(state.visits.values(), key=lambda v: v.id):
        if visit.day != day or visit.back_entered:
            continue
        subject, label = f"visit:{visit.id}", f"{visit.name} ({visit.company})"
        if visit.state.value != "closed" or visit.badge_issued_at is not None:
            out.append(
                Timing("2", subject, label, visit.form_started_at, visit.badge_issued_at, std["2"])
            )
        if visit.badge_issued_at is not None:
            out.append(
                Timing("3", subject, label, visit.badge_issued_at, visit.assigned_at, std["3"])
            )
        deposit = state.deposit_of(visit.id)
        if visit.returned_at is not None and deposit is not None:
            out.append(
                Timing("8", subject, label, visit.returned_at, deposit.returned_at, std["8"])
            )
    record = state.days.get(day)
    if record is not None and record.closed_at is not None:
        out.append(
            Timing(
                "9",
                f"day:{day.isoformat()}",
                day.isoformat(),
                record.closed_at,
                record.signed_at,
                std["9"],
            )
        )
    return out


def breaches(state: RoomState, policy: Policy, day: date, now: datetime) -> list[Breach]:
    notes = {(j.step, j.subject): j for j in state.justifications.values() if j.day == day}
    out: list[Breach] = []
    for t in timings(state, policy, day):
        duration = t.duration(now)
        if duration <= t.standard:
            continue
        note = notes.get((t.step, t.subject))
        out.append(
            Breach(
                t.step,
                t.subject,
                t.label,
                t.started,
                t.ended,
                duration,
                t.standard,
                note.text if note else None,
                note.by if note else None,
            )
        )
    return out
