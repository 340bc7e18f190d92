"""Back-entry (a paper form typed in later): never dated after the daemon's clock, and
a document whose visit is still open is recorded again only when the clerk confirms."""

from __future__ import annotations

from datetime import datetime

import pytest

from service.domain import back_entry, visits
from service.domain.lifecycle import VisitState
from service.domain.model import Visitor
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import ValidationError
from tests.unit.domain_builders import (
    STAFF,
    T0,
    arrival,
    make_policy,
    make_room,
    minutes,
    snapshot,
)


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def state() -> RoomState:
    return make_room()


def paper(known: Visitor | None = None, confirm: bool = False) -> visits.Arrival:
    return arrival(
        name="Citra Kertas",
        back_entered=True,
        rules_ack=False,
        privacy_ack=False,
        known_visitor=known,
        confirm_open_visit=confirm,
    )


def register_at(
    state: RoomState, policy: Policy, form: visits.Arrival, at: datetime, now: datetime
) -> visits.Visit:
    return visits.register(Tx(state), policy, form, at, STAFF, now)


def first_visit(state: RoomState, policy: Policy) -> tuple[visits.Visit, Visitor]:
    visit = visits.register(Tx(state), policy, arrival(name="Citra Kertas"), T0, STAFF)
    return visit, state.visitors[visit.visitor_id]


def test_a_back_entry_dated_now_or_before_is_recorded(state: RoomState, policy: Policy) -> None:
    at_now = register_at(state, policy, paper(), T0, T0)
    earlier = register_at(state, policy, paper(), T0 - minutes(90), T0)
    assert at_now.registered_at == T0 and earlier.registered_at == T0 - minutes(90)
    assert at_now.back_entered and earlier.back_entered


@pytest.mark.parametrize("ahead", [minutes(1), minutes(60 * 24)])
def test_a_back_entry_dated_after_now_is_refused(
    state: RoomState, policy: Policy, ahead: object
) -> None:
    before = snapshot(state)
    with pytest.raises(ValidationError) as caught:
        register_at(state, policy, paper(), T0 + ahead, T0)  # type: ignore[operator]
    assert caught.value.field == "arrived_at"
    assert caught.value.message_id == (
        "Waktu kedatangan data susulan tidak boleh setelah sekarang (25-11-2026 09.00 WIB)."
    )
    assert "cannot be later than now" in caught.value.message_en
    assert snapshot(state) == before


def test_a_live_form_is_not_a_back_entry(state: RoomState, policy: Policy) -> None:
    """Only paper forms are checked: a live registration is dated by the clock itself."""
    visit = visits.register(Tx(state), policy, arrival(), T0, STAFF, T0 - minutes(1))
    assert not visit.back_entered


def test_an_open_visit_of_the_same_document_needs_confirmation(
    state: RoomState, policy: Policy
) -> None:
    open_visit, visitor = first_visit(state, policy)
    before = snapshot(state)
    with pytest.raises(back_entry.OpenVisit) as caught:
        register_at(state, policy, paper(visitor), T0 - minutes(30), T0)
    error = caught.value
    assert error.http_status == 409 and error.code == "open_visit"
    assert error.field == "confirm_open_visit"
    assert f"kunjungan {open_visit.id}, Citra Kertas, sejak 25-11-2026 09.00 WIB" in (
        error.message_id
    )
    assert "slot L-01" in error.message_id and "confirm" in error.message_en
    assert snapshot(state) == before
    confirmed = register_at(state, policy, paper(visitor, confirm=True), T0 - minutes(30), T0)
    assert confirmed.back_entered and confirmed.visitor_id == visitor.id
    assert len(back_entry.open_visits_of(state, visitor)) == 2


def test_a_closed_visit_needs_no_confirmation(state: RoomState, policy: Policy) -> None:
    open_visit, visitor = first_visit(state, policy)
    visits.force_close(Tx(state), policy, open_visit, "kertas", T0 + minutes(5), STAFF)
    assert state.visits[open_visit.id].state is VisitState.CLOSED
    assert back_entry.open_visits_of(state, visitor) == []
    paper_visit = register_at(state, policy, paper(visitor), T0 - minutes(30), T0 + minutes(10))
    assert paper_visit.back_entered


def test_another_document_needs_no_confirmation(state: RoomState, policy: Policy) -> None:
    first_visit(state, policy)
    assert register_at(state, policy, paper(None), T0 - minutes(30), T0).back_entered
