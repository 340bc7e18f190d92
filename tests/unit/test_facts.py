"""Typed facts, the one ``apply``, the Tx, amendments to signed days, and the journal codec."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from service.domain import days, facts, visits
from service.domain.apply import apply
from service.domain.apply_core import applier
from service.domain.lifecycle import BadgeEvent, BadgeState, DayState, VisitState
from service.domain.model import (
    ENTITIES,
    AccessEvent,
    Day,
    Deposit,
    HelpRequest,
    Visit,
    Visitor,
    personal_fields,
)
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.taps import Tap
from service.domain.tx import Tx
from service.store.journal import PersonalValueUnsealed, decode_fact, encode_fact
from tests.unit.domain_builders import (
    DAY,
    DOOR_IN,
    DOOR_OUT,
    STAFF,
    T0,
    arrival,
    decide,
    make_policy,
    make_room,
    minutes,
    register,
    visit_with_badge,
)

SEAL = "sealed:"


def seal(path: str, value: str) -> str:
    return f"{SEAL}{path}"


def test_every_fact_kind_has_one_apply_rule_and_a_unique_kind() -> None:
    kinds = [cls.KIND for cls in facts.FACT_TYPES.values()]
    assert len(kinds) == len(set(kinds))
    registered = set(applier.registry)
    for cls in facts.FACT_TYPES.values():
        assert any(issubclass(cls, t) for t in registered if t is not facts.Fact), cls


def test_entities_are_immutable_so_only_apply_changes_the_state() -> None:
    state = make_room()
    visit = register(state, make_policy())
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.visits[visit.id].inside = True  # type: ignore[misc]


def test_emit_applies_at_once_and_keeps_the_rows_it_wrote() -> None:
    state, policy = make_room(), make_policy()
    tx = Tx(state)
    visit = visits.register(tx, policy, arrival(), T0, STAFF)
    assert state.visits[visit.id] == visit and state.next_id("visit") == visit.id + 1
    assert [f.KIND for f in tx.facts] == ["visitor.recorded", "visit.registered"]
    assert {(e, k) for e, k, _ in tx.writes} == {("visitor", 1), ("visit", 1), ("deposit", 1)}
    # The facts alone, applied to the state as it was, give the same state.
    replayed = make_room()
    for fact in tx.facts:
        apply(replayed, fact)
    assert replayed.visits == state.visits and replayed.deposits == state.deposits


def test_a_tap_in_flight_answers_its_own_replay_until_the_commit() -> None:
    state, policy = make_room(), make_policy()
    visit_with_badge(state, policy, 1)
    _, tx = decide(state, policy, DOOR_IN, "04A1B2C3D40001", T0 + minutes(2))
    (tapped,) = [f for f in tx.facts if isinstance(f, facts.TapDecided)]
    assert state.taps_in_flight[tapped.event.event_id] == tapped.event
    assert state.clone().taps_in_flight == {}  # a rebuilt working state starts empty


# --- Signed days never change in place ------------------------------------------------


def signed_day_with_open_visit() -> tuple[RoomState, object, object]:
    state, policy = make_room(), make_policy()
    visit = visit_with_badge(state, policy, 1)
    decide(state, policy, DOOR_IN, "04A1B2C3D40001", T0 + minutes(2))
    evening = T0 + timedelta(hours=8)
    days.close_day(Tx(state), Policy(), DAY, evening, STAFF)
    days.sign_day(Tx(state), policy, DAY, evening + minutes(5), "head:rahmat")
    assert state.is_signed(DAY)
    return state, policy, visit


def test_a_change_to_a_signed_days_row_is_an_amendment_kept_beside_it() -> None:
    state, policy, visit = signed_day_with_open_visit()
    later = T0 + timedelta(hours=9)
    tx = Tx(state)
    visits.return_badge(tx, policy, visit, later, STAFF)  # type: ignore[arg-type]
    tx.finish()
    amendment = tx.facts[-1]
    assert isinstance(amendment, facts.AmendmentRecorded)
    assert amendment.amendment.day == DAY and amendment.amendment.at == later
    assert "visit:1" in amendment.amendment.rows and "usage:1" not in amendment.amendment.rows
    assert ("visit", 1) in tx.diverted  # the store keeps it beside the signed row
    assert ("badge", 1) not in tx.diverted  # a badge belongs to no day
    assert state.visits[1].state is VisitState.CLOSED  # operations go on as usual
    assert days.pending_amendments(state, DAY) == [amendment.amendment]
    signed = days.sign_amendments(Tx(state), DAY, later + minutes(1), "head:rahmat")
    assert [a.signed_by for a in signed] == ["head:rahmat"]
    assert days.pending_amendments(state, DAY) == []


def test_a_back_entered_form_dated_in_a_signed_day_is_an_amendment() -> None:
    state, policy, _visit = signed_day_with_open_visit()
    tx = Tx(state)
    paper = visits.register(tx, policy, arrival(name="Kertas", back_entered=True), T0, STAFF)
    tx.finish()
    assert paper.day == DAY and ("visit", paper.id) in tx.diverted
    (amendment,) = [f for f in tx.facts if isinstance(f, facts.AmendmentRecorded)]
    assert {f"visit:{paper.id}", f"deposit:{paper.id}"} <= set(amendment.amendment.rows)


def test_a_late_tap_reported_for_a_signed_day_is_recorded_today_and_amends_it() -> None:
    state, policy, _visit = signed_day_with_open_visit()
    tomorrow = T0 + timedelta(days=1)
    tx = Tx(state)
    from service.domain.access import decide_tap

    decide_tap(tx, policy, Tap(DOOR_OUT, "04A1B2C3D40001", T0 + minutes(50), "late-1"), tomorrow)
    tx.finish()
    (tapped,) = [f for f in tx.facts if isinstance(f, facts.TapDecided)]
    assert tapped.event.at == tomorrow and tapped.event.reported_at == T0 + minutes(50)
    (amendment,) = [f for f in tx.facts if isinstance(f, facts.AmendmentRecorded)]
    assert f"access_event:{tapped.event.id}" in amendment.amendment.rows
    assert ("access_event", tapped.event.id) not in tx.diverted  # it is today's row


def test_erasure_and_signing_are_not_amendments() -> None:
    state, _policy, _visit = signed_day_with_open_visit()
    tx = Tx(state)
    erased = facts.PersonalDataErased(
        at=T0 + timedelta(days=400), actor="system", data_subject="visitor:1"
    )
    tx.emit(erased)
    tx.finish()
    assert not any(isinstance(f, facts.AmendmentRecorded) for f in tx.facts)
    assert tx.writes == [] and tx.diverted == set()  # the store erases by SQL
    assert state.visits[1].name == "(dihapus)" and state.visitors[1].erased_at is not None


# --- The journal codec: personal values sealed, as the model declares them ---------------


def test_the_model_declares_its_personal_fields_once() -> None:
    declared = {name: personal_fields(cls) for name, cls in ENTITIES.items()}
    assert declared["visitor"] == {"name"} and declared["visit"] == {"name"}
    assert declared["deposit"] == {"returned_to"}
    assert declared["help"] == {"problem", "resolution"}
    assert personal_fields(facts.Identity) == {"doc_number", "phone", "npwp"}
    assert declared["badge"] == frozenset() and declared["access_event"] == frozenset()


def registered_fact() -> facts.VisitRegistered:
    visit = Visit(
        id=5,
        day=DAY,
        visitor_id=9,
        name="Budi Santoso",
        company="CV A",
        form_started_at=T0,
        registered_at=T0,
    )
    deposit = Deposit(
        id=5,
        visit_id=5,
        doc_type="ktp",
        doc_masked="1571**01",
        slot="L-01",
        taken_at=T0,
        taken_by=STAFF,
        returned_to="Siti Aminah",
    )
    return facts.VisitRegistered(at=T0, actor=STAFF, visit=visit, deposit=deposit)


def recorded_fact() -> facts.VisitorRecorded:
    visitor = Visitor(
        id=9,
        name="Budi Santoso",
        company="CV A",
        doc_type="ktp",
        doc_masked="1571**01",
        created_at=T0,
    )
    identity = facts.Identity(
        doc_hash="h", doc_number="1571015708850001", phone="+6281234567890", npwp="013121660091000"
    )
    return facts.VisitorRecorded(at=T0, actor=STAFF, visitor=visitor, identity=identity)


def help_fact() -> facts.HelpOpened:
    request = HelpRequest(
        id=3,
        visit_id=None,
        facility_id=None,
        source="staff",
        category="login",
        problem="Pak Budi lupa sandi",
        opened_at=T0,
        opened_by=STAFF,
    )
    return facts.HelpOpened(at=T0, actor=STAFF, request=request)


@pytest.mark.parametrize(
    ("fact", "secrets"),
    [
        (registered_fact(), ["Budi Santoso", "Siti Aminah"]),
        (
            recorded_fact(),
            ["Budi Santoso", "1571015708850001", "+6281234567890", "013121660091000"],
        ),
        (help_fact(), ["Pak Budi lupa sandi"]),
        (
            facts.DocumentReturned(at=T0, actor=STAFF, deposit_id=5, visitor_id=9, to="Siti"),
            ["Siti"],
        ),
    ],
)
def test_personal_values_never_reach_the_journal_in_clear(
    fact: facts.Fact, secrets: list[str]
) -> None:
    payload = encode_fact(fact, seal)
    for secret in secrets:
        assert secret not in payload
    assert SEAL in payload and json.loads(payload)["subject"] == fact.subject
    back = decode_fact(fact.KIND, encode_fact(fact, lambda p, v: v), lambda s, p, t: t)
    assert back == fact  # everything else survives the round trip, typed
    with pytest.raises(PersonalValueUnsealed):
        encode_fact(fact, None)  # no key: refused, never written in clear


def test_a_help_request_for_no_visit_has_a_subject_of_its_own() -> None:
    fact = facts.HelpResolved(at=T0, actor=STAFF, request_id=4, problem="x", resolution="y")
    assert fact.subject == "help:4"
    assert (
        facts.HelpResolved(
            at=T0, actor=STAFF, request_id=4, visitor_id=2, problem="x", resolution="y"
        ).subject
        == "visitor:2"
    )


def test_tap_events_round_trip() -> None:
    event = AccessEvent(
        id=1,
        at=T0,
        reader="r",
        role="door_in",
        uid="04AA",
        badge_id=None,
        visit_id=None,
        granted=False,
        reason="unknown_badge",
        event_id="e1",
        reported_at=T0 - minutes(3),
    )
    fact = facts.TapDecided(at=T0, actor="reader:r", event=event)
    assert decode_fact(fact.KIND, encode_fact(fact, None), lambda s, p, t: t) == fact


def test_days_and_closures_round_trip() -> None:
    lost = facts.BadgeStateChanged(
        at=T0, actor=STAFF, badge_id=1, event=BadgeEvent.REPORT_LOST, state=BadgeState.LOST
    )
    sealed = facts.DaySealed(
        at=T0,
        actor="system",
        day=DAY,
        journal_seq=7,
        files=(facts.SealedFile(name="a.pdf", sha256="00"),),
    )
    for fact in (facts.DayClosed(at=T0, actor=STAFF, day=DAY, note="x"), lost, sealed):
        assert decode_fact(fact.KIND, encode_fact(fact, None), lambda s, p, t: t) == fact
    state = RoomState()
    apply(state, facts.DayClosed(at=T0, actor=STAFF, day=DAY))
    assert state.days[DAY] == Day(id=DAY, state=DayState.CLOSED, closed_at=T0, closed_by=STAFF)


def test_mypy_catches_a_wrong_field_name_in_a_fact(tmp_path: Path) -> None:
    """The point of typed facts: a typo is a type error, not a silent new column."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            from datetime import UTC, datetime
            from service.domain.facts import VisitEntered

            VisitEntered(at=datetime.now(UTC), actor="x", visit=1)
            """
        )
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(probe)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Unexpected keyword argument "visit"' in result.stdout
