"""The visit report (Laporan Kunjungan) for the Head of LPSE, as plain figures.

Built from the same :class:`~service.reports.data.Records` as the books; the
service-standard compliance comes from :mod:`service.domain.standards`, run over
a :class:`~service.domain.model.RoomState` rebuilt from those records.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from service.domain import standards
from service.domain.helpdesk import CATEGORIES
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.i18n import render
from service.reports.data import Records, Row, day_range
from service.reports.wording import word
from service.store.loader import entity_from_values


@dataclass(frozen=True, slots=True)
class StepCompliance:
    step: str
    label: str
    measured: int
    within: int
    standard_min: float


@dataclass(frozen=True, slots=True)
class BreachLine:
    day: date
    step: str
    label: str
    started: datetime
    minutes: float
    standard_min: float
    ongoing: bool
    justification: str
    by: str


@dataclass(frozen=True, slots=True)
class HelpLine:
    category: str
    label: str
    count: int
    resolved: int
    median_min: float | None
    longest_min: float | None


@dataclass(frozen=True, slots=True)
class VisitReport:
    start: date
    end: date
    visits: int
    companies: int
    packages: tuple[str, ...]
    per_day: tuple[tuple[date, int], ...]
    occupancy: tuple[tuple[int, float], ...]  # local hour -> people present (mean per day)
    utilisation: tuple[tuple[str, float], ...]  # facility code -> % of opening hours
    tickets: int
    wait_median_min: float | None
    wait_longest_min: float | None
    no_shows: int
    wait_buckets: tuple[tuple[str, int], ...]
    help: tuple[HelpLine, ...]
    compliance: tuple[StepCompliance, ...]
    breaches: tuple[BreachLine, ...]
    not_returned: tuple[tuple[int, str, str], ...]  # visit id, "name (company)", what

    @property
    def monthly(self) -> bool:
        return self.start != self.end


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def room_state(records: Records) -> RoomState:
    """The records as the rules' state (for :mod:`service.domain.standards`)."""
    state = RoomState()
    for entity in ("visit", "deposit", "day", "justification"):
        for row in records[entity].values():
            state.put(entity, entity_from_values(entity, row))
    return state


def _minutes(span: timedelta) -> float:
    return round(span.total_seconds() / 60, 1)


def _presence(
    records: Records, policy: Policy, days: list[date], now: datetime
) -> tuple[tuple[int, float], ...]:
    """People in the room per local hour; a report of today draws only the hours begun."""
    open_days = [d for d in days if d.isoweekday() in policy.days] or days
    hours = range(policy.opening.hour, max(policy.closing.hour, policy.opening.hour + 1))
    local = now.astimezone(policy.tz)
    if len(days) == 1 and local.date() <= days[0]:
        # Today (or a day still to come): the hours that have begun, not a flat future.
        begun = local.hour + 1 if local.date() == days[0] else hours.start
        hours = range(hours.start, max(hours.start, min(hours.stop, begun)))
    counts = dict.fromkeys(hours, 0)
    events = records.by_visit("access_event")
    for visit in records["visit"].values():
        if not days[0] <= visit["day"] <= days[-1]:
            continue
        entries = [e["at"] for e in events.get(visit["id"], []) if e["role"] == "door_in"]
        if not entries and visit["entered_at"] is None:
            continue
        start = min(entries) if entries else visit["entered_at"]
        end = min(
            visit["exited_at"]
            or visit["closed_at"]
            or day_range(policy.tz, visit["day"], visit["day"])[1],
            now,
        )
        for hour in hours:
            lo = datetime.combine(visit["day"], policy.opening, tzinfo=policy.tz).replace(hour=hour)
            if start < lo + timedelta(hours=1) and end > lo:
                counts[hour] += 1
    return tuple((h, round(c / len(open_days), 2)) for h, c in counts.items())


def _utilisation(
    records: Records, policy: Policy, days: list[date]
) -> tuple[tuple[str, float], ...]:
    open_days = sum(1 for d in days if d.isoweekday() in policy.days) or 1
    open_s = (
        datetime.combine(days[0], policy.closing) - datetime.combine(days[0], policy.opening)
    ).total_seconds() * open_days
    used: Counter[int] = Counter()
    visits = records["visit"]
    for usage in records["usage"].values():
        visit = visits.get(usage["visit_id"])
        if visit is None or not days[0] <= visit["day"] <= days[-1]:
            continue
        end = usage["ended_at"] or visit["closed_at"] or usage["started_at"]
        used[usage["facility_id"]] += int((end - usage["started_at"]).total_seconds())
    return tuple(
        (f["code"], round(100 * used[f["id"]] / open_s, 1) if open_s > 0 else 0.0)
        for f in sorted(records["facility"].values(), key=lambda f: f["code"])
        if not f["out_of_service"] or used[f["id"]]
    )


WAIT_BUCKETS = ((0, 5, "0-5"), (5, 15, "5-15"), (15, 30, "15-30"), (30, 60, "30-60"))


def _waits(tickets: list[Row]) -> tuple[list[float], tuple[tuple[str, int], ...]]:
    waits = [
        _minutes(t["called_at"] - t["issued_at"]) for t in tickets if t["called_at"] is not None
    ]
    buckets = [(label, sum(1 for w in waits if lo <= w < hi)) for lo, hi, label in WAIT_BUCKETS]
    buckets.append(("60+", sum(1 for w in waits if w >= 60)))
    return waits, tuple(buckets)


def _help(records: Records, lo: datetime, hi: datetime) -> tuple[HelpLine, ...]:
    by_cat: dict[str, list[Row]] = {}
    for req in records["help"].values():
        if lo <= req["opened_at"] < hi:
            by_cat.setdefault(req["category"], []).append(req)
    lines = []
    for cat, reqs in sorted(by_cat.items()):
        spans = [
            _minutes(r["resolved_at"] - r["opened_at"]) for r in reqs if r["state"] == "resolved"
        ]
        lines.append(
            HelpLine(
                cat,
                render(CATEGORIES.get(cat, cat)),
                len(reqs),
                len(spans),
                statistics.median(spans) if spans else None,
                max(spans, default=None),
            )
        )
    return tuple(lines)


def _compliance(
    records: Records, policy: Policy, days: list[date], now: datetime
) -> tuple[tuple[StepCompliance, ...], tuple[BreachLine, ...]]:
    state = room_state(records)
    measured: Counter[str] = Counter()
    within: Counter[str] = Counter()
    found: list[BreachLine] = []
    for day in days:
        for t in standards.timings(state, policy, day):
            measured[t.step] += 1
            within[t.step] += t.duration(now) <= t.standard
        for b in standards.breaches(state, policy, day, now):
            found.append(
                BreachLine(
                    day,
                    b.step,
                    b.label,
                    b.started,
                    _minutes(b.duration),
                    _minutes(b.standard),
                    b.ongoing,
                    b.justification or "",
                    b.justified_by or "",
                )
            )
    steps = tuple(
        StepCompliance(s, render(names), measured[s], within[s], _minutes(policy.standards[s]))
        for s, names in standards.STEP_NAMES.items()
    )
    return steps, tuple(found)


def _not_returned(records: Records, days: list[date]) -> tuple[tuple[int, str, str], ...]:
    deposits = records.deposits_by_visit()
    out = []
    for visit in sorted(records["visit"].values(), key=lambda v: v["id"]):
        if not days[0] <= visit["day"] <= days[-1]:
            continue
        who = f"{visit['name']} ({visit['company']})"
        if visit["state"] != "closed" and visit["badge_id"] is not None:
            out.append((visit["id"], who, word("badge_out")))
        deposit = deposits.get(visit["id"])
        if deposit is not None and deposit["returned_at"] is None:
            out.append((visit["id"], who, f"{word('doc_held')} ({deposit['slot']})"))
    return tuple(out)


def build_report(
    records: Records, policy: Policy, start: date, end: date, now: datetime | None = None
) -> VisitReport:
    now = now or datetime.now(UTC)
    days = _days(start, end)
    lo, hi = day_range(policy.tz, start, end)
    visits = [v for v in records["visit"].values() if start <= v["day"] <= end]
    per_day = Counter(v["day"] for v in visits)
    tickets = [t for t in records["ticket"].values() if start <= t["day"] <= end]
    waits, buckets = _waits(tickets)
    compliance, breaches = _compliance(records, policy, days, now)
    return VisitReport(
        start=start,
        end=end,
        visits=len(visits),
        companies=len({v["company"].strip().lower() for v in visits}),
        packages=tuple(sorted({v["tender_code"] for v in visits if v["tender_code"]})),
        per_day=tuple((d, per_day[d]) for d in days),
        occupancy=_presence(records, policy, days, now),
        utilisation=_utilisation(records, policy, days),
        tickets=len(tickets),
        wait_median_min=statistics.median(waits) if waits else None,
        wait_longest_min=max(waits, default=None),
        no_shows=sum(1 for t in tickets if t["state"] == "skipped"),
        wait_buckets=buckets,
        help=_help(records, lo, hi),
        compliance=compliance,
        breaches=breaches,
        not_returned=_not_returned(records, days),
    )
