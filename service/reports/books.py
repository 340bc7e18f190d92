"""The two control books as plain rows, built from :class:`~service.reports.data.Records`.

- Buku Kendali Akses Ruang Bidding Room: one row per visit.
- Buku Kendali Penggunaan Fasilitas LPSE: one row per usage session, and the
  help requests (the SOP's "permasalahan") with their problem and resolution.

Times stay aware UTC datetimes here; the writers (PDF, XLSX, CSV) show them in
the site's zone. :func:`row_digests` gives each row a digest without its personal
fields, which the seal keeps so a book can be checked after crypto-shredding.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from service.domain.helpdesk import CATEGORIES
from service.i18n import render
from service.reports.data import Records, Row
from service.reports.wording import word
from service.store.journal import canonical

PERSONAL = frozenset({"name"})
# The fields a row's digest covers: those of the first seals (so they still verify).
# The columns added since (purpose, who took the document back, ...) come from the
# visit and deposit records, which the seal's record digests cover as a whole.
SEALED_FIELDS = {
    "access": (
        "no", "day", "visit_id", "name", "company", "document", "slot", "badge", "arrival",
        "entry", "exit", "returned", "doc_returned", "officer", "remarks",
    ),
    "usage": (
        "no", "day", "usage_id", "visit_id", "name", "company", "facility", "start", "end",
        "duration", "help",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AccessRow:
    no: int
    day: date
    visit_id: int
    name: str
    company: str
    document: str
    slot: str
    badge: str
    arrival: datetime
    entry: datetime | None
    exit: datetime | None
    returned: datetime | None
    doc_returned: datetime | None
    officer: str  # the login; the writers print the staff account's full name
    remarks: str
    purpose: str = ""  # "Upload dokumen penawaran / T-101"
    doc_returned_to: str = ""  # who took the document back (the visitor or a named person)
    doc_returned_by: str = ""  # the officer's login


@dataclass(frozen=True, slots=True)
class UsageRow:
    no: int
    day: date
    usage_id: int
    visit_id: int
    name: str
    company: str
    facility: str
    start: datetime
    end: datetime | None
    duration: timedelta | None
    help: str
    recorded: str = ""  # how the session was timed: "tap", "staff", "return"


@dataclass(frozen=True, slots=True)
class HelpLine:
    """A help request (the SOP's "permasalahan") with its resolution."""

    no: int
    day: date
    help_id: int
    visit_id: int | None
    name: str
    company: str
    facility: str
    category: str
    problem: str
    opened: datetime
    resolved: datetime | None
    state: str
    resolution: str
    resolved_by: str  # a login


@dataclass(frozen=True, slots=True)
class AmendmentLine:
    """Something that happened after its day was signed (the day's rows stay as signed)."""

    no: int
    day: date
    at: datetime
    what: str  # the kinds of change, as facts name them: "visit.returned", ...
    records: str  # the rows it concerns: "visit:12, deposit:12"
    actor: str
    signed_at: datetime | None
    signed_by: str | None


@dataclass(frozen=True, slots=True)
class Books:
    access: list[AccessRow]
    usage: list[UsageRow]
    amendments: list[AmendmentLine] = field(default_factory=list)
    help: list[HelpLine] = field(default_factory=list)
    staff: dict[str, str] = field(default_factory=dict)  # login -> full name
    # Facilities given and never timed by a desk session (no desk reader, or none
    # tapped): from the assignment to its return. Not in the row digests (the journal
    # replay of a seal check derives the sessions only).
    assigned: list[UsageRow] = field(default_factory=list)

    def sessions(self) -> list[UsageRow]:
        """Every facility given, desk sessions and assignments, in time order, numbered."""
        if not self.assigned:
            return self.usage
        rows = sorted([*self.usage, *self.assigned], key=lambda r: (r.start, r.visit_id))
        return [replace(r, no=n) for n, r in enumerate(rows, 1)]

    def officer(self, login: str | None) -> str:
        """The staff account's full name for a login (the login itself if unknown)."""
        if not login:
            return ""
        return self.staff.get(login) or login


def _door_times(events: list[Row]) -> tuple[datetime | None, datetime | None]:
    entries = [e["at"] for e in events if e["granted"] and e["role"] == "door_in"]
    exits = [e["at"] for e in events if e["granted"] and e["role"] == "door_out"]
    return min(entries, default=None), max(exits, default=None)


def _remarks(visit: Row, deposit: Row | None, events: list[Row], tickets: dict[Any, Row]) -> str:
    notes: list[str] = []
    ticket = tickets.get(visit["ticket_id"]) if visit["ticket_id"] is not None else None
    if ticket is not None:
        notes.append(f"{word('queue')} {ticket['number']}")
    if visit["forced"]:
        notes.append(f"{word('forced')}: {visit['close_reason'] or ''}".strip())
    if visit["back_entered"]:
        notes.append(word("back_entered"))
    for kind in sorted({e["anomaly"] for e in events if e["anomaly"]}):
        notes.append(word(kind))
    if visit["state"] != "closed" and visit["badge_id"] is not None:
        notes.append(word("badge_out"))
    if deposit is not None and deposit["returned_at"] is None:
        notes.append(word("doc_held"))
    return "; ".join(notes)


def _badge_label(visit: Row, events: list[Row], badges: dict[Any, Row]) -> str:
    badge_id = visit["badge_id"]
    if badge_id is None:
        badge_id = next((e["badge_id"] for e in events if e["reason"] == "badge_issued"), None)
    badge = badges.get(badge_id) if badge_id is not None else None
    return str(badge["label"]) if badge else ""


def access_book(records: Records, start: date, end: date) -> list[AccessRow]:
    deposits = records.deposits_by_visit()
    events = records.by_visit("access_event")
    visits = sorted(
        (v for v in records["visit"].values() if start <= v["day"] <= end),
        key=lambda v: (v["day"], v["registered_at"], v["id"]),
    )
    rows: list[AccessRow] = []
    for n, visit in enumerate(visits, 1):
        deposit = deposits.get(visit["id"])
        mine = sorted(events.get(visit["id"], []), key=lambda e: (e["at"], e["id"]))
        entry, exit_ = _door_times(mine)
        document = f"{deposit['doc_type'].upper()} {deposit['doc_masked']}" if deposit else ""
        purpose = " / ".join(p for p in (visit["purpose"], visit["tender_code"]) if p)
        rows.append(
            AccessRow(
                no=n,
                day=visit["day"],
                visit_id=visit["id"],
                name=visit["name"],
                company=visit["company"],
                document=document,
                slot=deposit["slot"] if deposit else "",
                badge=_badge_label(visit, mine, records["badge"]),
                arrival=visit["registered_at"],
                entry=entry,
                exit=exit_,
                returned=visit["returned_at"],
                doc_returned=deposit["returned_at"] if deposit else None,
                officer=visit["officer"],
                remarks=_remarks(visit, deposit, mine, records["ticket"]),
                purpose=purpose,
                doc_returned_to=(deposit["returned_to"] or "") if deposit else "",
                doc_returned_by=(deposit["returned_by"] or "") if deposit else "",
            )
        )
    return rows


def _help_during(requests: list[Row], start: datetime, end: datetime | None) -> str:
    parts = []
    for req in sorted(requests, key=lambda r: r["opened_at"]):
        if req["opened_at"] < start or (end is not None and req["opened_at"] > end):
            continue
        label = render(CATEGORIES.get(req["category"]) or str(req["category"]))
        if req["resolved_at"] is not None and req["state"] == "resolved":
            spent = (req["resolved_at"] - req["opened_at"]).total_seconds() / 60
            label += f" ({spent:.0f} mnt)"
        parts.append(label)
    return "; ".join(parts)


def usage_book(records: Records, start: date, end: date) -> list[UsageRow]:
    visits = records["visit"]
    facilities = records["facility"]
    helps = records.by_visit("help")
    usages = sorted(
        (
            u
            for u in records["usage"].values()
            if u["visit_id"] in visits and start <= visits[u["visit_id"]]["day"] <= end
        ),
        key=lambda u: (u["started_at"], u["id"]),
    )
    rows: list[UsageRow] = []
    for n, usage in enumerate(usages, 1):
        visit = visits[usage["visit_id"]]
        facility = facilities.get(usage["facility_id"])
        ended = usage["ended_at"]
        rows.append(
            UsageRow(
                no=n,
                day=visit["day"],
                usage_id=usage["id"],
                visit_id=visit["id"],
                name=visit["name"],
                company=visit["company"],
                facility=f"{facility['code']} {facility['label']}" if facility else "?",
                start=usage["started_at"],
                end=ended,
                duration=None if ended is None else ended - usage["started_at"],
                help=_help_during(helps.get(visit["id"], []), usage["started_at"], ended),
                recorded=usage["started_by"] or "",
            )
        )
    return rows


def assigned_rows(records: Records, start: date, end: date) -> list[UsageRow]:
    """Facilities given to a visit that no usage session timed: assignment to return."""
    visits, facilities = records["visit"], records["facility"]
    timed = {(u["visit_id"], u["facility_id"]) for u in records["usage"].values()}
    helps = records.by_visit("help")
    rows: list[UsageRow] = []
    for held in records.assignments:
        visit = visits.get(held["visit_id"])
        facility = facilities.get(held["facility_id"])
        if visit is None or facility is None or not start <= visit["day"] <= end:
            continue
        if (visit["id"], facility["id"]) in timed:
            continue
        ended = held["end"] or visit["returned_at"] or visit["closed_at"]
        rows.append(
            UsageRow(
                no=0,
                day=visit["day"],
                usage_id=0,
                visit_id=visit["id"],
                name=visit["name"],
                company=visit["company"],
                facility=f"{facility['code']} {facility['label']}",
                start=held["start"],
                end=ended,
                duration=None if ended is None else ended - held["start"],
                help=_help_during(helps.get(visit["id"], []), held["start"], ended),
                recorded="return",
            )
        )
    return rows


def help_lines(records: Records, start: date, end: date, tz: tzinfo) -> list[HelpLine]:
    """Every help request opened on ``start`` .. ``end`` (local days), oldest first."""
    visits, facilities = records["visit"], records["facility"]
    lines: list[HelpLine] = []
    requests = sorted(
        (
            r
            for r in records["help"].values()
            if start <= r["opened_at"].astimezone(tz).date() <= end
        ),
        key=lambda r: (r["opened_at"], r["id"]),
    )
    for n, req in enumerate(requests, 1):
        visit = visits.get(req["visit_id"]) if req["visit_id"] is not None else None
        facility = facilities.get(req["facility_id"]) if req["facility_id"] is not None else None
        if facility is None and visit is not None and visit["facility_id"] is not None:
            facility = facilities.get(visit["facility_id"])
        lines.append(
            HelpLine(
                no=n,
                day=req["opened_at"].astimezone(tz).date(),
                help_id=req["id"],
                visit_id=req["visit_id"],
                name=visit["name"] if visit else "",
                company=visit["company"] if visit else "",
                facility=facility["code"] if facility else "",
                category=(
                    render(CATEGORIES[req["category"]], "id")
                    if req["category"] in CATEGORIES
                    else req["category"]
                ),
                problem=req["problem"] or "",
                opened=req["opened_at"],
                resolved=req["resolved_at"],
                state=req["state"],
                resolution=req["resolution"] or "",
                resolved_by=req["resolved_by"] or "",
            )
        )
    return lines


def amendment_lines(records: Records, start: date, end: date) -> list[AmendmentLine]:
    rows = sorted(
        (a for a in records["amendment"].values() if start <= a["day"] <= end),
        key=lambda a: a["id"],
    )
    return [
        AmendmentLine(
            no=n,
            day=a["day"],
            at=a["at"],
            what=", ".join(word(f"fact.{k}") for k in a["kind"].split(",")),
            records=", ".join(a["rows"]),
            actor=a["actor"],
            signed_at=a["signed_at"],
            signed_by=a["signed_by"],
        )
        for n, a in enumerate(rows, 1)
    ]


def build_books(records: Records, start: date, end: date, tz: tzinfo) -> Books:
    return Books(
        access_book(records, start, end),
        usage_book(records, start, end),
        amendment_lines(records, start, end),
        help_lines(records, start, end, tz),
        dict(records.staff),
        assigned_rows(records, start, end),
    )


def _digest(row: AccessRow | UsageRow, book: str) -> str:
    full = asdict(row)
    data = {name: full[name] for name in SEALED_FIELDS[book]}
    for name in PERSONAL:
        data[name] = None
    if isinstance(data.get("duration"), timedelta):
        data["duration"] = data["duration"].total_seconds()
    return hashlib.sha256(canonical(data).encode()).hexdigest()


def row_digests(books: Books) -> dict[str, dict[str, str]]:
    """Per book, ``{row key: digest}`` without personal fields (survives shredding)."""
    return {
        "access": {f"visit {r.visit_id}": _digest(r, "access") for r in books.access},
        "usage": {f"usage {r.usage_id}": _digest(r, "usage") for r in books.usage},
    }
