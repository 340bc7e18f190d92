"""Help desk (SOP steps 5-6), the day's close and sign-off (step 9), and the anomalies
the front office must clear before closing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from service.domain import anomalies, days, helpdesk, visits
from service.domain.lifecycle import DayState, HelpState
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import Conflict, NotFound, ValidationError
from service.i18n import render
from tests.unit.domain_builders import (
    DAY,
    DOOR_OUT,
    STAFF,
    T0,
    decide,
    live,
    make_policy,
    make_room,
    minutes,
    register,
    snapshot,
    uid,
    visit_with_badge,
)

HELPER = "helpdesk:dedi"
HEAD = "head:rahmat"
CLOSE_AT = datetime(2026, 11, 25, 9, 10, tzinfo=UTC)  # 16:10 WIB


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def state() -> RoomState:
    return make_room()


def open_help(state: RoomState, visit_id: int | None = None, **kw: object) -> int:
    values: dict[str, object] = {
        "facility_id": None,
        "source": "staff",
        "category": "upload",
        "problem": "  upload stuck at 99%  ",
        "at": T0,
        "actor": STAFF,
    }
    values.update(kw)
    request = helpdesk.open_request(Tx(state), visit_id, **values)  # type: ignore[arg-type]
    return request.id


# --- Help desk -------------------------------------------------------------------


def test_open_request_takes_the_visits_facility(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1)
    tx = Tx(state)
    request = helpdesk.open_request(
        tx, visit.id, None, "workstation", "upload", "  upload stuck  ", T0, "reader:desk-pc1"
    )
    assert (request.state, request.facility_id, request.problem) == (
        HelpState.OPEN,
        visit.facility_id,
        "upload stuck",
    )
    assert (request.opened_at, request.opened_by) == (T0, "reader:desk-pc1")
    assert [f.KIND for f in tx.facts] == ["help.opened"]


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"category": "coffee"}, "category"), ({"source": "carrier_pigeon"}, "source")],
)
def test_open_request_validation(state: RoomState, kw: dict[str, Any], field: str) -> None:
    before = snapshot(state)
    with pytest.raises(ValidationError) as caught:
        open_help(state, **kw)
    assert caught.value.field == field
    assert snapshot(state) == before


def test_open_request_for_unknown_visit(state: RoomState) -> None:
    with pytest.raises(NotFound):
        open_help(state, visit_id=99)
    assert state.help_requests == {}


def test_claim_then_resolve(state: RoomState) -> None:
    rid = open_help(state)
    helpdesk.claim(Tx(state), rid, T0 + minutes(1), HELPER)
    request = live(state, "help", rid)
    assert (request.state, request.claimed_at, request.claimed_by) == (
        HelpState.CLAIMED,
        T0 + minutes(1),
        HELPER,
    )
    with pytest.raises(ValidationError) as caught:
        helpdesk.resolve(Tx(state), rid, None, "   ", T0 + minutes(4), HELPER)
    assert caught.value.field == "resolution"
    assert request.state is HelpState.CLAIMED
    tx = Tx(state)
    helpdesk.resolve(tx, rid, " file over 100 MB ", " split the file ", T0 + minutes(4), HELPER)
    assert (request.state, request.resolution, request.problem) == (
        HelpState.RESOLVED,
        "split the file",
        "file over 100 MB",
    )
    assert (request.resolved_at, request.resolved_by) == (T0 + minutes(4), HELPER)
    assert (request.claimed_at, request.claimed_by) == (T0 + minutes(1), HELPER)
    assert [f.KIND for f in tx.facts] == ["help.resolved"]


def test_resolve_straight_from_open_counts_as_claimed(state: RoomState) -> None:
    rid = open_help(state)
    helpdesk.resolve(Tx(state), rid, None, "restarted the browser", T0 + minutes(2), HELPER)
    request = live(state, "help", rid)
    assert request.state is HelpState.RESOLVED
    assert (request.claimed_at, request.claimed_by) == (T0 + minutes(2), HELPER)
    assert request.problem == "upload stuck at 99%"


def test_cancel_and_unknown_request(state: RoomState) -> None:
    rid = open_help(state)
    helpdesk.cancel(Tx(state), rid, T0 + minutes(1), STAFF)
    assert state.help_requests[rid].state is HelpState.CANCELLED
    acts: list[Callable[[Tx], object]] = [
        lambda tx: helpdesk.claim(tx, 42, T0, HELPER),
        lambda tx: helpdesk.resolve(tx, 42, None, "done", T0, HELPER),
        lambda tx: helpdesk.cancel(tx, 42, T0, HELPER),
    ]
    for act in acts:
        with pytest.raises(NotFound):
            act(Tx(state))


# --- Day close and sign-off ------------------------------------------------------


def test_close_lists_what_is_still_open(state: RoomState, policy: Policy) -> None:
    done = visit_with_badge(state, policy, 1, name="Selesai")
    visits.return_badge(Tx(state), policy, done, T0 + minutes(30), STAFF)
    visits.return_document(Tx(state), done, "", T0 + minutes(31), STAFF)
    doc_left = visit_with_badge(state, policy, 2, name="Lupa KTP")
    visits.return_badge(Tx(state), policy, doc_left, T0 + minutes(40), STAFF)
    still_in = visit_with_badge(state, policy, 3, name="Masih di dalam")
    no_badge = register(state, policy, name="Belum dapat kartu")
    rid = open_help(state)
    tx = Tx(state)
    items = days.close_day(tx, Policy(), DAY, CLOSE_AT, STAFF, reason="hujan deras")
    assert items == days.OpenItems(
        open_visits=(still_in.id, no_badge.id),
        badges_out=(3,),
        documents_held=(2, 3, 4),  # deposit ids of doc_left, still_in, no_badge
        open_help=(rid,),
    )
    record = state.days[DAY]
    assert (record.state, record.closed_at, record.closed_by, record.note) == (
        DayState.CLOSED,
        CLOSE_AT,
        STAFF,
        "hujan deras",
    )
    assert [f.KIND for f in tx.facts] == ["day.closed"]


def test_close_an_empty_day(state: RoomState) -> None:
    items = days.close_day(Tx(state), Policy(), DAY, CLOSE_AT, STAFF)
    assert items == days.OpenItems((), (), (), ())


def test_close_lists_only_help_opened_by_that_local_day(state: RoomState) -> None:
    # 26 Nov 06:30 WIB is 25 Nov 23:30 UTC: the request belongs to the 26th.
    open_help(state, at=datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    late_close = datetime(2026, 11, 26, 0, 45, tzinfo=UTC)  # 07:45 WIB on the 26th
    items = days.close_day(Tx(state), Policy(), DAY, late_close, STAFF)
    assert items.open_help == ()


def test_sign_refused_unless_closed(state: RoomState, policy: Policy) -> None:
    with pytest.raises(Conflict, match="Close the day before signing"):
        days.sign_day(Tx(state), policy, DAY, CLOSE_AT, HEAD)
    days.close_day(Tx(state), Policy(), DAY, CLOSE_AT, STAFF)
    days.sign_day(Tx(state), policy, DAY, CLOSE_AT + minutes(3), HEAD)
    with pytest.raises(Conflict):
        days.sign_day(Tx(state), policy, DAY, CLOSE_AT + minutes(4), HEAD)
    assert state.days[DAY].signed_at == CLOSE_AT + minutes(3)


def test_sign_needs_every_breach_justified(state: RoomState, policy: Policy) -> None:
    # Step 2 takes 12 minutes: form at 09:00 WIB, badge at 09:12.
    slow = register(state, policy)
    visits.issue_badge(Tx(state), policy, slow, state.badges[1], T0 + minutes(12), STAFF)
    days.close_day(Tx(state), Policy(), DAY, CLOSE_AT, STAFF)
    before = snapshot(state)
    with pytest.raises(Conflict, match="1 service-standard breach"):
        days.sign_day(Tx(state), policy, DAY, CLOSE_AT + minutes(2), HEAD)
    assert snapshot(state) == before
    assert state.days[DAY].state is DayState.CLOSED
    days.justify(
        Tx(state), DAY, "2", f"visit:{slow.id}", "  printer jammed  ", CLOSE_AT, "officer:ani"
    )
    tx = Tx(state)
    # Signing 30 minutes after the close breaches step 9 itself; that never blocks.
    at = CLOSE_AT + minutes(30)
    days.sign_day(tx, policy, DAY, at, HEAD)
    record = state.days[DAY]
    assert (record.state, record.signed_at, record.signed_by) == (DayState.SIGNED, at, HEAD)
    assert [f.KIND for f in tx.facts] == ["day.signed"]


def test_justify_validates_and_replaces(state: RoomState) -> None:
    with pytest.raises(ValidationError) as caught:
        days.justify(Tx(state), DAY, "4", "visit:1", "long enough", T0, STAFF)
    assert caught.value.field == "step"
    with pytest.raises(ValidationError) as caught:
        days.justify(Tx(state), DAY, "2", "visit:1", " ok  ", T0, STAFF)
    assert caught.value.field == "text"
    days.justify(Tx(state), DAY, "2", "visit:1", "printer jammed", T0, "officer:ani")
    tx = Tx(state)
    days.justify(tx, DAY, "2", "visit:1", "printer jammed twice", T0 + minutes(1), "head:rahmat")
    (only,) = state.justifications.values()
    assert (only.text, only.by, only.at) == ("printer jammed twice", "head:rahmat", T0 + minutes(1))
    assert [f.KIND for f in tx.facts] == ["breach.justified"]


def test_reopen_then_close_again(state: RoomState, policy: Policy) -> None:
    days.close_day(Tx(state), Policy(), DAY, CLOSE_AT, STAFF)
    days.reopen_day(Tx(state), DAY, CLOSE_AT + minutes(5), HEAD, "formulir susulan")
    record = state.days[DAY]
    assert (record.state, record.closed_at, record.closed_by) == (DayState.OPEN, None, None)
    with pytest.raises(Conflict):
        days.sign_day(Tx(state), policy, DAY, CLOSE_AT + minutes(6), HEAD)
    days.close_day(Tx(state), Policy(), DAY, CLOSE_AT + minutes(10), STAFF)
    days.sign_day(Tx(state), policy, DAY, CLOSE_AT + minutes(12), HEAD)
    assert state.days[DAY].state is DayState.SIGNED


def test_days_are_separate(state: RoomState, policy: Policy) -> None:
    days.close_day(Tx(state), Policy(), DAY, CLOSE_AT, STAFF)
    assert date(2026, 11, 26) not in state.days
    with pytest.raises(Conflict):
        days.sign_day(Tx(state), policy, date(2026, 11, 26), CLOSE_AT, HEAD)


# --- What the front office must look at by the end of the day --------------------


def anomaly_kinds(state: RoomState, policy: Policy, now: datetime) -> list[tuple[str, int | None]]:
    return sorted((a.kind, a.visit_id) for a in anomalies.current(state, policy, now))


def test_clock_anomalies_appear_near_and_after_closing(state: RoomState, policy: Policy) -> None:
    out = visit_with_badge(state, policy, 1)  # badge and document still out
    done = visit_with_badge(state, policy, 2, name="Selesai")
    visits.return_badge(Tx(state), policy, done, T0 + minutes(30), STAFF)
    visits.return_document(Tx(state), done, "", T0 + minutes(31), STAFF)
    closing = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 16:00 WIB
    assert anomaly_kinds(state, policy, closing - minutes(31)) == []
    assert anomaly_kinds(state, policy, closing - minutes(30)) == [
        ("badge_not_returned", out.id),
        ("document_held", out.id),
    ]
    assert anomaly_kinds(state, policy, closing) == [
        ("badge_not_returned", out.id),
        ("document_held", out.id),
        ("overdue_visit", out.id),
    ]


def test_yesterdays_open_visit_is_stale_all_day(state: RoomState, policy: Policy) -> None:
    out = visit_with_badge(state, policy, 1)
    next_morning = T0 + timedelta(days=1)  # Thu 09:00 WIB
    assert anomaly_kinds(state, policy, next_morning) == [
        ("badge_not_returned", out.id),
        ("document_held", out.id),
        ("overdue_visit", out.id),
    ]


def test_tap_anomalies_are_todays_only(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1)
    decide(state, policy, DOOR_OUT, uid(1), T0 + minutes(5))  # exit with no entry
    (found,) = anomalies.current(state, policy, T0 + minutes(6))
    assert (found.kind, found.visit_id, found.name, found.detail) == (
        "exit_without_entry",
        visit.id,
        "Budi Santoso",
        DOOR_OUT,
    )
    assert render(anomalies.ANOMALY_TEXT[found.kind]) == "Keluar tanpa catatan masuk"
    visits.return_badge(Tx(state), policy, visit, T0 + minutes(7), STAFF)
    visits.return_document(Tx(state), visit, "", T0 + minutes(7), STAFF)
    assert anomalies.current(state, policy, T0 + timedelta(days=1)) == []
