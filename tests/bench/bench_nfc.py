"""NFC taps on the real path: badge in the field of an nfcpy reader -> decision back at the reader.

Run: ``.venv/bin/python tests/bench/bench_nfc.py [--taps 320]``   (or ``make bench``)

Five nfcpy readers, each on nfcpy's own ``udp`` driver with an emulated NTAG215
in its field (``tests/integration/devices/nfc_tag_emulator.py``, on 127.0.0.1):
the front desk (``front-office``) and the desk readers of PC-01 to PC-04
(``meja-pc-01`` ...), all with ``verify_token = true``; every badge carries its
signed NDEF token. The daemon side is the real one, nothing stubbed: ``Runtime``
with its readers started (registry, supervisor, devices.nfc's worker threads),
its ``submit``, the rules and the commit to SQLite (WAL, ``synchronous=FULL``)
in a temporary folder (``BENCH_DIR`` chooses where), and its logging. The site:
badges issued to admitted visits, the room open all day every day. At each desk
one visitor who came in through the door starts and ends a session in turn; at
the front desk visitors who came in and went out give their badge back. So every
tap is a real decision: usage started, usage ended, badge returned.

One badge is in a field at a time (the five readers' idle time between two
presentations overlaps, which keeps the run short; nfcpy needs about 0.4 s to see
a badge leave). A badge enters the field while its reader waits for the answer to
a REQA, as on the next poll. Moments (perf_counter, one process): badge in the
field; nfcpy hands us the activated tag; the tag sends its last frame (the last
NDEF READ answer); the token is read; ``Runtime.submit`` called; the decision
committed (the writer's listener); ``submit`` returns; the decision is back in
the reader's thread, which drives the reader's LED and buzzer. Printed, p50/p99 (ms):

* end to end: badge in the field -> decision back at the reader;
* protocol (nfcpy and the tag over udp): in the field -> last tag frame;
* ours: last tag frame -> decision back at the reader, and its parts;
* the reference: a raw sqlite3 durable commit of an event row and a journal row,
  on the same disk, one after every tap.

Not included: the wait for the next poll (up to ``poll_interval_s``, 0.1 s) and the
radio of a real reader. Target: ours p99 <= 5 ms (issue 10).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration" / "devices")]

import ndef  # noqa: E402
from nfc_tag_emulator import EmulatedTag, TagEmulator  # noqa: E402
from real_path import (  # noqa: E402
    DaemonLog,
    RawCommits,
    Stamps,
    TapStamps,
    admit,
    freeze_loaded_state,
    line,
    load_average,
    log_summary,
    reference_lines,
    site_config,
    verdict,
)

import devices.nfc as nfc_adapter  # noqa: E402
from devices.base import ReaderState  # noqa: E402
from service.domain import badge_token  # noqa: E402
from service.domain.taps import Tap  # noqa: E402
from service.keyfile import KeyFile  # noqa: E402
from service.runtime import Runtime  # noqa: E402

FRONT = "front-office"
DESKS = [f"meja-pc-{n:02d}" for n in range(1, 5)]
WAIT_S = 5.0


class StampedEmulator(TagEmulator):
    """The tag emulator, noting when the tag sends each frame of the current presentation."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[float] = []

    def present(self, tag: EmulatedTag) -> None:
        self.sent = []  # no tag in the field: nothing is being sent now
        super().present(tag)

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        # Noted before the datagram goes: once it has, the reader's thread may run first.
        self.sent.append(time.perf_counter())
        super()._send(data, addr)


class _Timings(deque[nfc_adapter.TapTiming]):
    """The adapter's ``timings``, also resolving the bench's future when one is appended."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__((), 1000)
        self._loop = loop
        self.waiter: asyncio.Future[nfc_adapter.TapTiming] | None = None

    def append(self, timing: nfc_adapter.TapTiming) -> None:
        super().append(timing)
        waiter = self.waiter
        if waiter is not None:
            self._loop.call_soon_threadsafe(_settle, waiter, timing)


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def instrument(loop: asyncio.AbstractEventLoop) -> dict[str, nfc_adapter.NfcReader]:
    """Every NfcReader the registry builds, by name, with a ``timings`` the bench can await."""
    built: dict[str, nfc_adapter.NfcReader] = {}
    init = nfc_adapter.NfcReader.__init__

    def timed_init(self: nfc_adapter.NfcReader, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.timings = _Timings(loop)
        built[self.name] = self

    nfc_adapter.NfcReader.__init__ = timed_init  # type: ignore[method-assign]
    return built


@dataclass(frozen=True, slots=True)
class Presentation:
    reader: str
    presented: float
    last_frame: float
    timing: nfc_adapter.TapTiming
    tap: TapStamps

    @property
    def committed(self) -> float:
        assert self.tap.committed is not None
        return self.tap.committed

    @property
    def returned(self) -> float:
        assert self.tap.returned is not None
        return self.tap.returned


@dataclass
class Station:
    """One reader: its emulated field and the badges presented there, in order."""

    name: str
    emulator: StampedEmulator
    badges: list[tuple[str, bytes]]  # (uid, NDEF message with the signed token), in order


def ndef_token(key: bytes, label: str, uid: str) -> bytes:
    token = badge_token.sign(key, label, uid)
    return b"".join(ndef.message_encoder([ndef.TextRecord(token)]))


class Driver:
    """Presents the badges, one in a field at a time, and collects each presentation."""

    def __init__(
        self, readers: dict[str, nfc_adapter.NfcReader], stamps: Stamps, raw: RawCommits
    ) -> None:
        self._readers = readers
        self._stamps = stamps
        self._raw = raw
        self._turn = asyncio.Lock()  # one badge in a field at a time (FIFO)
        # The bench's own blocking waits, away from the daemon's default executor.
        self._pool = ThreadPoolExecutor(8, thread_name_prefix="bench-wait")
        self.rows: list[Presentation] = []

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    async def _in_thread(self, fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def drive(self, station: Station) -> None:
        emulator, reader = station.emulator, self._readers[station.name]
        timings = reader.timings
        assert isinstance(timings, _Timings)
        for uid, message in station.badges:
            polls = emulator.counts["REQA"]

            def next_poll(polls: int = polls) -> bool:
                """nfcpy sent a new REQA and waits for an answer (up to 1 s)."""
                return emulator.wait_for(lambda: emulator.counts["REQA"] > polls, WAIT_S)

            assert await self._in_thread(next_poll), f"{station.name}: nfcpy stopped polling"
            async with self._turn:
                timings.waiter = asyncio.get_running_loop().create_future()
                before = len(self._stamps.of_reader(station.name))
                emulator.present(EmulatedTag.create(uid, ndef=message))
                timing = await asyncio.wait_for(timings.waiter, WAIT_S)
                timings.waiter = None
                self._raw.one()  # the tap is decided, the next not yet presented
            presented, sent = emulator.presented_at, emulator.sent
            emulator.remove()
            assert presented is not None and sent and sent[-1] <= timing.token_at
            taps = self._stamps.of_reader(station.name)
            assert len(taps) == before + 1, f"{station.name}: one presentation, one tap"
            self.rows.append(Presentation(station.name, presented, sent[-1], timing, taps[-1]))


async def online(runtime: Runtime, names: list[str], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not all(runtime.health[name].state is ReaderState.ONLINE for name in names):
        if time.monotonic() > deadline:
            raise TimeoutError(f"readers not online: {runtime.readers()}")
        await asyncio.sleep(0.01)


async def walk_in(runtime: Runtime, uids: list[str], *, out: bool) -> None:
    """Through the door (sim: door readers): in, and out again when ``out``."""
    for uid in uids:
        for door in ("pintu-masuk", "pintu-keluar") if out else ("pintu-masuk",):
            decision = await runtime.submit(Tap(door, uid, datetime.now(UTC), f"{door}-{uid}"))
            assert decision.granted and decision.reason.value in ("entry", "exit"), decision


async def bench(taps: int) -> tuple[list[Presentation], list[float], str]:
    per_reader = -(-taps // (1 + len(DESKS)))
    returns = per_reader  # one visitor per badge given back at the front desk
    loop = asyncio.get_running_loop()
    built = instrument(loop)
    with (
        contextlib.ExitStack() as stack,
        tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp,
    ):
        folder = Path(tmp)
        raw = RawCommits(folder)
        log = DaemonLog(folder)
        emulators: dict[str, StampedEmulator] = {}
        for name in [FRONT, *DESKS]:
            emulators[name] = emulator = StampedEmulator()
            stack.callback(emulator.close)
            emulator.start()
        url = "nfc:udp:127.0.0.1:{}"
        readers: list[dict[str, Any]] = [
            {"name": "pintu-masuk", "role": "door_in", "url": "sim:"},
            {"name": "pintu-keluar", "role": "door_out", "url": "sim:"},
            {"name": FRONT, "role": "front_desk", "verify_token": True,
             "url": url.format(emulators[FRONT].port)},
        ]  # fmt: skip
        readers += [
            # The same badge comes back to a desk on purpose (start, then end the session).
            {"name": name, "role": "desk", "verify_token": True, "facility": f"PC-{n:02d}",
             "repeat_guard_s": 0, "url": url.format(emulators[name].port)}
            for n, name in enumerate(DESKS, 1)
        ]  # fmt: skip
        config = site_config(
            folder,
            readers,
            len(DESKS) + returns,
            facilities={"pc": {"count": len(DESKS), "label": "PC Desktop", "prefix": "PC"}},
            queue={"turnover_gap_s": 0},
        )
        KeyFile.open(config.security.key_file)  # the site's key file exists before the daemon
        started = log.offset()
        runtime = Runtime(config)
        stamps = Stamps(time.perf_counter)
        stamps.attach(runtime)
        driver = Driver(built, stamps, raw)
        desk_uids = [f"04DE{n:010X}" for n in range(len(DESKS))]
        front_uids = [f"04F0{n:010X}" for n in range(returns)]
        labels = {uid: f"K-{n:03d}" for n, uid in enumerate(desk_uids + front_uids)}
        try:
            await runtime.start()
            await admit(runtime, list(labels), list(labels.values()))
            await walk_in(runtime, desk_uids, out=False)
            await walk_in(runtime, front_uids, out=True)

            def token(uid: str) -> bytes:
                return ndef_token(runtime.token_key, labels[uid], uid)

            stations = [
                Station(FRONT, emulators[FRONT], [(u, token(u)) for u in front_uids]),
                *(
                    Station(name, emulators[name], [(uid, token(uid))] * per_reader)
                    for name, uid in zip(DESKS, desk_uids, strict=True)
                ),
            ]
            await online(runtime, [FRONT, *DESKS])
            freeze_loaded_state()
            measuring = log.offset()
            await asyncio.gather(*(driver.drive(station) for station in stations))
        finally:
            await runtime.stop()
            driver.close()
            raw.close()
            log.close()
        return driver.rows, raw.took, log_summary(log, started, measuring, len(driver.rows))


def report(rows: list[Presentation], raw: list[float], log: str) -> None:
    reasons: dict[str, int] = {}
    for r in rows:
        assert r.tap.decision is not None and r.tap.decision.granted, r.tap.reason
        reasons[r.tap.reason or "?"] = reasons.get(r.tap.reason or "?", 0) + 1
    decided = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
    ours = [r.timing.decided_at - r.last_frame for r in rows]
    print(
        f"NFC taps, real path (Runtime.submit, the rules with the token check, SQLite "
        f"synchronous=FULL; nothing stubbed): {len(rows)} presentations, {decided}; "
        f"{1 + len(DESKS)} nfcpy readers (udp driver, emulated NTAG215)"
    )
    parts: list[tuple[str, Callable[[Presentation], float]]] = [
        ("end to end: in the field -> decision at reader", lambda r: r.timing.decided_at - r.presented),
        ("the protocol's part (nfcpy and the tag over udp):", lambda r: 0.0),
        ("in the field -> last tag frame", lambda r: r.last_frame - r.presented),
        ("  in the field -> nfcpy hands us the tag", lambda r: r.timing.tag_at - r.presented),
        ("  tag handed over -> last frame (NDEF READs)", lambda r: r.last_frame - r.timing.tag_at),
        ("ours (bidroom):", lambda r: 0.0),
        ("last tag frame -> decision at the reader", lambda r: r.timing.decided_at - r.last_frame),
        ("  last frame -> token read (nfcpy, ndeflib)", lambda r: r.timing.token_at - r.last_frame),
        ("  token read -> Runtime.submit called", lambda r: r.tap.called - r.timing.token_at),
        ("  submit called -> decision committed", lambda r: r.committed - r.tap.called),
        ("  committed -> submit returns", lambda r: r.returned - r.committed),
        ("  submit returns -> decision at the reader", lambda r: r.timing.decided_at - r.returned),
    ]  # fmt: skip
    for name, part in parts:
        print(line(name, [part(r) for r in rows]) if name[-1] != ":" else name)
    for role, names in (("front desk", [FRONT]), ("desks", DESKS)):
        at_role = [r.timing.decided_at - r.last_frame for r in rows if r.reader in names]
        print(line(f"  ours at the {role} ({len(at_role)} taps)", at_role))
    print(reference_lines(ours, raw))
    print(log)
    print(f"machine load average: {load_average()}")
    print(verdict(ours))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=320)
    args = parser.parse_args()
    started = time.perf_counter()
    rows, raw, log = asyncio.run(bench(args.taps))
    report(rows, raw, log)
    print(f"wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
