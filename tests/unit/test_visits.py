"""Visits from arrival to return (SOP steps 2, 3, 7, 8) and the badge pool."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from service.domain import visits
from service.domain.facts import Identity, VisitorRecorded, VisitRegistered
from service.domain.lifecycle import BadgeEvent, BadgeState, IllegalTransition, VisitState
from service.domain.model import DeviceItem, Visit, Visitor
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.taps import Reason
from service.domain.tx import Tx
from service.errors import Conflict, NotFound, ValidationError
from tests.unit.domain_builders import (
    DOOR_IN,
    FRONT,
    STAFF,
    T0,
    arm,
    armed,
    arrival,
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


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def state() -> RoomState:
    return make_room()


def slot_of(state: RoomState, visit: Visit) -> str:
    deposit = state.deposit_of(visit.id)
    assert deposit is not None
    return deposit.slot


def close_and_hand_back(state: RoomState, policy: Policy, visit: Visit, at: datetime) -> None:
    visits.return_badge(Tx(state), policy, visit, at, STAFF)
    visits.return_document(Tx(state), visit, "", at, STAFF)


# --- Registration ----------------------------------------------------------------


@pytest.mark.parametrize(("rules", "privacy"), [(False, False), (True, False), (False, True)])
def test_register_requires_both_acknowledgements(
    state: RoomState, policy: Policy, rules: bool, privacy: bool
) -> None:
    before = snapshot(state)
    with pytest.raises(ValidationError) as caught:
        register(state, policy, rules_ack=rules, privacy_ack=privacy)
    assert caught.value.field == "rules_ack"
    assert "tata tertib" in caught.value.message_id
    assert snapshot(state) == before


def test_back_entered_visit_needs_no_acknowledgement(state: RoomState, policy: Policy) -> None:
    visit = register(state, policy, rules_ack=False, privacy_ack=False, back_entered=True)
    assert visit.back_entered and visit.state is VisitState.REGISTERED


@pytest.mark.parametrize(
    ("kw", "field"), [({"name": "   "}, "name"), ({"wanted_kind": "printer"}, "wanted_kind")]
)
def test_register_validates_the_form(
    state: RoomState, policy: Policy, kw: dict[str, Any], field: str
) -> None:
    before = snapshot(state)
    with pytest.raises(ValidationError) as caught:
        register(state, policy, **kw)
    assert caught.value.field == field
    assert snapshot(state) == before


def test_register_records_visitor_visit_and_deposit(state: RoomState, policy: Policy) -> None:
    tx = Tx(state)
    form = arrival(
        name="  Budi Santoso ",
        company=" CV Maju Jaya ",
        purpose="Pembuktian kualifikasi",
        tender_code="12345678",
        devices=(("laptop", "SN-1"),),
        form_started_at=T0 - minutes(3),
        identity=Identity(doc_hash="h", doc_number="1571015708850001", phone="+6281234567890"),
    )
    at = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)  # 00:30 WIB on the 26th
    visit = visits.register(tx, policy, form, at, STAFF)
    visitor = state.visitors[visit.visitor_id]
    assert (visitor.name, visitor.company, visitor.doc_type) == (
        "Budi Santoso",
        "CV Maju Jaya",
        "ktp",
    )
    assert visit.day == date(2026, 11, 26)  # the local day
    assert (visit.name, visit.company, visit.state) == (
        "Budi Santoso",
        "CV Maju Jaya",
        VisitState.REGISTERED,
    )
    assert visit.devices == (DeviceItem(kind="laptop", serial="SN-1"),)
    assert (visit.form_started_at, visit.registered_at, visit.officer) == (
        T0 - minutes(3),
        at,
        STAFF,
    )
    deposit = state.deposit_of(visit.id)
    assert deposit is not None
    assert (deposit.slot, deposit.doc_masked, deposit.taken_by, deposit.returned_at) == (
        "L-01",
        "1571**********01",
        STAFF,
        None,
    )
    recorded, registered = tx.facts
    assert isinstance(recorded, VisitorRecorded) and isinstance(registered, VisitRegistered)
    assert recorded.visitor == visitor and recorded.subject == f"visitor:{visitor.id}"
    assert recorded.identity is not None and recorded.identity.phone == "+6281234567890"
    assert (registered.visit, registered.deposit) == (visit, deposit)
    assert {(e, k) for e, k, _ in tx.writes} == {
        ("visitor", visitor.id),
        ("visit", visit.id),
        ("deposit", deposit.id),
    }


def test_deposit_slots_first_free_reused_then_full(state: RoomState) -> None:
    policy = make_policy(slots=("L-01", "L-02"))
    a = register(state, policy, name="A")
    b = register(state, policy, name="B")
    assert (slot_of(state, a), slot_of(state, b)) == ("L-01", "L-02")
    before = snapshot(state)
    with pytest.raises(Conflict, match="Every deposit slot is taken"):
        register(state, policy, name="C")
    assert snapshot(state) == before
    # Closing A frees nothing until the document leaves its slot.
    visits.return_badge(Tx(state), policy, a, T0 + minutes(5), STAFF)
    with pytest.raises(Conflict):
        register(state, policy, name="C")
    visits.return_document(Tx(state), a, "A", T0 + minutes(6), STAFF)
    c = register(state, policy, name="C")
    assert slot_of(state, c) == "L-01"


def test_returning_visitor_is_updated_not_created(state: RoomState, policy: Policy) -> None:
    known = Visitor(
        id=41,
        name="Budi Santoso",
        company="CV Lama",
        doc_type="ktp",
        doc_masked="1571**********01",
        created_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
    )
    tx = Tx(state)
    visit = visits.register(tx, policy, arrival(company="CV Baru", known_visitor=known), T0, STAFF)
    assert visit.visitor_id == 41 and list(state.visitors) == [41]
    assert state.visitors[41].company == "CV Baru"
    assert state.visitors[41].created_at == known.created_at
    recorded = tx.facts[0]
    assert isinstance(recorded, VisitorRecorded) and recorded.visitor.id == 41
    # Again, with the visitor now cached in the state: still one visitor.
    visits.register(Tx(state), policy, arrival(company="CV Baru", known_visitor=known), T0, STAFF)
    assert list(state.visitors) == [41]


# --- Badges ----------------------------------------------------------------------


def test_issue_badge_refusals(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1)
    other = register(state, policy, name="Citra")
    with pytest.raises(Conflict, match="already has a badge"):
        visits.issue_badge(Tx(state), policy, visit, state.badges[2], T0, STAFF)
    with pytest.raises(IllegalTransition):  # K-001 is Budi's
        visits.issue_badge(Tx(state), policy, other, state.badges[1], T0, STAFF)
    visits.force_close(Tx(state), policy, other, "left", T0, STAFF)
    with pytest.raises(Conflict, match="closed"):
        visits.issue_badge(Tx(state), policy, other, state.badges[2], T0, STAFF)
    assert state.badges[2].state is BadgeState.AVAILABLE


def test_arm_issue_only_for_a_visit_waiting_for_a_badge(state: RoomState, policy: Policy) -> None:
    with_badge = visit_with_badge(state, policy, 1)
    with pytest.raises(Conflict):
        arm(state, FRONT, with_badge)
    waiting = register(state, policy, name="Citra")
    arm(state, FRONT, waiting)
    assert armed(state) == {FRONT: waiting.id}
    visits.force_close(Tx(state), policy, waiting, "changed her mind", T0, STAFF)
    assert armed(state) == {}  # closing disarms the front desk
    with pytest.raises(Conflict):
        arm(state, FRONT, waiting)


def test_enroll_badge(state: RoomState) -> None:
    tx = Tx(state)
    badge = visits.enroll_badge(tx, "04AABBCCDDEEFF", "K-100", T0, STAFF)
    assert state.badge_by("04AABBCCDDEEFF") == badge
    assert badge.state is BadgeState.AVAILABLE
    assert [f.KIND for f in tx.facts] == ["badge.enrolled"]
    with pytest.raises(Conflict, match="UID"):
        visits.enroll_badge(Tx(state), "04AABBCCDDEEFF", "K-101", T0, STAFF)
    with pytest.raises(Conflict, match="K-100"):
        visits.enroll_badge(Tx(state), "04AABBCCDDEE00", "K-100", T0, STAFF)


def test_lost_badge_unbinds_the_visit_and_is_refused(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1)
    decide(state, policy, DOOR_IN, uid(1), T0 + minutes(2))
    visits.badge_event(
        Tx(state), policy, state.badges[1], BadgeEvent.REPORT_LOST, T0 + minutes(9), STAFF, "hilang"
    )
    lost = live(state, "badge", 1)
    assert (lost.state, lost.visit_id, lost.note) == (BadgeState.LOST, None, "hilang")
    assert visit.badge_id is None and visit.state is VisitState.ADMITTED and visit.inside
    decision, _tx = decide(state, policy, DOOR_IN, uid(1), T0 + minutes(10))
    assert decision.reason is Reason.LOST_BADGE
    decision, _tx = decide(state, policy, FRONT, uid(1), T0 + minutes(10))
    assert decision.reason is Reason.LOST_BADGE and visit.state is VisitState.ADMITTED
    # A replacement badge can be issued, and the found one goes back to the pool.
    visits.issue_badge(Tx(state), policy, visit, state.badges[2], T0 + minutes(11), STAFF)
    assert visit.badge_id == 2
    visits.badge_event(Tx(state), policy, lost, BadgeEvent.FOUND, T0 + minutes(12), STAFF)
    assert lost.state is BadgeState.AVAILABLE and lost.visit_id is None


# --- Closing and the document ----------------------------------------------------


def test_force_close_requires_a_reason(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1)
    before = snapshot(state)
    with pytest.raises(ValidationError) as caught:
        visits.force_close(Tx(state), policy, visit, "  ", T0, STAFF)
    assert caught.value.field == "reason"
    assert snapshot(state) == before
    at = T0 + minutes(30)
    tx = Tx(state)
    deposit = visits.force_close(tx, policy, visit, " badge lost, visitor left ", at, STAFF)
    assert deposit is not None and deposit.slot == "L-01"
    assert (visit.state, visit.forced, visit.close_reason) == (
        VisitState.CLOSED,
        True,
        "badge lost, visitor left",
    )
    assert visit.closed_at == at and visit.returned_at is None
    assert state.badges[1].state is BadgeState.AVAILABLE and state.badges[1].visit_id is None
    assert state.facilities[1].visit_id is None
    assert [f.KIND for f in tx.facts] == [
        "facility.left",
        "badge.returned",
        "visit.force_closed",
    ]


def test_document_only_after_close_and_only_once(state: RoomState, policy: Policy) -> None:
    visit = visit_with_badge(state, policy, 1)
    with pytest.raises(Conflict, match="only after the special badge is returned"):
        visits.return_document(Tx(state), visit, "Budi", T0 + minutes(5), STAFF)
    deposit = state.deposit_of(visit.id)
    assert deposit is not None and deposit.returned_at is None
    returned = visits.return_badge(Tx(state), policy, visit, T0 + minutes(60), STAFF)
    assert returned == deposit
    tx = Tx(state)
    visits.return_document(tx, visit, "  ", T0 + minutes(62), "officer:sari")
    handed = state.deposits[deposit.id]
    assert (handed.returned_at, handed.returned_to, handed.returned_by) == (
        T0 + minutes(62),
        "Budi Santoso",
        "officer:sari",
    )
    assert [(f.KIND, f.subject) for f in tx.facts] == [
        ("document.returned", f"visitor:{visit.visitor_id}")
    ]
    with pytest.raises(Conflict, match="already returned"):
        visits.return_document(Tx(state), visit, "Budi", T0 + minutes(63), STAFF)
    assert state.deposits[deposit.id].returned_at == T0 + minutes(62)


def test_document_of_a_visit_without_deposit(state: RoomState, policy: Policy) -> None:
    visit = register(state, policy)
    for deposit_id in list(state.deposits):
        state.remove("deposit", deposit_id)
    with pytest.raises(NotFound):
        visits.return_document(Tx(state), visit, "Budi", T0, STAFF)


def test_get_visit(state: RoomState, policy: Policy) -> None:
    visit = register(state, policy)
    assert visits.get_visit(Tx(state), visit.id) == visit
    with pytest.raises(NotFound):
        visits.get_visit(Tx(state), 999)
