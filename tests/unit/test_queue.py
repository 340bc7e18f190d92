"""The queue (SOP step 3): free facility or a ticket, turnover gap, calls, no-shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain import queue, visits
from service.domain.lifecycle import TicketState, VisitState
from service.domain.model import Ticket, Visit
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import Conflict, ValidationError
from tests.unit.domain_builders import (
    STAFF,
    T0,
    live,
    make_policy,
    make_room,
    minutes,
    set_fields,
    visit_with_badge,
)


@pytest.fixture
def policy() -> Policy:
    return make_policy()


def ticket_of(state: RoomState, visit: Visit) -> Ticket:
    """The visit's ticket, read live (entities are immutable: a kept one would go stale)."""
    assert visit.ticket_id is not None
    return live(state, "ticket", visit.ticket_id)  # type: ignore[no-any-return]


def full_room(policy: Policy, waiting: int) -> tuple[RoomState, Visit, list[Visit]]:
    """One PC held by Holder (badge 6); ``waiting`` visitors queued with badges 1.."""
    state = make_room(pcs=1, badges=6)
    holder = visit_with_badge(state, policy, 6, name="Holder")
    queued = [
        visit_with_badge(state, policy, n, at=T0 + minutes(n), name=f"Antri {n}")
        for n in range(1, waiting + 1)
    ]
    return state, holder, queued


def test_free_facility_is_assigned_lowest_code_first(policy: Policy) -> None:
    state = make_room(pcs=2)
    first = visit_with_badge(state, policy, 1)
    second = visit_with_badge(state, policy, 2, name="Citra")
    assert (first.state, first.facility_id, first.ticket_id) == (VisitState.ADMITTED, 1, None)
    assert (second.state, second.facility_id) == (VisitState.ADMITTED, 2)
    assert state.facilities[1].visit_id == first.id
    assert first.assigned_at == T0 + minutes(1)
    assert state.tickets == {}


def test_out_of_service_facility_is_never_assigned(policy: Policy) -> None:
    state = make_room(pcs=2)
    set_fields(state, "facility", 1, out_of_service=True)
    visit = visit_with_badge(state, policy, 1)
    assert visit.facility_id == 2


def test_tickets_numbered_per_kind_and_day(policy: Policy) -> None:
    state = make_room(pcs=1, laptop_desks=1, badges=6)
    visit_with_badge(state, policy, 1)
    visit_with_badge(state, policy, 2, wanted_kind="laptop_desk")
    pc_2 = visit_with_badge(state, policy, 3, name="Citra")
    pc_3 = visit_with_badge(state, policy, 4, name="Dewi")
    ld_2 = visit_with_badge(state, policy, 5, name="Eka", wanted_kind="laptop_desk")
    assert ticket_of(state, pc_2).number == "PC-001"
    assert ticket_of(state, pc_3).number == "PC-002"
    assert ticket_of(state, ld_2).number == "LD-001"
    for v in (pc_2, pc_3, ld_2):
        assert v.state is VisitState.QUEUED and v.facility_id is None
        assert ticket_of(state, v).state is TicketState.WAITING


def test_a_new_local_day_restarts_the_sequence(policy: Policy) -> None:
    state, _holder, _queued = full_room(policy, 0)
    # 25 Nov 16:00 UTC is 23:00 WIB on the 25th; 18:00 UTC the same UTC day is
    # already 01:00 WIB on the 26th.
    late = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    after_midnight = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    a = visit_with_badge(state, policy, 1, at=late)
    b = visit_with_badge(state, policy, 2, at=after_midnight)
    c = visit_with_badge(state, policy, 3, at=after_midnight + minutes(5))
    assert [ticket_of(state, v).number for v in (a, b, c)] == ["PC-001", "PC-001", "PC-002"]
    assert [ticket_of(state, v).day.isoformat() for v in (a, b)] == ["2026-11-25", "2026-11-26"]


def test_free_facility_does_not_jump_the_queue(policy: Policy) -> None:
    state, holder, (waiting,) = full_room(policy, 1)
    visits.return_badge(Tx(state), policy, holder, T0 + minutes(10), STAFF)
    later = T0 + minutes(20)  # PC1 rested and free, but a ticket waits for it
    assert queue.is_free(state.facilities[1], later)
    newcomer = visit_with_badge(state, policy, 2, at=later, name="Baru")
    assert newcomer.state is VisitState.QUEUED
    assert ticket_of(state, newcomer).number == "PC-002"
    assert state.facilities[1].visit_id is None
    assert queue.waiting_tickets(state, "pc")[0] == ticket_of(state, waiting)


def test_turnover_gap_is_respected(policy: Policy) -> None:
    state, holder, (waiting,) = full_room(policy, 1)
    released = T0 + minutes(30)
    visits.return_badge(Tx(state), policy, holder, released, STAFF)
    pc1 = state.facilities[1]
    assert pc1.available_from == released + policy.turnover_gap
    assert queue.due(state, policy, released) == []
    assert queue.due(state, policy, released + policy.turnover_gap - minutes(1 / 60)) == []
    ticket = ticket_of(state, waiting)
    assert queue.due(state, policy, released + policy.turnover_gap) == [
        queue.DueAction("call", ticket.id, pc1.id)
    ]
    assert ticket.state is TicketState.WAITING  # due() only looks


def test_run_due_calls_priority_first_then_by_number(policy: Policy) -> None:
    state, holder, queued = full_room(policy, 3)
    tickets = [ticket_of(state, v) for v in queued]
    set_fields(state, "ticket", tickets[2].id, priority=True, priority_reason="disabilitas")
    visits.return_badge(Tx(state), policy, holder, T0 + minutes(30), STAFF)
    now = T0 + minutes(31)
    tx = Tx(state)
    actions = queue.run_due(tx, policy, now)
    assert actions == [queue.DueAction("call", tickets[2].id, 1)]
    assert [f.KIND for f in tx.facts] == ["queue.called"]
    assert tickets[2].state is TicketState.CALLED
    assert (tickets[2].called_at, tickets[2].facility_id) == (now, 1)
    assert state.facilities[1].reserved_ticket_id == tickets[2].id
    assert [t.state for t in tickets[:2]] == [TicketState.WAITING] * 2
    assert queued[2].state is VisitState.QUEUED  # admitted only when served
    assert queue.due(state, policy, now + minutes(1)) == []  # PC1 is held for the call


def test_numbers_before_priority_are_called_in_order(policy: Policy) -> None:
    state, holder, queued = full_room(policy, 2)
    visits.return_badge(Tx(state), policy, holder, T0 + minutes(30), STAFF)
    actions = queue.run_due(Tx(state), policy, T0 + minutes(31))
    assert [a.ticket_id for a in actions] == [queued[0].ticket_id]


def test_hold_expiry_skips_the_no_show_and_calls_the_next(policy: Policy) -> None:
    state, holder, (first, second) = full_room(policy, 2)
    visits.return_badge(Tx(state), policy, holder, T0 + minutes(30), STAFF)
    called_at = T0 + minutes(31)
    queue.run_due(Tx(state), policy, called_at)
    t1, t2 = ticket_of(state, first), ticket_of(state, second)
    assert t1.state is TicketState.CALLED
    assert queue.due(state, policy, called_at + policy.hold - minutes(1 / 60)) == []
    expiry = called_at + policy.hold
    tx = Tx(state)
    actions = queue.run_due(tx, policy, expiry)
    assert actions == [queue.DueAction("skip", t1.id), queue.DueAction("call", t2.id, 1)]
    assert [f.KIND for f in tx.facts] == ["queue.skipped", "visit.unqueued", "queue.called"]
    assert tx.facts[0].no_show
    assert (t1.state, t1.closed_at) == (TicketState.SKIPPED, expiry)
    assert first.state is VisitState.REGISTERED and first.facility_id is None
    assert (t2.state, t2.called_at, t2.facility_id) == (TicketState.CALLED, expiry, 1)
    assert state.facilities[1].reserved_ticket_id == t2.id
    # The no-show's badge no longer opens the door.
    assert first.badge_id is not None and queue.called_ticket_of(state, first) is None


def test_hold_expiry_with_no_one_else_frees_the_facility(policy: Policy) -> None:
    state, holder, (only,) = full_room(policy, 1)
    visits.return_badge(Tx(state), policy, holder, T0 + minutes(30), STAFF)
    called_at = T0 + minutes(31)
    queue.run_due(Tx(state), policy, called_at)
    queue.run_due(Tx(state), policy, called_at + policy.hold)
    pc1 = state.facilities[1]
    assert pc1.reserved_ticket_id is None and pc1.visit_id is None
    assert queue.is_free(pc1, called_at + policy.hold)
    assert only.state is VisitState.REGISTERED


def test_call_next_errors_when_nobody_waits(policy: Policy) -> None:
    state = make_room(pcs=1)
    with pytest.raises(Conflict, match="No one is waiting"):
        queue.call_next(Tx(state), policy, "pc", T0, STAFF)


def test_call_next_errors_when_nothing_is_free(policy: Policy) -> None:
    state, _holder, (waiting,) = full_room(policy, 1)
    tx = Tx(state)
    with pytest.raises(Conflict, match="No facility of this kind is free"):
        queue.call_next(tx, policy, "pc", T0 + minutes(5), STAFF)
    assert ticket_of(state, waiting).state is TicketState.WAITING
    assert tx.facts == []


def test_call_next_by_staff(policy: Policy) -> None:
    state, holder, (waiting, _second) = full_room(policy, 2)
    visits.return_badge(Tx(state), policy, holder, T0 + minutes(30), STAFF)
    tx = Tx(state)
    at = T0 + minutes(32)
    ticket = live(state, "ticket", queue.call_next(tx, policy, "pc", at, STAFF).id)
    assert ticket == ticket_of(state, waiting)
    assert (ticket.state, ticket.called_at, ticket.facility_id) == (TicketState.CALLED, at, 1)
    assert [(f.KIND, f.actor) for f in tx.facts] == [("queue.called", STAFF)]
    queue.serve(Tx(state), ticket.id, at + minutes(1), STAFF)
    assert ticket.state is TicketState.SERVED
    assert waiting.state is VisitState.ADMITTED and waiting.facility_id == 1
    assert state.facilities[1].visit_id == waiting.id


def test_return_cancels_a_waiting_ticket(policy: Policy) -> None:
    state, _holder, (waiting, second) = full_room(policy, 2)
    at = T0 + minutes(20)
    visits.return_badge(Tx(state), policy, waiting, at, STAFF)
    ticket = ticket_of(state, waiting)
    assert (ticket.state, ticket.closed_at) == (TicketState.CANCELLED, at)
    assert queue.waiting_tickets(state, "pc") == [ticket_of(state, second)]


def test_return_of_a_called_visitor_releases_the_reservation(policy: Policy) -> None:
    state, holder, (called, second) = full_room(policy, 2)
    visits.return_badge(Tx(state), policy, holder, T0 + minutes(30), STAFF)
    queue.run_due(Tx(state), policy, T0 + minutes(31))
    at = T0 + minutes(32)
    visits.return_badge(Tx(state), policy, called, at, STAFF)
    assert ticket_of(state, called).state is TicketState.CANCELLED
    assert state.facilities[1].reserved_ticket_id is None
    actions = queue.run_due(Tx(state), policy, at)
    assert actions == [queue.DueAction("call", ticket_of(state, second).id, 1)]


def test_staff_assign_named_facility_takes_a_visit_out_of_the_queue(policy: Policy) -> None:
    state = make_room(pcs=1, laptop_desks=1)
    visit_with_badge(state, policy, 6, name="Holder")
    waiting = visit_with_badge(state, policy, 1)
    tx = Tx(state)
    visits.assign_facility(tx, policy, waiting, None, "LD1", T0 + minutes(3), STAFF)
    assert waiting.state is VisitState.ADMITTED and waiting.facility_id == 2
    assert ticket_of(state, waiting).state is TicketState.CANCELLED
    with pytest.raises(Conflict, match="in use"):
        visits.assign_facility(Tx(state), policy, waiting, None, "PC1", T0, STAFF)


@settings(max_examples=40, deadline=None)
@given(priorities=st.lists(st.booleans(), min_size=1, max_size=5))
def test_numbers_are_served_priority_first_then_in_order(priorities: list[bool]) -> None:
    """One PC, a queue with random priorities: each time the PC frees, the next is called."""
    policy = make_policy()
    state, holder, queued = full_room(policy, len(priorities))
    for visit, priority in zip(queued, priorities, strict=True):
        if priority:
            set_fields(state, "ticket", ticket_of(state, visit).id, priority=True)
    expected = sorted(
        queued, key=lambda v: (not ticket_of(state, v).priority, ticket_of(state, v).seq)
    )
    served: list[Visit] = []
    now = T0 + minutes(30)
    for _ in queued:
        visits.return_badge(Tx(state), policy, holder, now, STAFF)
        now += policy.turnover_gap
        (action,) = queue.run_due(Tx(state), policy, now)
        ticket = state.tickets[action.ticket_id]
        queue.serve(Tx(state), ticket.id, now + minutes(1), STAFF)
        holder = state.visits[ticket.visit_id]
        assert holder.facility_id == 1
        served.append(holder)
        now += minutes(10)
    assert [v.id for v in served] == [v.id for v in expected]
    assert queue.waiting_tickets(state, "pc") == []


def test_staff_priority_needs_a_waiting_number_and_a_reason(policy: Policy) -> None:
    state, _holder, queued = full_room(policy, 2)
    second = ticket_of(state, queued[1])
    with pytest.raises(ValidationError, match="reason"):
        queue.prioritise(Tx(state), second.id, "  ", T0, STAFF)
    assert second.priority is False
    tx = Tx(state)
    queue.prioritise(tx, second.id, "tender ditutup 14.00", T0, STAFF)
    assert (second.priority, second.priority_reason) == (True, "tender ditutup 14.00")
    assert [f.KIND for f in tx.facts] == ["queue.prioritised"]
    assert queue.waiting_tickets(state, "pc")[0] == second
    queue.staff_skip(Tx(state), second.id, T0 + minutes(1), STAFF)
    assert second.state is TicketState.SKIPPED
    assert queued[1].state is VisitState.REGISTERED
    # The state does not allow it now: a conflict, not bad input.
    with pytest.raises(Conflict, match="waiting"):
        queue.prioritise(Tx(state), second.id, "lagi", T0, STAFF)


def test_out_of_service_by_staff_is_a_fact(policy: Policy) -> None:
    state, _holder, _queued = full_room(policy, 0)
    tx = Tx(state)
    queue.set_out_of_service(tx, 1, True, T0, STAFF)
    assert state.facilities[1].out_of_service is True
    assert [f.KIND for f in tx.facts] == ["facility.service"]
