"""A visit's history from its records: every step, in the order it happened, no I/O."""

from __future__ import annotations

from dataclasses import replace

from service import visit_history
from service.domain import visits
from service.domain.model import AccessEvent, Amendment, HelpRequest, Usage
from service.domain.tx import Tx
from service.store.visit_records import VisitRecords
from tests.unit.domain_builders import (
    DOOR_IN,
    STAFF,
    T0,
    make_policy,
    make_room,
    minutes,
    uid,
    visit_with_badge,
)


def _tap(n: int, at_min: float, reason: str, granted: bool = True) -> AccessEvent:
    return AccessEvent(
        id=n,
        at=T0 + minutes(at_min),
        reader=DOOR_IN,
        role="door_in",
        uid=uid(1),
        badge_id=1,
        visit_id=1,
        granted=granted,
        reason=reason,
        event_id=f"e{n}",
    )


def _records() -> VisitRecords:
    policy, state = make_policy(), make_room()
    visit = visit_with_badge(state, policy, 1, name="Siti")
    visits.return_badge(Tx(state), policy, state.visits[visit.id], T0 + minutes(90), STAFF)
    closed = state.visits[visit.id]
    deposit = state.deposit_of(visit.id)
    assert deposit is not None
    return VisitRecords(
        visit=closed,
        deposit=replace(deposit, returned_at=T0 + minutes(95), returned_to="Siti"),
        badge=state.badges[1],
        facilities=dict(state.facilities),
        usages=[
            Usage(
                id=1,
                visit_id=1,
                facility_id=1,
                started_at=T0 + minutes(10),
                ended_at=T0 + minutes(60),
                ended_by="tap",
            )
        ],
        tickets=[],
        helps=[
            HelpRequest(
                id=1,
                visit_id=1,
                facility_id=1,
                source="staff",
                category="upload",
                problem="Gagal unggah",
                opened_at=T0 + minutes(20),
                opened_by=STAFF,
                resolved_at=T0 + minutes(30),
                resolved_by="helpdesk",
                resolution="Berhasil",
            )
        ],
        taps=[_tap(2, 5, "entry"), _tap(3, 6, "already_inside", granted=False)],
        amendments=[
            Amendment(
                id=1,
                day=closed.day,
                at=T0 + minutes(95),
                kind="document.returned",
                actor=STAFF,
                rows=("deposit:1",),
            )
        ],
    )


def test_every_step_in_the_order_it_happened() -> None:
    got = visit_history.history(_records())
    assert [e["kind"] for e in got] == [
        "registered",
        "badge_issued",
        "facility_assigned",
        "tap",
        "tap",
        "usage_started",
        "help_opened",
        "help_resolved",
        "usage_ended",
        "badge_returned",
        "closed",
        "document_returned",
        "amended",
    ]
    assert [e["at"] for e in got] == sorted(e["at"] for e in got)


def test_details_a_clerk_needs_and_nothing_more() -> None:
    got = visit_history.history(_records())
    first = got[0]
    assert (first["slot"], first["doc_masked"], first["by"]) == ("L-01", "1571**********01", STAFF)
    # A closed visit no longer holds its facility: the one its sessions were at is shown.
    assert next(e for e in got if e["kind"] == "facility_assigned")["facility"] == "PC1"
    denied = [e for e in got if e["kind"] == "tap"][1]
    # A refusal keeps granted=False (a falsy detail is not dropped).
    assert denied["granted"] is False and denied["reason"] == "already_inside"
    assert "uid" not in denied and uid(1) not in str(got)
    handed = next(e for e in got if e["kind"] == "document_returned")
    assert (handed["slot"], handed["to"]) == ("L-01", "Siti")


def test_the_summary_names_the_visit_its_slot_and_badge() -> None:
    head = visit_history.summary(_records())
    assert (head["name"], head["state"], head["slot"], head["badge"]) == (
        "Siti",
        "closed",
        "L-01",
        "K-001",
    )
    assert head["facility"] is None and head["document_returned_at"] is not None
