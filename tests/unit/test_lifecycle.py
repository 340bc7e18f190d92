"""Every cell of every transition table, h11 style.

The expected tables are written out here from the SOP, independently of
``lifecycle.py``: each state x event is either the next state, or
:class:`IllegalTransition` with the state unchanged. The cells are parametrized
over the enums, so a new state or event fails here until it is given a row.
The second half drives the same cells through the rules that own them
(``visits``, ``queue``, ``helpdesk``, ``days``) and checks that a refused event
changes nothing at all.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from service.domain import days, helpdesk, queue, visits
from service.domain.lifecycle import (
    BADGE_TABLE,
    DAY_TABLE,
    HELP_TABLE,
    TICKET_TABLE,
    VISIT_TABLE,
    BadgeEvent,
    BadgeState,
    DayEvent,
    DayState,
    HelpEvent,
    HelpState,
    IllegalTransition,
    TicketEvent,
    TicketState,
    VisitEvent,
    VisitState,
    advance,
    allowed,
)
from service.domain.model import Day, HelpRequest, Ticket
from service.domain.tx import Tx
from service.errors import Conflict
from tests.unit.domain_builders import (
    DAY,
    STAFF,
    T0,
    live,
    make_policy,
    make_room,
    register,
    set_fields,
    snapshot,
)

V, VE = VisitState, VisitEvent
B, BE = BadgeState, BadgeEvent
K, KE = TicketState, TicketEvent
H, HE = HelpState, HelpEvent
D, DE = DayState, DayEvent

EXPECTED_VISIT = {
    (V.REGISTERED, VE.QUEUE): V.QUEUED,
    (V.REGISTERED, VE.ADMIT): V.ADMITTED,
    (V.REGISTERED, VE.RETURN): V.CLOSED,
    (V.REGISTERED, VE.FORCE_CLOSE): V.CLOSED,
    (V.QUEUED, VE.ADMIT): V.ADMITTED,
    (V.QUEUED, VE.UNQUEUE): V.REGISTERED,
    (V.QUEUED, VE.RETURN): V.CLOSED,
    (V.QUEUED, VE.FORCE_CLOSE): V.CLOSED,
    (V.ADMITTED, VE.RETURN): V.CLOSED,
    (V.ADMITTED, VE.FORCE_CLOSE): V.CLOSED,
}
EXPECTED_BADGE = {
    (B.AVAILABLE, BE.ISSUE): B.ISSUED,
    (B.AVAILABLE, BE.REPORT_LOST): B.LOST,
    (B.AVAILABLE, BE.RETIRE): B.RETIRED,
    (B.ISSUED, BE.RETURN): B.AVAILABLE,
    (B.ISSUED, BE.REPORT_LOST): B.LOST,
    (B.LOST, BE.FOUND): B.AVAILABLE,
    (B.LOST, BE.RETIRE): B.RETIRED,
}
EXPECTED_TICKET = {
    (K.WAITING, KE.CALL): K.CALLED,
    (K.WAITING, KE.SKIP): K.SKIPPED,
    (K.WAITING, KE.CANCEL): K.CANCELLED,
    (K.CALLED, KE.SERVE): K.SERVED,
    (K.CALLED, KE.SKIP): K.SKIPPED,
    (K.CALLED, KE.CANCEL): K.CANCELLED,
}
EXPECTED_HELP = {
    (H.OPEN, HE.CLAIM): H.CLAIMED,
    (H.OPEN, HE.RESOLVE): H.RESOLVED,
    (H.OPEN, HE.CANCEL): H.CANCELLED,
    (H.CLAIMED, HE.RESOLVE): H.RESOLVED,
    (H.CLAIMED, HE.CANCEL): H.CANCELLED,
}
EXPECTED_DAY = {
    (D.OPEN, DE.CLOSE): D.CLOSED,
    (D.CLOSED, DE.SIGN): D.SIGNED,
    (D.CLOSED, DE.REOPEN): D.OPEN,
}

TABLES: list[tuple[str, dict[Any, Any], type[enum.Enum], type[enum.Enum], dict[Any, Any]]] = [
    ("visit", VISIT_TABLE, V, VE, EXPECTED_VISIT),
    ("badge", BADGE_TABLE, B, BE, EXPECTED_BADGE),
    ("ticket", TICKET_TABLE, K, KE, EXPECTED_TICKET),
    ("help", HELP_TABLE, H, HE, EXPECTED_HELP),
    ("day", DAY_TABLE, D, DE, EXPECTED_DAY),
]
CELLS = [
    pytest.param(table, state, event, expected.get((state, event)), id=f"{name}-{state}-{event}")
    for name, table, states, events, expected in TABLES
    for state, event in itertools.product(states, events)
]


@pytest.mark.parametrize(("table", "state", "event", "want"), CELLS)
def test_every_cell(table: dict[Any, Any], state: Any, event: Any, want: Any) -> None:
    current = state
    if want is None:
        with pytest.raises(IllegalTransition) as caught:
            current = advance(table, "kunjungan", current, event)
        assert current is state
        assert caught.value.state == state.value
        assert caught.value.event == event.value
        # Said in a clerk's words: the step and the state, never the tables' names.
        said = (caught.value.message_id, caught.value.message_en)
        assert all(f"'{event.value}'" not in m and f"'{state.value}'" not in m for m in said)
        assert said[0].startswith("Tidak dapat ") and said[1].startswith("Cannot "), said
        assert caught.value.http_status == 409
        assert not allowed(table, state, event)
    else:
        assert advance(table, "thing", current, event) is want
        assert allowed(table, state, event)


@pytest.mark.parametrize(("name", "table", "states"), [(t[0], t[1], t[2]) for t in TABLES])
def test_every_state_has_a_row_and_terminal_states_are_final(
    name: str, table: dict[Any, Any], states: type[enum.Enum]
) -> None:
    assert set(table) == set(states), f"{name}: a state without a row"
    reachable = {nxt for row in table.values() for nxt in row.values()}
    assert reachable <= set(states)
    terminal = [s for s in states if not table[s]]
    assert terminal, f"{name}: nothing ever ends"


# --- The same cells through the rules that own them -------------------------------


@pytest.mark.parametrize("event", list(BadgeEvent))
@pytest.mark.parametrize("start", list(BadgeState))
def test_badge_cells_through_badge_event(start: BadgeState, event: BadgeEvent) -> None:
    policy = make_policy()
    state = make_room()
    set_fields(state, "badge", 1, state=start)
    badge = live(state, "badge", 1)
    before = snapshot(state)
    tx = Tx(state)
    want = EXPECTED_BADGE.get((start, event))
    if want is None:
        with pytest.raises(IllegalTransition):
            visits.badge_event(tx, policy, badge, event, T0, STAFF, note="x")
        assert snapshot(state) == before
        assert tx.facts == []
    else:
        visits.badge_event(tx, policy, badge, event, T0, STAFF, note="x")
        assert badge.state is want
        assert badge.note == "x"
        assert [f.KIND for f in tx.facts] == ["badge.state"]
        assert tx.facts[0].event is event


def _visit_in(state_name: VisitState) -> tuple[Any, Any, Any]:
    """A visit brought to ``state_name`` by the rules (one PC, held by someone else when queued)."""
    policy = make_policy()
    state = make_room(pcs=1)
    if state_name is V.QUEUED:
        holder = register(state, policy, name="Holder")
        visits.issue_badge(Tx(state), policy, holder, state.badges[6], T0, STAFF)
    visit = register(state, policy)
    if state_name is not V.REGISTERED:
        visits.issue_badge(Tx(state), policy, visit, state.badges[1], T0, STAFF)
    if state_name is V.CLOSED:
        visits.return_badge(Tx(state), policy, visit, T0, STAFF)
    assert visit.state is state_name
    return policy, state, visit


@pytest.mark.parametrize("event", [VE.RETURN, VE.FORCE_CLOSE])
@pytest.mark.parametrize("start", list(VisitState))
def test_visit_end_cells_through_the_rules(start: VisitState, event: VisitEvent) -> None:
    policy, state, visit = _visit_in(start)
    before = snapshot(state)
    tx = Tx(state)
    at = T0 + timedelta(minutes=30)

    def act() -> None:
        if event is VE.RETURN:
            visits.return_badge(tx, policy, visit, at, STAFF)
        else:
            visits.force_close(tx, policy, visit, "visitor left", at, STAFF)

    want = EXPECTED_VISIT.get((start, event))
    if want is None:
        with pytest.raises(IllegalTransition):
            act()
        assert snapshot(state) == before
        assert tx.facts == []
    else:
        act()
        assert visit.state is want
        assert visit.closed_at == at
        assert visit.forced is (event is VE.FORCE_CLOSE)


def _ticket_in(start: TicketState) -> tuple[Any, Any, Ticket]:
    policy = make_policy()
    state = make_room(pcs=1)
    holder = register(state, policy, name="Holder")
    visits.issue_badge(Tx(state), policy, holder, state.badges[6], T0, STAFF)
    visit = register(state, policy)
    ticket = visits.issue_badge(Tx(state), policy, visit, state.badges[1], T0, STAFF)
    assert ticket is not None
    set_fields(
        state, "ticket", ticket.id, state=start, facility_id=1 if start is not K.WAITING else None
    )
    return policy, state, live(state, "ticket", ticket.id)


@pytest.mark.parametrize("event", [KE.CALL, KE.SERVE, KE.SKIP])
@pytest.mark.parametrize("start", list(TicketState))
def test_ticket_cells_through_the_queue(start: TicketState, event: TicketEvent) -> None:
    _policy, state, ticket = _ticket_in(start)
    facility = state.facilities[1]
    before = snapshot(state)
    tx = Tx(state)
    rules: dict[Any, Callable[[], object]] = {
        KE.CALL: lambda: queue.call(tx, _policy, ticket, facility, T0, STAFF),
        KE.SERVE: lambda: queue.serve(tx, ticket.id, T0, STAFF),
        KE.SKIP: lambda: queue.skip(tx, ticket.id, T0, STAFF),
    }
    rule = rules[event]
    want = EXPECTED_TICKET.get((start, event))
    if want is None:
        with pytest.raises(IllegalTransition):
            rule()
        assert snapshot(state) == before
    else:
        rule()
        assert ticket.state is want


@pytest.mark.parametrize("start", list(TicketState))
def test_ticket_cancel_only_touches_live_tickets(start: TicketState) -> None:
    _policy, state, ticket = _ticket_in(start)
    visit = state.visits[ticket.visit_id]
    before = snapshot(state)
    tx = Tx(state)
    queue.cancel_ticket_of(tx, visit.id, T0, STAFF)
    want = EXPECTED_TICKET.get((start, KE.CANCEL))
    if want is None:
        assert snapshot(state) == before  # a finished ticket stays as it ended
    else:
        assert ticket.state is want
        assert ticket.closed_at == T0


@pytest.mark.parametrize("event", list(HelpEvent))
@pytest.mark.parametrize("start", list(HelpState))
def test_help_cells_through_the_help_desk(start: HelpState, event: HelpEvent) -> None:
    state = make_room()
    state.put(
        "help",
        HelpRequest(
            id=1,
            visit_id=None,
            facility_id=None,
            source="staff",
            category="login",
            problem="cannot log in",
            state=start,
            opened_at=T0,
            opened_by=STAFF,
        ),
    )
    before = snapshot(state)
    tx = Tx(state)
    rules: dict[Any, Callable[[], object]] = {
        HE.CLAIM: lambda: helpdesk.claim(tx, 1, T0, "helpdesk:dedi"),
        HE.RESOLVE: lambda: helpdesk.resolve(tx, 1, None, "password reset", T0, "helpdesk:dedi"),
        HE.CANCEL: lambda: helpdesk.cancel(tx, 1, T0, "helpdesk:dedi"),
    }
    rule = rules[event]
    want = EXPECTED_HELP.get((start, event))
    if want is None:
        with pytest.raises(IllegalTransition):
            rule()
        assert snapshot(state) == before
        assert tx.facts == []
    else:
        rule()
        assert state.help_requests[1].state is want


@pytest.mark.parametrize("event", list(DayEvent))
@pytest.mark.parametrize("start", list(DayState))
def test_day_cells_through_day_close(start: DayState, event: DayEvent) -> None:
    policy = make_policy()
    state = make_room()
    state.put("day", Day(id=DAY, state=start))
    before = snapshot(state)
    tx = Tx(state)
    at = T0 + timedelta(hours=8)
    rules: dict[Any, Callable[[], object]] = {
        DE.CLOSE: lambda: days.close_day(tx, policy, DAY, at, STAFF),
        DE.REOPEN: lambda: days.reopen_day(tx, DAY, at, STAFF, "formulir susulan"),
        DE.SIGN: lambda: days.sign_day(tx, policy, DAY, at, "head:rahmat"),
    }
    rule = rules[event]
    want = EXPECTED_DAY.get((start, event))
    if want is None:
        # Signing an unclosed day is refused with its own message; all are conflicts.
        with pytest.raises(Conflict):
            rule()
        assert snapshot(state) == before
        assert tx.facts == []
    else:
        rule()
        assert state.days[DAY].state is want
