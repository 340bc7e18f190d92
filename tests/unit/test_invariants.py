"""Invariants of the room over random sequences of actions (hypothesis stateful).

Random registrations, badge issues (front desk armed + tapped, and by staff),
door and desk taps on every reader, queue ticks with an advancing clock, badge
returns, document returns, force closes, lost and found badges and staff
facility assignments. Every action runs in its own :class:`Tx`; an action the
rules refuse is rolled back, and the state must then be exactly as before.

Replays (same ``event_id``) are not modelled here: the runtime answers a replay
from its store before the rules run, and re-deciding a tap in the pure rules is
deliberately not idempotent. Replay is tested where it lives (store/runtime).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from service.domain import queue, visits
from service.domain.access import decide_tap
from service.domain.apply import apply
from service.domain.lifecycle import BadgeEvent, BadgeState, TicketState, VisitState
from service.domain.model import Visit
from service.domain.taps import Decision, Reason
from service.domain.tx import Tx
from service.errors import BidroomError
from tests.unit.domain_builders import (
    DESK_LD1,
    DESK_LOOSE,
    DESK_PC1,
    DESK_PC2,
    DOOR_IN,
    DOOR_OUT,
    FRONT,
    STAFF,
    T0,
    access_events,
    arrival,
    make_policy,
    make_room,
    snapshot,
    tap,
    tap_facts,
    uid,
)

BADGES = 5
READERS = [DOOR_IN, DOOR_OUT, DESK_PC1, DESK_PC2, DESK_LD1, DESK_LOOSE, FRONT, "ghost"]
picks = st.integers(min_value=0, max_value=63)
steps = st.integers(min_value=0, max_value=240)  # seconds the clock moves before an action


class Room(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.policy = make_policy(capacity=2, slots=tuple(f"L-{n:02d}" for n in range(1, 9)))
        self.state = make_room(pcs=1, laptop_desks=1, badges=BADGES)
        self.now = T0
        # The door's own count: what occupancy must be.
        self.entries = 0
        self.exits_after_entry = 0
        self.closed_inside = 0

    # --- helpers ------------------------------------------------------------------

    def _tick(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    def _visit(self, pick: int, *, open_only: bool = False) -> Visit | None:
        pool = [
            v
            for v in self.state.visits.values()
            if not open_only or v.state is not VisitState.CLOSED
        ]
        return pool[pick % len(pool)] if pool else None

    def _badgeless(self, pick: int) -> Visit | None:
        """Mostly an open visit still waiting for a badge; else any visit at all."""
        waiting = [
            v
            for v in self.state.visits.values()
            if v.state is not VisitState.CLOSED and v.badge_id is None
        ]
        if waiting and pick % 4:
            return waiting[pick % len(waiting)]
        return self._visit(pick)

    def _attempt(self, action: Any) -> bool:
        """Run one action as the writer does: on a copy that is thrown away if it is refused.

        A refusal must leave no trace; an accepted action's facts, applied to the state as
        it was (what the published state does after the commit), give the same state.
        """
        before = snapshot(self.state, event_ids=True)
        published = self.state.clone()
        tx = Tx(self.state)
        try:
            action(tx)
            tx.finish()
        except BidroomError:
            for name in ("tables", "next_ids", "badge_by_uid", "facility_by_reader"):
                setattr(self.state, name, getattr(published, name))
            for name in ("open_usage_by_visit", "deposit_by_visit", "signed"):
                setattr(self.state, name, getattr(published, name))
            assert snapshot(self.state, event_ids=True) == before
            return False
        self._same_when_replayed(published, tx)
        return True

    def _same_when_replayed(self, published: Any, tx: Tx) -> None:
        for fact in tx.facts:
            apply(published, fact)
        assert snapshot(published, event_ids=True) == snapshot(self.state, event_ids=True)

    def _closing(self, visit: Visit, action: Any) -> None:
        was_inside = visit.inside and visit.state is not VisitState.CLOSED
        if self._attempt(action) and was_inside:
            self.closed_inside += 1

    def _tap(self, reader: str, badge_uid: str) -> Decision:
        badge = self.state.badge_by(badge_uid)
        visit = self.state.visits[badge.visit_id] if badge is not None and badge.visit_id else None
        was_inside = visit is not None and visit.inside
        published = self.state.clone()
        tx = Tx(self.state)
        decision = decide_tap(tx, self.policy, tap(reader, badge_uid, self.now))
        tx.finish()
        self._same_when_replayed(published, tx)
        # Exactly one access event and one tap fact, whatever happened.
        assert len(access_events(tx)) == 1
        assert tap_facts(tx) == [f"tap.{decision.reason.value}"]
        if decision.reason is Reason.ENTRY:
            self.entries += 1
        elif decision.reason is Reason.EXIT:
            self.exits_after_entry += 1
        elif decision.reason is Reason.BADGE_RETURNED and was_inside:
            self.closed_inside += 1
        return decision

    # --- rules ---

    @initialize(crowd=st.integers(min_value=0, max_value=4))
    def morning_crowd(self, crowd: int) -> None:
        """Start with ``crowd`` visitors badged in for a PC: one sits, the rest queue."""
        for n in range(1, crowd + 1):
            form = arrival(name=f"Pagi {n}", wanted_kind="pc")
            tx = Tx(self.state)
            visit = visits.register(tx, self.policy, form, self.now, STAFF)
            badge = self.state.badges[n]
            visits.issue_badge(tx, self.policy, visit, badge, self.now, STAFF)

    # --- actions ----------------------------------------------------------------

    @rule(kind=st.sampled_from([None, "pc", "pc", "pc", "laptop_desk"]), wait=steps)
    def register(self, kind: str | None, wait: int) -> None:
        self._tick(wait)
        n = len(self.state.visits) + 1
        form = arrival(name=f"Peserta {n}", wanted_kind=kind)
        self._attempt(lambda tx: visits.register(tx, self.policy, form, self.now, STAFF))

    @precondition(lambda self: self.state.visits)
    @rule(pick=picks, badge=st.integers(1, BADGES), wait=steps)
    def front_desk_issue(self, pick: int, badge: int, wait: int) -> None:
        self._tick(wait)
        visit = self._badgeless(pick)
        assert visit is not None
        self._attempt(lambda tx: visits.arm_issue(tx, FRONT, visit, self.now, STAFF))
        self._tap(FRONT, uid(badge))

    @precondition(lambda self: self.state.visits)
    @rule(pick=picks, badge=st.integers(1, BADGES), wait=steps)
    def staff_issue(self, pick: int, badge: int, wait: int) -> None:
        self._tick(wait)
        visit = self._badgeless(pick)
        assert visit is not None
        free = [b for b in self.state.badges.values() if b.state is BadgeState.AVAILABLE]
        chosen = free[badge % len(free)] if free else self.state.badges[badge]
        self._attempt(
            lambda tx: visits.issue_badge(tx, self.policy, visit, chosen, self.now, STAFF)
        )

    @rule(
        reader=st.sampled_from(READERS),
        badge=st.integers(1, BADGES + 1),
        holder=st.sampled_from([True, True, True, False]),
        wait=steps,
    )
    def reader_tap(self, reader: str, badge: int, holder: bool, wait: int) -> None:
        """Mostly a badge that is out with a visitor; else any (BADGES + 1: never enrolled)."""
        self._tick(wait)
        out = [b.uid for b in self.state.badges.values() if b.visit_id is not None]
        self._tap(reader, out[badge % len(out)] if holder and out else uid(badge))

    @precondition(lambda self: any(b.visit_id for b in self.state.badges.values()))
    @rule(wait=steps)
    def walk_in_and_sit_down(self, wait: int) -> None:
        """The common path: a badge holder enters, taps their desk, and leaves."""
        self._tick(wait)
        out = [b for b in self.state.badges.values() if b.visit_id is not None]
        badge = out[wait % len(out)]
        self._tap(DOOR_IN, badge.uid)
        visit = self.state.visits[badge.visit_id or 0]
        facility = self.state.facilities.get(visit.facility_id or 0)
        if facility is not None and facility.reader is not None:
            self._tap(facility.reader, badge.uid)

    @rule(wait=steps)
    def queue_tick(self, wait: int) -> None:
        self._tick(wait)
        self._attempt(lambda tx: queue.run_due(tx, self.policy, self.now))

    @precondition(lambda self: self.state.tickets)
    @rule(pick=picks, priority=st.booleans(), wait=steps)
    def staff_skip_or_prioritise(self, pick: int, priority: bool, wait: int) -> None:
        """What the queue page offers: skip a number, or give a waiting one priority."""
        self._tick(wait)
        tickets = list(self.state.tickets.values())
        ticket = tickets[pick % len(tickets)]

        def act(tx: Tx) -> None:
            if priority and ticket.state is TicketState.WAITING:
                queue.prioritise(tx, ticket.id, "tender closes", self.now, STAFF)
            else:
                queue.staff_skip(tx, ticket.id, self.now, STAFF)

        self._attempt(act)

    @rule(facility=st.integers(1, 2), out=st.booleans(), wait=steps)
    def out_of_service(self, facility: int, out: bool, wait: int) -> None:
        """The facilities page: take a PC out of service (even while in use) or back."""
        self._tick(wait)

        self._attempt(
            lambda tx: queue.set_out_of_service(tx, facility, out, self.now, STAFF, "rusak")
        )

    @rule(kind=st.sampled_from(["pc", "laptop_desk"]), wait=steps)
    def staff_call_next(self, kind: str, wait: int) -> None:
        self._tick(wait)
        self._attempt(lambda tx: queue.call_next(tx, self.policy, kind, self.now, STAFF))

    @precondition(lambda self: self.state.visits)
    @rule(pick=picks, code=st.sampled_from([None, "PC1", "LD1"]), wait=steps)
    def staff_assign(self, pick: int, code: str | None, wait: int) -> None:
        self._tick(wait)
        visit = self._visit(pick)
        assert visit is not None
        self._attempt(
            lambda tx: visits.assign_facility(tx, self.policy, visit, "pc", code, self.now, STAFF)
        )

    @precondition(lambda self: self.state.visits)
    @rule(pick=picks, wait=steps)
    def staff_return(self, pick: int, wait: int) -> None:
        self._tick(wait)
        visit = self._visit(pick)
        assert visit is not None
        self._closing(
            visit, lambda tx: visits.return_badge(tx, self.policy, visit, self.now, STAFF)
        )

    @precondition(lambda self: self.state.visits)
    @rule(pick=picks, reason=st.sampled_from(["", "pengunjung pergi"]), wait=steps)
    def force_close(self, pick: int, reason: str, wait: int) -> None:
        self._tick(wait)
        visit = self._visit(pick)
        assert visit is not None
        self._closing(
            visit,
            lambda tx: visits.force_close(tx, self.policy, visit, reason, self.now, STAFF),
        )

    @precondition(lambda self: self.state.visits)
    @rule(pick=picks, wait=steps)
    def return_document(self, pick: int, wait: int) -> None:
        self._tick(wait)
        visit = self._visit(pick)
        assert visit is not None
        self._attempt(lambda tx: visits.return_document(tx, visit, "", self.now, STAFF))

    @rule(
        badge=st.integers(1, BADGES),
        event=st.sampled_from([BadgeEvent.REPORT_LOST, BadgeEvent.FOUND]),
        wait=steps,
    )
    def lost_or_found(self, badge: int, event: BadgeEvent, wait: int) -> None:
        self._tick(wait)
        chosen = self.state.badges[badge]
        self._attempt(
            lambda tx: visits.badge_event(tx, self.policy, chosen, event, self.now, STAFF)
        )

    # --- invariants ---------------------------------------------------------------

    @invariant()
    def badges_and_visits_agree(self) -> None:
        active = [v for v in self.state.visits.values() if v.state is not VisitState.CLOSED]
        held = [v.badge_id for v in active if v.badge_id is not None]
        assert len(held) == len(set(held)), "a badge on two active visits"
        for visit in active:
            if visit.badge_id is not None:
                badge = self.state.badges[visit.badge_id]
                assert badge.visit_id == visit.id
                assert badge.state is BadgeState.ISSUED
        for badge in self.state.badges.values():
            if badge.visit_id is not None:
                visit = self.state.visits[badge.visit_id]
                assert visit.badge_id == badge.id
                assert visit.state is not VisitState.CLOSED
            assert (badge.state is BadgeState.ISSUED) == (badge.visit_id is not None)
            assert self.state.badge_by_uid[badge.uid] == badge.id

    @invariant()
    def documents_go_back_only_after_close(self) -> None:
        for deposit in self.state.deposits.values():
            if deposit.returned_at is not None:
                assert self.state.visits[deposit.visit_id].state is VisitState.CLOSED
        held = [d.slot for d in self.state.deposits.values() if d.returned_at is None]
        assert len(held) == len(set(held)), "two documents in one slot"

    @invariant()
    def occupancy_matches_the_door(self) -> None:
        occupancy = self.state.occupancy()
        assert occupancy >= 0
        assert occupancy == self.entries - self.exits_after_entry - self.closed_inside
        assert occupancy <= self.policy.capacity
        for visit in self.state.visits.values():
            if visit.state is VisitState.CLOSED:
                assert not visit.inside

    @invariant()
    def facilities_and_visits_agree(self) -> None:
        for facility in self.state.facilities.values():
            if facility.visit_id is not None:
                visit = self.state.visits[facility.visit_id]
                assert visit.state is not VisitState.CLOSED, "facility held by a closed visit"
                assert visit.facility_id == facility.id
            if facility.reserved_ticket_id is not None:
                ticket = self.state.tickets[facility.reserved_ticket_id]
                assert ticket.state is TicketState.CALLED
                assert ticket.facility_id == facility.id
                assert facility.visit_id is None
        for visit in self.state.visits.values():
            if visit.facility_id is not None:
                assert self.state.facilities[visit.facility_id].visit_id == visit.id
            usage = self.state.open_usage(visit.id)
            if usage is not None:
                assert visit.state is not VisitState.CLOSED, "a session left open"
                assert usage.facility_id == visit.facility_id

    @invariant()
    def live_tickets_belong_to_open_visits(self) -> None:
        live = (TicketState.WAITING, TicketState.CALLED)
        for ticket in self.state.tickets.values():
            visit = self.state.visits[ticket.visit_id]
            if ticket.state in live:
                assert visit.state is VisitState.QUEUED
                assert visit.ticket_id == ticket.id
            if ticket.state is TicketState.CALLED:
                assert ticket.facility_id is not None
                assert self.state.facilities[ticket.facility_id].reserved_ticket_id == ticket.id
        for visit in self.state.visits.values():
            if visit.state is VisitState.QUEUED:
                assert visit.ticket_id is not None
                assert self.state.tickets[visit.ticket_id].state in live


Room.TestCase.settings = settings(
    max_examples=75,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRoom = Room.TestCase
