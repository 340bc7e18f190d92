"""The store under stress: a database that is briefly gone, a second process writing,
a restart, a corrupt file. Nothing is lost, nothing is half-written."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from service.domain import visits
from service.domain.facts import Identity
from service.domain.identity import DocumentType
from service.domain.taps import Tap
from service.domain.tx import Tx
from service.runtime import Runtime
from service.store.audit import journal_faults
from service.store.engine import sqlite_path
from tests.support.site import START, FakeClock, site_config

UID = "04AA000000000001"


def form(name: str) -> visits.Arrival:
    return visits.Arrival(
        name=name,
        company="PT Uji",
        doc_type=DocumentType.KTP,
        doc_masked="1571**********01",
        rules_ack=True,
        privacy_ack=True,
        wanted_kind="pc",
        identity=Identity(doc_hash="h-" + name, doc_number="1571015708850001"),
    )


async def admitted_visit(runtime: Runtime, name: str = "Uji") -> int:
    now = runtime.clock()

    def rule(tx: Tx) -> int:
        badge = visits.enroll_badge(tx, UID, "K-900", now, "t")
        visit = visits.register(tx, runtime.policy, form(name), now, "t")
        visits.issue_badge(tx, runtime.policy, visit, badge, now, "t")
        return visit.id

    return await runtime.execute(rule)


async def test_database_briefly_gone_loses_nothing(tmp_path: Path) -> None:
    """A tap while the file is locked by someone else: refused, not recorded, state
    unchanged; the same tap again once the lock is gone is decided normally."""
    config = site_config(tmp_path)
    runtime = Runtime(config, clock=FakeClock(), start_readers=False)
    await runtime.start()
    try:
        visit_id = await admitted_visit(runtime)
        path = sqlite_path(config.database_url)
        assert path is not None
        blocker = sqlite3.connect(path, timeout=1)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            # Fail-secure: refused, and not recorded (test_database_away.py has the rest).
            refused = await runtime.submit(Tap("pintu-masuk", UID, START, "locked-1"))
            assert refused.reason.value == "database_unavailable"
            assert runtime.state.visits[visit_id].inside is False
            assert runtime.state.occupancy() == 0
        finally:
            blocker.rollback()
            blocker.close()
        while runtime.writer.unavailable_since is not None:  # probed twice a second
            await asyncio.sleep(0.05)
        decision = await runtime.submit(Tap("pintu-masuk", UID, START, "locked-1"))
        assert decision.granted and runtime.state.visits[visit_id].inside
        assert await journal_faults(runtime.engine) == []
    finally:
        await runtime.stop()


async def test_a_second_process_writing_is_picked_up(tmp_path: Path) -> None:
    """Two runtimes on one file (the daemon and a CLI command): the stale one notices,
    reloads, and its own next write lands after the other's on one unbroken chain."""
    config = site_config(tmp_path)
    daemon = Runtime(config, clock=FakeClock(), start_readers=False)
    await daemon.start()
    try:
        visit_id = await admitted_visit(daemon)
        cli = Runtime(config, clock=FakeClock(), start_readers=False)
        await cli.start()
        try:
            assert (await cli.submit(Tap("pintu-masuk", UID, START, "cli-1"))).granted
        finally:
            await cli.stop()
        # The daemon's state is stale: its own decision would be "entry" again, but the
        # journal seq conflict makes it reload and decide on the fresh state.
        decision = await daemon.submit(Tap("pintu-masuk", UID, START, "daemon-1"))
        assert decision.reason.value == "already_inside"
        assert daemon.state.visits[visit_id].inside
        await daemon.writer.refresh_if_stale()
        assert await journal_faults(daemon.engine) == []
    finally:
        await daemon.stop()


async def test_another_writers_commits_are_applied_from_the_journal(tmp_path: Path) -> None:
    """A second writer's facts reach the daemon by the journal (names opened with the
    data keys), not by reloading every table; a row that does not continue the chain
    makes it reload instead, and the state is right either way."""
    config = site_config(tmp_path)
    daemon = Runtime(config, clock=FakeClock(), start_readers=False)
    await daemon.start()
    try:
        cli = Runtime(config, clock=FakeClock(), start_readers=False)
        await cli.start()
        try:
            first = await admitted_visit(cli, "Nguyễn Văn Ánh")
            await daemon.writer.refresh_if_stale()
            assert daemon.writer.catch_ups == 1
            assert daemon.state.visits[first].name == "Nguyễn Văn Ánh"
            assert daemon.writer.head == cli.writer.head
            # Another commit, whose journal row is then altered: no catching up on it.
            await cli.execute(
                lambda tx: visits.enroll_badge(tx, "04AA000000000002", "K-901", START, "t")
            )
        finally:
            await cli.stop()
        path = sqlite_path(config.database_url)
        assert path is not None
        with sqlite3.connect(path) as db:
            db.execute(
                "UPDATE journal SET actor = 'someone' WHERE seq = (SELECT max(seq) FROM journal)"
            )
        await daemon.writer.refresh_if_stale()
        assert daemon.writer.catch_ups == 1  # reloaded instead
        assert any(b.label == "K-901" for b in daemon.state.badges.values())
        assert daemon.state.visits[first].name == "Nguyễn Văn Ánh"
    finally:
        await daemon.stop()


async def test_restart_restores_the_state_and_replays(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    clock = FakeClock()
    first = Runtime(config, clock=clock, start_readers=False)
    await first.start()
    visit_id = await admitted_visit(first)
    entry = await first.submit(Tap("pintu-masuk", UID, START, "r-1"))
    await first.stop()

    clock.advance(minutes=10)
    second = Runtime(config, clock=clock, start_readers=False)
    await second.start()
    try:
        visit = second.state.visits[visit_id]
        assert visit.inside and visit.facility_id is not None
        assert second.state.badge_by(UID) is not None
        again, replayed = await second.submit_ex(Tap("pintu-masuk", UID, START, "r-1"))
        assert replayed and again.reason == entry.reason and again.granted
        older = START - timedelta(days=3)
        late, replayed = await second.submit_ex(Tap("pintu-keluar", UID, older, "r-1"))
        assert replayed and late.reason == entry.reason
    finally:
        await second.stop()


async def count_events(runtime: Runtime) -> int:
    path = sqlite_path(runtime.config.database_url)
    assert path is not None
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM access_events").fetchone()[0])


async def test_a_replay_memory_has_forgotten_gets_its_first_answer(tmp_path: Path) -> None:
    """Replays beyond the in-memory decisions: the unique event_id refuses the second
    decision, nothing of it is kept, the stored one is answered; new taps committed in
    the same batch are unaffected, and one too old to decide still gets its answer."""
    config = site_config(tmp_path)
    clock = FakeClock()
    runtime = Runtime(config, clock=clock, start_readers=False)
    await runtime.start()
    try:
        visit_id = await admitted_visit(runtime)
        entry = await runtime.submit(Tap("pintu-masuk", UID, START, "m-1"))
        assert entry.granted
        clock.advance(minutes=1)
        exit_ = await runtime.submit(Tap("pintu-keluar", UID, clock(), "m-2"))
        assert exit_.granted and not runtime.state.visits[visit_id].inside
        head, events = runtime.writer.head, await count_events(runtime)
        runtime.intake.forget_before(clock().timestamp() + 86400)  # memory holds nothing

        # Decided again on today's state this would be a fresh entry; it must not be.
        again, replayed = await runtime.submit_ex(Tap("pintu-masuk", UID, START, "m-1"))
        assert replayed and again.reason == entry.reason
        assert not runtime.state.visits[visit_id].inside
        assert (runtime.writer.head, await count_events(runtime)) == (head, events)

        # The replay in one batch with new taps: they commit, it is answered as before.
        clock.advance(minutes=1)
        now = clock()
        results = await asyncio.gather(
            runtime.submit_ex(Tap("pintu-keluar", UID, START, "m-2")),
            runtime.submit_ex(Tap("pintu-masuk", UID, now, "m-3")),
            runtime.submit_ex(Tap("pintu-masuk", "04FFFFFFFFFFFF01", now, "m-4")),
        )
        assert results[0] == (exit_, True)
        assert results[1][0].granted and not results[1][1]
        assert not results[2][0].granted and not results[2][1]
        assert runtime.state.visits[visit_id].inside
        assert await count_events(runtime) == events + 2

        # Beyond taps.max_age_s: too old to decide now, but its first answer stands.
        runtime.intake.forget_before(clock().timestamp() + 86400)
        clock.advance(hours=3)
        late, replayed = await runtime.submit_ex(Tap("pintu-masuk", UID, START, "m-1"))
        assert replayed and late == again
        assert await journal_faults(runtime.engine) == []
    finally:
        await runtime.stop()


async def test_corrupt_database_is_moved_aside(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    path = sqlite_path(config.database_url)
    assert path is not None
    path.write_bytes(b"this is not a database" * 100)
    runtime = Runtime(config, clock=FakeClock(), start_readers=False)
    await runtime.start()
    try:
        assert await admitted_visit(runtime) == 1
    finally:
        await runtime.stop()
    aside = [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1


@pytest.mark.postgres
async def test_two_daemons_on_postgresql_share_one_state(tmp_path: Path, pg_url: str) -> None:
    """Front desk and door controller on one PostgreSQL: a tap decided by one shows in the
    other's state through LISTEN/NOTIFY, without waiting for either to write."""
    config = site_config(tmp_path, pg_url)
    front = Runtime(config, clock=FakeClock(), start_readers=False)
    await front.start()
    door = Runtime(config, clock=FakeClock(), start_readers=False)
    await door.start()
    try:
        visit_id = await admitted_visit(front)
        for _ in range(100):
            if visit_id in door.state.visits:
                break
            await asyncio.sleep(0.05)
        assert door.state.visits[visit_id].badge_id is not None
        assert (await door.submit(Tap("pintu-masuk", UID, START, "pg-door-1"))).granted
        for _ in range(100):
            if front.state.visits[visit_id].inside:
                break
            await asyncio.sleep(0.05)
        assert front.state.visits[visit_id].inside
        assert await journal_faults(front.engine) == []
    finally:
        await door.stop()
        await front.stop()
