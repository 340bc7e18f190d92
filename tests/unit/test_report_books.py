"""Book rows from plain records, and the row digests the seal keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from service.domain.facts import PersonalDataErased, VisitRegistered
from service.domain.model import ERASED, FIELDS, Deposit, Visit
from service.reports.books import access_book, build_books, row_digests
from service.reports.data import Records
from service.reports.replay import SEALED, Opener, Replay
from service.store.journal import JournalEntry, encode_fact

DAY = date(2026, 11, 25)
WIB = ZoneInfo("Asia/Jakarta")


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 25, hh - 7, mm, tzinfo=UTC)  # WIB is UTC+7


def blank(entity: str, **values: object) -> dict[str, object]:
    return {**dict.fromkeys(FIELDS[entity]), **values}


def records() -> Records:
    rec = Records()
    rec["visit"][1] = blank(
        "visit", id=1, day=DAY, visitor_id=1, name="Budi", company="PT A", state="closed",
        badge_id=1, ticket_id=None, registered_at=at(8, 0), returned_at=at(11, 4),
        forced=False, back_entered=False, officer="fo", close_reason=None,
    )  # fmt: skip
    rec["deposit"][1] = blank(
        "deposit", id=1, visit_id=1, doc_type="ktp", doc_masked="1571**01", slot="L-01",
        returned_at=None,
    )  # fmt: skip
    rec["badge"][1] = blank("badge", id=1, label="K-001")
    for n, (role, hh, mm, granted) in enumerate(
        [("door_in", 8, 3, True), ("door_out", 9, 0, True), ("door_in", 9, 30, True),
         ("door_out", 11, 1, True), ("door_in", 11, 2, False)], 1
    ):  # fmt: skip
        rec["access_event"][n] = blank(
            "access_event", id=n, at=at(hh, mm), role=role, visit_id=1, granted=granted,
            reason="entry", anomaly=None, badge_id=1,
        )  # fmt: skip
    return rec


def test_access_row_takes_first_entry_and_last_exit_from_the_door_readers() -> None:
    (row,) = access_book(records(), DAY, DAY)
    assert (row.entry, row.exit) == (at(8, 3), at(11, 1))  # the denied tap does not count
    assert row.document == "KTP 1571**01" and row.badge == "K-001" and row.slot == "L-01"
    assert row.remarks == "identitas masih dititipkan"
    assert access_book(records(), date(2026, 11, 26), date(2026, 11, 26)) == []


def test_digest_ignores_personal_fields_but_not_the_rest() -> None:
    rec = records()
    before = row_digests(build_books(rec, DAY, DAY, WIB))
    rec["visit"][1]["name"] = ERASED
    assert row_digests(build_books(rec, DAY, DAY, WIB)) == before
    rec["visit"][1]["returned_at"] = at(11, 30)
    assert row_digests(build_books(rec, DAY, DAY, WIB)) != before


def test_replay_builds_rows_and_applies_the_erasure_fact() -> None:
    """The journal's facts, replayed offline (no keys): the same apply rebuilds the rows."""
    visit = Visit(
        id=7,
        day=DAY,
        visitor_id=3,
        name="Budi",
        company="PT A",
        form_started_at=at(8, 0),
        registered_at=at(8, 0),
    )
    deposit = Deposit(
        id=7, visit_id=7, doc_type="ktp", doc_masked="1571**01", slot="L-01",
        taken_at=at(8, 0), taken_by="fo",
    )  # fmt: skip
    registered = VisitRegistered(at=at(8, 0), actor="fo", visit=visit, deposit=deposit)
    payload = encode_fact(registered, lambda path, value: f"sealed:{path}")
    assert "Budi" not in payload  # the name is sealed under the visitor's key
    result = Replay()
    result.apply(
        JournalEntry(1, at(8, 0), registered.KIND, "fo", payload, "0" * 64, "h1"),
        Opener(None, {}),
    )
    row = result.records()["visit"][7]
    assert row["name"] == SEALED  # offline, without keys, personal data stays unread
    assert row["day"] == DAY and row["registered_at"] == at(8, 0)
    erased = PersonalDataErased(at=at(9, 0), actor="system", data_subject="visitor:3")
    result.apply(
        JournalEntry(2, at(9, 0), erased.KIND, "system", encode_fact(erased, None), "h1", "h2"),
        Opener(None, {}),
    )
    assert result.records()["visit"][7]["name"] == ERASED
    assert result.last_seq[("visit", 7)] == 2


def test_digests_cover_the_fields_of_the_first_seals_so_those_still_verify() -> None:
    rec = records()
    before = row_digests(build_books(rec, DAY, DAY, WIB))
    rec["visit"][1] |= {"purpose": "Pembuktian kualifikasi", "tender_code": "T-9"}
    rec["deposit"][1] |= {"returned_by": "fo-ani"}
    after = build_books(rec, DAY, DAY, WIB)
    assert after.access[0].purpose == "Pembuktian kualifikasi / T-9"  # printed...
    assert row_digests(after) == before  # ...and covered by the visit's record digest


def test_officers_print_by_full_name_and_unknown_logins_as_they_are() -> None:
    rec = records()
    rec.staff = {"fo": "Rina Marlina, S.Kom"}
    books = build_books(rec, DAY, DAY, WIB)
    assert books.officer("fo") == "Rina Marlina, S.Kom"
    assert books.officer("hd-x") == "hd-x" and books.officer(None) == ""


def test_a_facility_no_session_timed_is_listed_from_assignment_to_return() -> None:
    rec = records()
    rec["facility"][3] = blank("facility", id=3, code="HS-01", label="Hotspot 1", reader=None)
    rec["facility"][1] = blank("facility", id=1, code="PC-01", label="PC Desktop 1")
    rec.assignments = [
        {"visit_id": 1, "facility_id": 3, "start": at(8, 10), "end": None},
        {"visit_id": 1, "facility_id": 1, "start": at(8, 12), "end": at(9, 0)},
    ]
    rec["usage"][5] = blank(
        "usage", id=5, visit_id=1, facility_id=1, started_at=at(8, 15), ended_at=at(9, 0),
        started_by="tap",
    )  # fmt: skip
    books = build_books(rec, DAY, DAY, WIB)
    (held,) = books.assigned  # the PC was timed by its desk session, the hotspot was not
    assert (held.facility, held.start, held.end) == ("HS-01 Hotspot 1", at(8, 10), at(11, 4))
    assert held.recorded == "return"
    assert [(r.no, r.facility) for r in books.sessions()] == [
        (1, "HS-01 Hotspot 1"),
        (2, "PC-01 PC Desktop 1"),
    ]
    digests = row_digests(books)
    assert list(digests["usage"]) == ["usage 5"]  # not sealed: the replay derives sessions


def test_help_requests_belong_to_the_local_day_they_were_opened() -> None:
    rec = records()
    opened = [
        datetime(2026, 11, 25, 0, 5, tzinfo=WIB),  # 24 Nov in UTC, 25 Nov in Jambi
        datetime(2026, 11, 25, 23, 59, tzinfo=WIB),
        datetime(2026, 11, 26, 0, 1, tzinfo=WIB),  # the next day's book
    ]
    for n, when in enumerate(opened, 1):
        rec["help"][n] = blank(
            "help", id=n, visit_id=1, facility_id=None, category="login", problem="Lupa sandi",
            state="open", opened_at=when.astimezone(UTC),
        )  # fmt: skip
    lines = build_books(rec, DAY, DAY, WIB).help
    assert [(line.no, line.help_id, line.name, line.category) for line in lines] == [
        (1, 1, "Budi", "Login / akun SPSE"),
        (2, 2, "Budi", "Login / akun SPSE"),
    ]
