"""The state model: only committed state is ever seen, and one bad job fails alone.

Against the real runtime and database (SQLite in a temp folder): rules that break,
rows that cannot be prepared or written, commits that fail, a reload while pages
read, and the operating state that must survive a restart.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import OperationalError

from service.domain import facts, queue, visits
from service.domain.facts import Identity
from service.domain.identity import DocumentType
from service.domain.state import RoomState
from service.domain.taps import Reason, Tap
from service.domain.tx import Tx
from service.errors import BidroomError, Conflict
from service.runtime import Runtime
from service.store import writer as writer_module
from service.store.audit import journal_faults
from service.store.loader import load_state
from service.store.tables import BadgeRow, table_of
from tests.support.site import START, FakeClock, site_config

UIDS = [f"04AA0000000000{n:02X}" for n in range(1, 9)]


def form(name: str, kind: str | None = "pc") -> visits.Arrival:
    return visits.Arrival(
        name=name,
        company="PT Uji",
        doc_type=DocumentType.KTP,
        doc_masked="1571**********01",
        rules_ack=True,
        privacy_ack=True,
        wanted_kind=kind,
        identity=Identity(doc_hash="h-" + name, doc_number="1571015708850001"),
    )


async def admitted(runtime: Runtime, n: int) -> list[int]:
    """``n`` visits, each with a badge (UIDS[i]) and a facility or a queue number."""
    now = runtime.clock()

    def rule(tx: Tx) -> list[int]:
        ids = []
        for i in range(n):
            badge = visits.enroll_badge(tx, UIDS[i], f"K-9{i:02d}", now, "t")
            visit = visits.register(tx, runtime.policy, form(f"Uji {i}", None), now, "t")
            visits.issue_badge(tx, runtime.policy, visit, badge, now, "t")
            ids.append(visit.id)
        return ids

    return await runtime.execute(rule)


def tables(state: RoomState) -> dict[str, Any]:
    return {name: dict(rows) for name, rows in state.tables.items()}


async def assert_published_is_what_was_committed(runtime: Runtime) -> None:
    fresh, head = await load_state(runtime.engine, runtime.policy, runtime.clock())
    assert head == runtime.writer.head
    assert tables(runtime.state) == tables(fresh)


@pytest.fixture
async def runtime(tmp_path: Path) -> Any:
    rt = Runtime(site_config(tmp_path), clock=FakeClock(), start_readers=False)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


async def test_a_broken_rule_in_a_batch_fails_alone(runtime: Runtime) -> None:
    """Good taps sent together with a rule that breaks half-way: the taps are committed,
    the broken rule leaves no trace, and what everyone reads is what the database holds."""
    ids = await admitted(runtime, 4)

    def broken(tx: Tx) -> None:
        visit = tx.state.visits[ids[0]]
        tx.emit(facts.VisitEntered(at=runtime.clock(), actor="t", visit_id=visit.id))
        raise RuntimeError("a bug half-way through a rule")

    def refused(tx: Tx) -> None:
        raise Conflict("tidak boleh", "not allowed")

    jobs: list[Any] = [
        runtime.submit(Tap("pintu-masuk", UIDS[i], START, f"ok-{i}")) for i in range(4)
    ]
    jobs.insert(2, runtime.execute(broken))
    jobs.insert(4, runtime.execute(refused))
    results = await asyncio.gather(*jobs, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 2 and all(isinstance(e, BidroomError) for e in errors)
    assert "Kesalahan sudah dicatat" in errors[0].message_id  # a plain word, no traceback
    granted = [r for r in results if not isinstance(r, BaseException)]
    assert [d.reason for d in granted] == [Reason.ENTRY] * 4
    assert runtime.state.occupancy() == 4
    await assert_published_is_what_was_committed(runtime)


async def test_a_job_whose_rows_cannot_be_prepared_fails_alone(runtime: Runtime) -> None:
    """A fact that would need an erased data key cannot be sealed: that job alone fails."""
    ids = await admitted(runtime, 2)
    async with runtime.engine.begin() as conn:
        await conn.execute(text("UPDATE data_keys SET wrapped = NULL WHERE subject = 'visitor:1'"))
    runtime.writer._persister.forget_keys()
    now = runtime.clock()

    def help_for(visit_id: int) -> Any:
        from service.domain import helpdesk

        return lambda tx: helpdesk.open_request(
            tx, visit_id, None, "staff", "login", "lupa sandi", now, "t"
        )

    results = await asyncio.gather(
        runtime.execute(help_for(ids[0])),
        runtime.submit(Tap("pintu-masuk", UIDS[1], START, "beside")),
        runtime.execute(help_for(ids[1])),
        return_exceptions=True,
    )
    assert isinstance(results[0], BidroomError)
    assert results[1].granted and not isinstance(results[2], BaseException)
    assert len(runtime.state.help_requests) == 1
    await assert_published_is_what_was_committed(runtime)


async def test_a_failed_commit_changes_nothing_anyone_sees(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await admitted(runtime, 2)
    before = tables(runtime.state)
    real = writer_module.write_sync
    calls = {"n": 0}

    def flaky(conn: Any, batch: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        real(conn, batch)

    monkeypatch.setattr(writer_module, "write_sync", flaky)
    results = await asyncio.gather(
        runtime.submit(Tap("pintu-masuk", UIDS[0], START, "f-1")),
        runtime.submit(Tap("pintu-masuk", UIDS[1], START, "f-2")),
        return_exceptions=True,
    )
    # An entry whose commit failed is refused (fail-secure), and nothing of it is kept.
    assert all(getattr(r, "reason", None) is Reason.DATABASE_UNAVAILABLE for r in results)
    assert tables(runtime.state) == before and runtime.state.occupancy() == 0
    while runtime.writer.unavailable_since is not None:  # probed back twice a second
        await asyncio.sleep(0.05)
    # Sent again (same event ids), they are decided afresh and committed.
    again = await runtime.submit(Tap("pintu-masuk", UIDS[0], START, "f-1"))
    assert again.reason is Reason.ENTRY and runtime.state.occupancy() == 1
    await assert_published_is_what_was_committed(runtime)


async def test_a_constraint_a_row_breaks_is_that_requests_error(runtime: Runtime) -> None:
    """Not a write conflict, not "database unreachable": a 409 for that job, the rest saved."""
    await admitted(runtime, 1)
    async with runtime.engine.begin() as conn:  # behind the writer's back: a label taken
        await conn.execute(
            insert(table_of(BadgeRow)),
            {"id": 500, "uid": "04FFFFFFFFFFFF", "label": "K-500", "state": "available",
             "visit_id": None, "enrolled_at": START},
        )  # fmt: skip
    now = runtime.clock()
    head = runtime.writer.head.seq
    results = await asyncio.gather(
        runtime.execute(lambda tx: visits.enroll_badge(tx, "04EEEEEEEEEEEE", "K-500", now, "t")),
        runtime.submit(Tap("pintu-masuk", UIDS[0], START, "c-1")),
        runtime.execute(lambda tx: visits.enroll_badge(tx, "04DDDDDDDDDDDD", "K-501", now, "t")),
        return_exceptions=True,
    )
    assert isinstance(results[0], Conflict) and "catatan yang sudah ada" in results[0].message_id
    assert results[1].granted and results[2].label == "K-501"
    assert runtime.writer.head.seq > head
    assert await journal_faults(runtime.engine) == []


async def test_pages_never_see_an_uncommitted_change(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a commit is on its way to the disk, the published state is the old one."""
    (visit_id,) = await admitted(runtime, 1)
    inside_commit = threading.Event()
    release = threading.Event()
    real = writer_module.write_sync

    def slow(conn: Any, batch: Any) -> None:
        inside_commit.set()
        release.wait(10)
        real(conn, batch)

    monkeypatch.setattr(writer_module, "write_sync", slow)
    tap = asyncio.create_task(runtime.submit(Tap("pintu-masuk", UIDS[0], START, "s-1")))
    await asyncio.to_thread(inside_commit.wait, 10)
    assert runtime.state.visits[visit_id].inside is False  # decided, not yet committed
    assert runtime.status()["occupancy"]["inside"] == 0
    release.set()
    assert (await tap).granted
    assert runtime.state.visits[visit_id].inside is True


async def test_a_reload_swaps_the_state_in_one_step(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers during a reload see the whole old state, then the whole new one."""
    await admitted(runtime, 3)
    old = runtime.state
    seen: list[int] = []
    real_read = load_state

    async def slow_load(*args: Any) -> Any:
        for _ in range(5):
            seen.append(len(runtime.state.visits))  # a page reading meanwhile
            await asyncio.sleep(0)
        return await real_read(*args)

    monkeypatch.setattr("service.runtime.load_state", slow_load)
    runtime.writer.request_reload()
    await runtime.execute(lambda tx: None)
    assert seen == [3] * 5 and runtime.state is not old
    assert tables(runtime.state) == tables(old)


# -- operating state that survives reloads and restarts ----------------------------------


async def test_pending_badge_issue_out_of_service_and_a_calls_hold_survive_a_restart(
    tmp_path: Path,
) -> None:
    config = site_config(tmp_path)
    clock = FakeClock()
    first = Runtime(config, clock=clock, start_readers=False)
    await first.start()
    now = clock()
    waiting = await first.execute(
        lambda tx: visits.register(tx, first.policy, form("Menunggu", None), now, "fo")
    )
    await first.execute(
        lambda tx: visits.arm_issue(tx, "front-office", waiting, now, "officer:ani")
    )
    pc = next(f for f in first.state.facilities.values() if f.code == "PC-08")
    await first.execute(
        lambda tx: queue.set_out_of_service(tx, pc.id, True, now, "officer:ani", "layar rusak")
    )
    first.writer.request_reload()  # midnight, a conflict, a CLI write: the same reload
    await first.execute(lambda tx: None)
    assert first.state.armed["front-office"].visit_id == waiting.id
    await first.stop()

    clock.advance(minutes=5)
    second = Runtime(config, clock=clock, start_readers=False)
    await second.start()
    try:
        armed = second.state.armed["front-office"]
        assert (armed.visit_id, armed.by) == (waiting.id, "officer:ani")
        again = second.state.facilities[pc.id]
        assert again.out_of_service and again.service_by == "officer:ani"
        assert again.service_note == "layar rusak" and again.service_at == now
        status = {f["code"]: f for f in second.status()["facilities"]}
        assert status["PC-08"]["status"] == "out_of_service"
        assert status["PC-08"]["service"]["note"] == "layar rusak"
        # The front desk still issues the next free badge to the waiting visit.
        await second.execute(lambda tx: visits.enroll_badge(tx, UIDS[0], "K-990", now, "t"))
        decision = await second.submit(Tap("front-office", UIDS[0], clock(), "fd-1"))
        assert decision.reason is Reason.BADGE_ISSUED and decision.visit_id == waiting.id
    finally:
        await second.stop()


async def test_a_called_numbers_hold_is_fixed_when_it_is_called(tmp_path: Path) -> None:
    """The hold is written with the call: a restart (or a new hold_s) does not move it."""
    config = site_config(tmp_path, queue={"hold_s": 300})
    clock = FakeClock()
    rt = Runtime(config, clock=clock, start_readers=False)
    await rt.start()
    try:
        now = clock()

        def one_pc_two_visitors(tx: Tx) -> list[int]:
            for fac in list(tx.state.facilities.values()):
                if fac.kind == "pc" and fac.code != "PC-01":
                    queue.set_out_of_service(tx, fac.id, True, now, "t", "uji")
            ids = []
            for i in range(2):
                badge = visits.enroll_badge(tx, UIDS[i], f"K-8{i}", now, "t")
                visit = visits.register(tx, rt.policy, form(f"Q{i}"), now, "t")
                visits.issue_badge(tx, rt.policy, visit, badge, now, "t")
                ids.append(visit.id)
            return ids

        sitting, waiting = await rt.execute(one_pc_two_visitors)
        await rt.execute(
            lambda tx: visits.return_badge(tx, rt.policy, tx.state.visits[sitting], now, "t")
        )
        clock.advance(seconds=61)
        await rt.tick()
        ticket = next(t for t in rt.state.tickets.values() if t.visit_id == waiting)
        assert ticket.state.value == "called"
        assert ticket.hold_until == clock() + rt.policy.hold
    finally:
        await rt.stop()
    shorter = site_config(tmp_path, queue={"hold_s": 60})
    later = Runtime(shorter, clock=clock, start_readers=False)
    await later.start()
    try:
        assert later.state.tickets[ticket.id].hold_until == ticket.hold_until
    finally:
        await later.stop()


# -- time: the daemon's clock decides ---------------------------------------------------


async def test_a_back_dated_tap_is_decided_now_and_keeps_its_own_time(runtime: Runtime) -> None:
    clock = runtime.clock
    assert isinstance(clock, FakeClock)
    await admitted(runtime, 1)
    clock.now = START + timedelta(minutes=50)
    # The reader claims it saw the badge 40 minutes ago: decided now, its time kept beside.
    claimed = START + timedelta(minutes=10)
    decision = await runtime.submit(Tap("pintu-masuk", UIDS[0], claimed, "back-1"))
    assert decision.reason is Reason.ENTRY
    async with runtime.engine.connect() as conn:
        at, reported = (await conn.execute(text("SELECT at, reported_at FROM access_events"))).one()
    assert str(at).startswith("2026-11-25 02:50") and str(reported).startswith("2026-11-25 02:10")
    # After closing time a claim of "09.10" does not open the door.
    clock.now = START.replace(hour=10)
    decision = await runtime.submit(Tap("pintu-keluar", UIDS[0], clock(), "out-1"))
    late = START + timedelta(minutes=20)
    decision = await runtime.submit(
        Tap("pintu-masuk", UIDS[0], clock() - timedelta(minutes=30), "back-2")
    )
    assert decision.reason is Reason.OUTSIDE_HOURS and late < clock()
    with pytest.raises(BidroomError, match="in the future"):
        await runtime.submit(Tap("pintu-masuk", UIDS[0], clock() + timedelta(minutes=10), "future"))
    with pytest.raises(BidroomError, match="too old"):
        await runtime.submit(Tap("pintu-masuk", UIDS[0], clock() - timedelta(hours=3), "old"))


async def test_replays_are_answered_from_bounded_memory_then_from_the_database(
    runtime: Runtime,
) -> None:
    """The idempotency memory holds the most recent decisions only; an older replay is
    answered from the database (its unique event_id), never decided twice."""
    runtime.intake._size = 3
    await admitted(runtime, 1)
    clock = runtime.clock
    assert isinstance(clock, FakeClock)
    first_at = clock()
    first = await runtime.submit(Tap("pintu-masuk", UIDS[0], first_at, "mem-0"))
    for n in range(1, 6):
        clock.advance(seconds=1)
        reader = "pintu-keluar" if n % 2 else "pintu-masuk"
        await runtime.submit(Tap(reader, UIDS[0], clock(), f"mem-{n}"))
    assert len(runtime.intake._decided) == 3 and "mem-0" not in runtime.intake._decided
    again, replayed = await runtime.submit_ex(Tap("pintu-masuk", UIDS[0], first_at, "mem-0"))
    assert replayed and again.reason is first.reason is Reason.ENTRY
    async with runtime.engine.connect() as conn:
        count = (
            await conn.execute(text("SELECT count(*) FROM access_events WHERE event_id = 'mem-0'"))
        ).scalar()
    assert count == 1
