"""Two writers on one PostgreSQL database (two daemons: a door controller, a front desk).

Each keeps its own state and its own single writer; the journal's sequence decides
who was first, and the one who was not reloads and decides again on a state that
holds the other's commit. Repeated many times, with both taps sent at once:

- the same badge at both daemons' entry readers is admitted exactly once;
- the same free badge at two front desks goes to exactly one visit.
"""

from __future__ import annotations

import asyncio
import logging
import tomllib
from pathlib import Path

import pytest

from service.demo import DEMO_TOML
from service.domain import visits
from service.domain.taps import Reason, Tap
from service.domain.tx import Tx
from service.runtime import Runtime
from service.store.audit import journal_faults
from tests.integration.test_state_model import form
from tests.support.site import FakeClock, site_config

ROUNDS = 25
UIDS = [f"04CC00000000{n:04X}" for n in range(1, ROUNDS + 1)]


def two_front_desks(tmp_path: Path, pg_url: str) -> object:
    with DEMO_TOML.open("rb") as fh:
        readers = tomllib.load(fh)["readers"]
    readers.append({"name": "front-office-2", "role": "front_desk", "url": "sim:"})
    return site_config(
        tmp_path, pg_url, readers=readers, room={"capacity": 100, "deposit_slots": 99}
    )


async def pair(tmp_path: Path, pg_url: str) -> tuple[Runtime, Runtime]:
    config = two_front_desks(tmp_path, pg_url)
    clock = FakeClock()
    one = Runtime(config, clock=clock, start_readers=False)  # type: ignore[arg-type]
    await one.start()
    two = Runtime(config, clock=clock, start_readers=False)  # type: ignore[arg-type]
    await two.start()
    return one, two


@pytest.mark.postgres
@pytest.mark.timeout(180)
async def test_one_badge_at_two_daemons_entry_readers_is_admitted_once(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.store.writer")
    one, two = await pair(tmp_path, pg_url)
    try:
        now = one.clock()

        def admitted(tx: Tx) -> None:
            for n, uid in enumerate(UIDS):
                badge = visits.enroll_badge(tx, uid, f"K-R{n:02d}", now, "t")
                visit = visits.register(tx, one.policy, form(f"R{n}", None), now, "t")
                visits.issue_badge(tx, one.policy, visit, badge, now, "t")

        await one.execute(admitted)
        await two.writer.refresh_if_stale()
        admitted_twice = []
        for n, uid in enumerate(UIDS):
            a, b = await asyncio.gather(
                one.submit(Tap("pintu-masuk", uid, now, f"one-{n}")),
                two.submit(Tap("pintu-masuk", uid, now, f"two-{n}")),
            )
            reasons = sorted([a.reason, b.reason])
            if reasons != [Reason.ALREADY_INSIDE, Reason.ENTRY]:
                admitted_twice.append((n, a.reason, b.reason))
        assert admitted_twice == []
        # The race really happened: the second writer's commit met the first's journal row.
        assert any("write conflict" in r.message for r in caplog.records)
        # ... and the loser applied the winner's facts from the journal (no full reload).
        assert one.writer.catch_ups + two.writer.catch_ups >= 1
        assert not any("reloading" in r.message for r in caplog.records)
        await one.writer.refresh_if_stale()
        await two.writer.refresh_if_stale()
        assert one.state.occupancy() == two.state.occupancy() == ROUNDS
        assert await journal_faults(one.engine) == []
    finally:
        await two.stop()
        await one.stop()


@pytest.mark.postgres
@pytest.mark.timeout(180)
async def test_one_free_badge_at_two_front_desks_goes_to_one_visit(
    tmp_path: Path, pg_url: str
) -> None:
    one, two = await pair(tmp_path, pg_url)
    try:
        now = one.clock()
        for n, uid in enumerate(UIDS):
            await one.execute(
                lambda tx, uid=uid, n=n: visits.enroll_badge(tx, uid, f"K-F{n}", now, "t")
            )
            first = await one.execute(
                lambda tx, n=n: visits.register(tx, one.policy, form(f"A{n}", None), now, "t")
            )
            second = await one.execute(
                lambda tx, n=n: visits.register(tx, one.policy, form(f"B{n}", None), now, "t")
            )
            await one.execute(lambda tx, v=first: visits.arm_issue(tx, "front-office", v, now, "t"))
            await one.execute(
                lambda tx, v=second: visits.arm_issue(tx, "front-office-2", v, now, "t")
            )
            await two.writer.refresh_if_stale()
            a, b = await asyncio.gather(
                one.submit(Tap("front-office", uid, now, f"fd1-{n}")),
                two.submit(Tap("front-office-2", uid, now, f"fd2-{n}")),
            )
            issued = [d for d in (a, b) if d.reason is Reason.BADGE_ISSUED]
            assert len(issued) == 1, (n, a.reason, b.reason)
            await one.writer.refresh_if_stale()
            badge = one.state.badge_by(uid)
            assert badge is not None and badge.visit_id == issued[0].visit_id
            holders = [v for v in one.state.visits.values() if v.badge_id == badge.id]
            assert len(holders) == 1
        assert await journal_faults(one.engine) == []
    finally:
        await two.stop()
        await one.stop()
