"""Is the daemon ready to run the room? The checks behind ``GET /readyz`` and the
one-line status systemd shows (``systemctl status bidroom``).

Ready means all of:

- **running**: not stopping;
- **database**: writable now. SQLite: ``BEGIN IMMEDIATE`` on a connection of its own
  takes the write lock for an instant (a read-only file, a lock held by another
  process or a broken disk answers otherwise); PostgreSQL: reachable, not a standby
  in recovery, not read-only;
- **writer**: the single writer answers a no-op rule within a second, and fewer
  than :data:`WRITER_QUEUE_LIMIT` rules wait for it;
- **door readers**: every ``door_in`` and ``door_out`` reader is online. Other
  readers (front desk, desks) are listed but do not make the daemon unready: a
  workstation switched off for the night is not a fault.

Each check is bounded in time; a check that fails says why in both languages.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devices.base import ReaderState
from service.domain.taps import ReaderRole
from service.errors import BidroomError
from service.i18n import Text, _, render
from service.store.engine import write_problem

if TYPE_CHECKING:
    from service.runtime import Runtime

CHECK_S = 1.0
WRITER_QUEUE_LIMIT = 1000
DOOR_ROLES = (ReaderRole.DOOR_IN, ReaderRole.DOOR_OUT)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    message: Text = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def message_id(self) -> str:
        return render(self.message, "id")

    @property
    def message_en(self) -> str:
        return render(self.message, "en")

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": self.ok, **self.detail}
        if not self.ok:
            body["message_id"], body["message_en"] = self.message_id, self.message_en
        return body


async def database_check(runtime: Runtime) -> Check:
    started = time.perf_counter()
    problem = await write_problem(runtime.engine, runtime.config.database_url, CHECK_S)
    ms = round((time.perf_counter() - started) * 1000, 1)
    if problem is None:
        return Check("database", True, detail={"ms": ms})
    return Check(
        "database",
        False,
        _("Basis data tidak dapat ditulisi ({problem}).", problem=problem),
        {"ms": ms},
    )


async def writer_check(runtime: Runtime) -> Check:
    started = time.perf_counter()
    depth = runtime.writer.queue_depth
    answered = True
    with contextlib.suppress(BidroomError):  # an error is an answer too: the writer runs
        try:
            await asyncio.wait_for(runtime.execute(lambda tx: None), CHECK_S)
        except TimeoutError:
            answered = False
    detail = {"queue_depth": depth, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if not answered:
        return Check(
            "writer",
            False,
            _("Penulis basis data tidak menjawab dalam {CHECK_S:g} detik.", CHECK_S=CHECK_S),
            detail,
        )
    if depth >= WRITER_QUEUE_LIMIT:
        return Check(
            "writer",
            False,
            _("Antrean penulis terlalu panjang ({depth}).", depth=depth),
            detail,
        )
    return Check("writer", True, detail=detail)


def readers_check(runtime: Runtime) -> Check:
    online, offline, doors_down = [], [], []
    for reader in runtime.config.readers:
        if runtime.health[reader.name].state is ReaderState.ONLINE:
            online.append(reader.name)
            continue
        offline.append(reader.name)
        if reader.role in DOOR_ROLES:
            doors_down.append(reader.name)
    detail = {"online": online, "offline": offline}
    if doors_down:
        names = ", ".join(doors_down)
        return Check(
            "readers",
            False,
            _("Pembaca pintu tidak online: {names}.", names=names),
            detail,
        )
    return Check("readers", True, detail=detail)


def running_check(runtime: Runtime) -> Check:
    if runtime.stopping:
        return Check("running", False, _("Layanan sedang berhenti."))
    return Check("running", True)


async def readiness(runtime: Runtime) -> list[Check]:
    running = running_check(runtime)
    database, writer = await asyncio.gather(database_check(runtime), writer_check(runtime))
    return [running, database, writer, readers_check(runtime)]


def status_line(runtime: Runtime, problems: list[str]) -> str:
    """What ``systemctl status`` shows under the unit: the room at a glance, problems first."""
    readers = runtime.config.readers
    online = sum(1 for r in readers if runtime.health[r.name].state is ReaderState.ONLINE)
    inside = sum(1 for v in runtime.state.visits.values() if v.inside)
    offline = [
        r.name
        for r in readers
        if r.role in DOOR_ROLES and runtime.health[r.name].state is not ReaderState.ONLINE
    ]
    if offline:
        problems = [*problems, "pintu offline / door offline: " + ", ".join(offline)]
    head = "PERHATIAN / ATTENTION: " + "; ".join(problems) + " | " if problems else ""
    return (
        f"{head}siap / ready: pembaca / readers {online}/{len(readers)} online, "
        f"di ruangan / inside {inside}/{runtime.policy.capacity}, "
        f"antrean penulis / writer queue {runtime.writer.queue_depth}, "
        f"jurnal / journal #{runtime.writer.head.seq}"
    )
