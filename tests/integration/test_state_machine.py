"""The real daemon and database under random interleavings (Hypothesis, stateful).

The real application (HTTP API in front of the runtime, SQLite): valid requests
(forms, badges, door and desk taps, returns), invalid ones (refused by the rules,
a rule that breaks half-way, a tap on an unknown reader, and hostile HTTP input of
every kind the edge refuses: lone surrogates, NUL, impossible dates, ids past 64
bits, deep or huge or empty bodies), failed commits, reloads and restarts, alone or
several in one batch. After every step:

- what everyone reads (the published state) equals a state freshly loaded from
  the database;
- the people inside are exactly those the door records say;
- every answered tap is in the access log once, and no tap that was refused with
  "database unavailable" is;

and at the end ``archive verify`` finds nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from service.api.app import RUNTIME
from service.auth import Role
from service.domain import facts, visits
from service.domain.taps import DENY, Decision, Reason, Tap
from service.domain.tx import Tx
from service.errors import BidroomError, Conflict, Unavailable
from service.reports.verify import verify_archive
from service.runtime import Runtime
from service.server import create_app
from service.store import writer as writer_module
from service.store.loader import load_state
from service.store.tables import AccessEventRow
from service.tokens import create_token
from tests.integration.test_state_model import form, tables
from tests.support.site import FakeClock, site_config

T = TypeVar("T")
pytestmark = pytest.mark.timeout(300)
BADGES = [f"04BB0000000000{n:02X}" for n in range(1, 7)]
READERS = ["pintu-masuk", "pintu-keluar", "meja-pc-01", "meja-pc-02", "front-office", "hantu"]
DOORS = {"entry": True, "exit": False, "exit_without_entry": False, "badge_returned": False}


class Daemon(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="bidroom-sm-"))
        self.config = site_config(self.folder)
        self.clock = FakeClock()
        self.loop = asyncio.new_event_loop()
        self.tokens = itertools.count(1)
        self.runtime = self._start()
        self.ids = itertools.count(1)
        self.answered: dict[str, Decision] = {}
        self.refused: set[str] = set()
        self.fail_next_commit = False
        self._real_write = writer_module.write_sync
        writer_module.write_sync = self._write  # type: ignore[assignment]
        now = self.clock()

        def enrol(tx: Tx) -> None:
            for n, uid in enumerate(BADGES, 1):
                visits.enroll_badge(tx, uid, f"K-7{n:02d}", now, "admin")

        self.run(self.runtime.execute(enrol))

    def _write(self, conn: Any, batch: Any) -> None:
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        self._real_write(conn, batch)

    def _start(self) -> Runtime:
        return self.loop.run_until_complete(self._open())

    async def _open(self) -> Runtime:
        """The application with its runtime, an HTTP client and an API token for it."""
        app = create_app(self.config, clock=self.clock, start_readers=False, pages=False)
        self.client: TestClient[Any, Any] = TestClient(TestServer(app))
        await self.client.start_server()
        runtime = app[RUNTIME]
        name = f"sm-{next(self.tokens)}"
        token = await create_token(runtime.engine, name, Role.ADMIN, self.clock())
        self.auth = {"Authorization": f"Bearer {token}"}
        return runtime

    async def _stop(self) -> None:
        await self.client.close()  # the server's cleanup stops the runtime

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        try:
            rt = self.runtime
            faults = self.run(verify_archive(rt.engine, rt.personal))
            assert faults == [], [f.describe() for f in faults]
            self.run(self._stop())
        finally:
            writer_module.write_sync = self._real_write  # type: ignore[assignment]
            self.loop.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- the requests -------------------------------------------------------------
    def _tap(self, reader: str, uid: str) -> Coroutine[Any, Any, Decision]:
        event_id = f"sm-{next(self.ids)}"

        async def send() -> Decision:
            try:
                decision = await self.runtime.submit(Tap(reader, uid, self.clock(), event_id))
            except Unavailable:
                self.refused.add(event_id)
                raise
            self._answered(event_id, decision)
            return decision

        return send()

    def _answered(self, event_id: str, decision: Decision) -> None:
        """A tap answered while the commit failed is not (yet) what the books hold: an
        entry refused for it never will be; an exit opened and spooled will be, once the
        database takes writes again (as an exit, at the time its door opened)."""
        if decision.reason is Reason.DATABASE_UNAVAILABLE:
            self.refused.add(event_id)
        elif decision.reason is not Reason.EXIT_SPOOLED:
            self.answered[event_id] = decision

    async def _recovered(self) -> None:
        """After a failed commit: the database probed back, the spooled exits recorded."""
        rt = self.runtime
        for _ in range(400):
            if rt.writer.unavailable_since is None and not rt.spool.count:
                return
            await asyncio.sleep(0.025)
        raise AssertionError("the database did not come back, or exits stayed spooled")

    def _arrive(self, name: str, badge: str) -> Coroutine[Any, Any, Any]:
        rt, now = self.runtime, self.clock()

        def rule(tx: Tx) -> Any:
            visit = visits.register(tx, rt.policy, form(name), now, "fo")
            chosen = tx.state.badge_by(badge)
            assert chosen is not None
            return visits.issue_badge(tx, rt.policy, visit, chosen, now, "fo")

        return rt.execute(rule)

    def _broken(self) -> Coroutine[Any, Any, None]:
        def rule(tx: Tx) -> None:
            visit = next(iter(tx.state.visits.values()), None)
            if visit is not None:
                tx.emit(facts.VisitEntered(at=self.clock(), actor="t", visit_id=visit.id))
            raise RuntimeError("a bug half-way")

        return self.runtime.execute(rule)

    def _refused(self) -> Coroutine[Any, Any, None]:
        def rule(tx: Tx) -> None:
            raise Conflict("ditolak", "refused")

        return self.runtime.execute(rule)

    def _http_tap(self, reader: str, uid: str) -> Coroutine[Any, Any, Decision | None]:
        """A good tap over HTTP (as a remote agent sends it)."""
        event_id = f"sm-{next(self.ids)}"

        async def send() -> Decision | None:
            body = {"reader": reader, "uid": uid, "event_id": event_id}
            response = await self.client.post("/api/v1/taps", json=body, headers=self.auth)
            data = await response.json()
            if response.status == 503:
                self.refused.add(event_id)
                return None
            if reader not in self.runtime.policy.readers:  # the edge refuses it, plainly
                assert response.status == 404 and "tidak terdaftar" in data["message"]
                self.refused.add(event_id)
                return None
            assert response.status == 200, data
            decision = Decision(data["granted"], Reason(data["reason"]), DENY)
            self._answered(event_id, decision)
            return decision

        return send()

    def _hostile(self, pick: int) -> Coroutine[Any, Any, None]:
        """One request the edge must refuse plainly (4xx) before it reaches the writer."""
        visit = next(iter(self.runtime.state.visits), 1)
        good_tap = {"reader": "pintu-masuk", "uid": BADGES[0], "event_id": f"h-{pick}"}
        cases: list[tuple[str, str, Any]] = [
            ("POST", "/api/v1/taps", {**good_tap, "reader": "pintu\ud800masuk"}),
            ("POST", "/api/v1/taps", {**good_tap, "event_id": "a\u0000b"}),
            ("POST", "/api/v1/taps", {**good_tap, "at": "9999-12-31T23:59:59+00:00"}),
            ("POST", "/api/v1/taps", {**good_tap, "at": "0001-01-01T00:00:00+00:00"}),
            ("POST", f"/api/v1/visits/{2**70}/checkout", {}),
            ("POST", f"/api/v1/visits/{visit}/force-close", "[" * 5000 + "]" * 5000),
            ("POST", f"/api/v1/visits/{visit}/force-close", ""),
            ("POST", "/api/v1/visits", {"name": "x" * 100_000}),
            ("GET", "/api/v1/visits?day=0001-01-01", None),
            ("POST", "/api/v1/help", {"category": "login", "problem": "\ud800"}),
        ]
        method, path, body = cases[pick % len(cases)]

        async def send() -> None:
            raw = body if isinstance(body, str) else json.dumps(body)
            headers = {**self.auth, "Content-Type": "application/json"}
            data = raw.encode() if raw else None
            async with self.client.request(method, path, data=data, headers=headers) as response:
                assert 400 <= response.status < 500, (method, path, response.status)
                refusal = await response.json()
                assert refusal["message"] and "Traceback" not in refusal["message"]

        return send()

    async def _batch(self, works: list[Coroutine[Any, Any, Any]]) -> list[Any]:
        return await asyncio.gather(*works, return_exceptions=True)

    # -- rules --------------------------------------------------------------------
    @rule(pick=st.integers(0, 20), wait=st.integers(0, 120))
    def arrive(self, pick: int, wait: int) -> None:
        """Mostly a free badge (an arrival that works); now and then one already out."""
        self.clock.advance(seconds=wait)
        free = [b.uid for b in self.runtime.state.badges.values() if b.visit_id is None]
        badge = free[pick % len(free)] if free and pick % 5 else BADGES[pick % len(BADGES)]
        result = self.run(self._batch([self._arrive(f"P{next(self.ids)}", badge)]))[0]
        assert not isinstance(result, BaseException) or isinstance(result, BidroomError)

    def _uid(self, pick: int) -> str:
        """Mostly a badge out with a visitor; else any badge, or one never enrolled."""
        out = [b.uid for b in self.runtime.state.badges.values() if b.visit_id is not None]
        if out and pick % 4:
            return out[pick % len(out)]
        return [*BADGES, "04DEADBEEF0001"][pick % (len(BADGES) + 1)]

    @rule(
        taps=st.lists(
            st.tuples(st.sampled_from(READERS), st.integers(0, 40)), min_size=1, max_size=6
        ),
        broken=st.booleans(),
        refused=st.booleans(),
        hostile=st.lists(st.integers(0, 100), max_size=3),
        fail=st.integers(0, 3),
        wait=st.integers(0, 120),
    )
    def a_batch(
        self,
        taps: list[tuple[str, int]],
        broken: bool,
        refused: bool,
        hostile: list[int],
        fail: int,
        wait: int,
    ) -> None:
        """Taps sent together (in process and over HTTP), perhaps with a rule that breaks
        or is refused, hostile HTTP requests, a commit that fails: one writer batch."""
        self.clock.advance(seconds=wait)
        works: list[Coroutine[Any, Any, Any]] = [
            (self._http_tap if n % 2 else self._tap)(r, self._uid(n)) for r, n in taps
        ]
        works += [self._hostile(pick) for pick in hostile]
        if broken:
            works.insert(len(works) // 2, self._broken())
        if refused:
            works.append(self._refused())
        self.fail_next_commit = fail == 0
        results = self.run(self._batch(works))
        self.fail_next_commit = False
        self.run(self._recovered())
        for result in results:
            assert not isinstance(result, BaseException) or isinstance(result, BidroomError), result

    @precondition(lambda self: self.runtime.state.visits)
    @rule(pick=st.integers(0, 50), wait=st.integers(0, 600))
    def staff_return(self, pick: int, wait: int) -> None:
        self.clock.advance(seconds=wait)
        rt, now = self.runtime, self.clock()
        ids = sorted(rt.state.visits)
        visit_id = ids[pick % len(ids)]
        work = rt.execute(
            lambda tx: visits.return_badge(tx, rt.policy, tx.state.visits[visit_id], now, "fo")
        )
        self.run(self._batch([work]))

    @rule()
    def reload(self) -> None:
        self.runtime.writer.request_reload()
        self.run(self.runtime.execute(lambda tx: None))

    @rule()
    def restart(self) -> None:
        self.run(self._stop())
        self.runtime = self._start()
        # Every answered tap is answered the same way after the restart (replay).
        for event_id, decision in list(self.answered.items())[-3:]:
            again, replayed = self.run(
                self.runtime.submit_ex(Tap("pintu-masuk", BADGES[0], self.clock(), event_id))
            )
            assert replayed and again.reason is decision.reason

    # -- invariants -------------------------------------------------------------------
    @invariant()
    def what_everyone_reads_is_what_was_committed(self) -> None:
        rt = self.runtime
        fresh, head = self.run(load_state(rt.engine, rt.policy, self.clock()))
        assert head == rt.writer.head
        assert tables(rt.state) == tables(fresh)
        # Between batches the writer's own working state is the published one again: a
        # failure anywhere in a batch leaves nothing of itself behind for the next rules.
        assert tables(rt.writer._working) == tables(rt.state)

    @invariant()
    def the_room_is_who_the_doors_say(self) -> None:
        rows = self.run(self._events())
        last: dict[int, bool] = {}
        for event_id, visit_id, reason, granted in rows:
            if granted and visit_id is not None and reason in DOORS:
                last[visit_id] = DOORS[reason]
            assert event_id not in self.refused, f"{event_id} refused but stored"
        state = self.runtime.state
        inside = {
            v for v, is_in in last.items() if is_in and state.visits[v].state.value != "closed"
        }
        assert inside == {v.id for v in state.visits.values() if v.inside}
        assert state.occupancy() == len(inside)
        stored = [r[0] for r in rows]
        assert len(stored) == len(set(stored))
        assert set(self.answered) <= set(stored)
        decided = {r[0]: Reason(r[2]) for r in rows}
        for event_id, decision in self.answered.items():
            assert decided[event_id] is decision.reason

    async def _events(self) -> list[tuple[str, int | None, str, bool]]:
        async with self.runtime.engine.connect() as conn:
            result = await conn.execute(
                select(
                    AccessEventRow.event_id,
                    AccessEventRow.visit_id,
                    AccessEventRow.reason,
                    AccessEventRow.granted,
                ).order_by(AccessEventRow.id)
            )
            return [(e, v, r, g) for e, v, r, g in result.all()]


Daemon.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestDaemon = Daemon.TestCase
