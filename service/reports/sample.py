"""Records made the real way: a :class:`~service.runtime.Runtime` walked through visits.

Used by the tests, the benchmark and ``scripts/render_report_sample.py``: every
visit goes through the same rules and taps as in the room (register, badge at the
front desk, door, desk, help desk, return), with an injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from service.auth import Role, add_staff
from service.config import Config, parse_config
from service.domain import days, helpdesk, queue, visits
from service.domain.facts import Identity
from service.domain.identity import DocumentType, mask_number
from service.domain.taps import Tap
from service.domain.tx import Tx
from service.runtime import Runtime

WIB = ZoneInfo("Asia/Jakarta")


class Clock:
    """A settable clock for the runtime (time is an input)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date, hh: int, mm: int, ss: int = 0) -> datetime:
        self.now = datetime.combine(day, time(hh, mm, ss), tzinfo=WIB).astimezone(UTC)
        return self.now


def sample_config(
    folder: Path, pcs: int = 2, turnover_s: int = 1200, url: str | None = None, **site: Any
) -> Config:
    readers: list[dict[str, Any]] = [
        {"name": "pintu-masuk", "role": "door_in", "url": "sim:"},
        {"name": "pintu-keluar", "role": "door_out", "url": "sim:"},
        {"name": "fo", "role": "front_desk", "url": "sim:"},
    ]
    readers += [
        {"name": f"meja-{n:02d}", "role": "desk", "url": "sim:", "facility": f"PC-{n:02d}"}
        for n in range(1, pcs + 1)
    ]
    return parse_config(
        {
            "database": {"url": url or f"sqlite+aiosqlite:///{folder}/bidroom.db"},
            "site": {"head_name": "Drs. H. Ahmad Fauzi, M.Si", "head_nip": "197001011990031001"}
            | site,
            "room": {"opening": "08:00", "closing": "16:00", "capacity": 200},
            # A long turnover gap: the queue is called when the scenario says, not by the ticker.
            "queue": {"turnover_gap_s": turnover_s},
            "facilities": {"pc": {"count": pcs, "label": "PC Desktop", "prefix": "PC"}},
            "readers": readers,
        },
        source=folder / "bidroom.toml",
    )


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    company: str
    nik: str
    tender: str
    wants: str | None = "pc"


class Walker:
    """Drives one runtime through visits with readable steps."""

    def __init__(self, rt: Runtime, clock: Clock) -> None:
        self.rt, self.clock = rt, clock
        self.taps = 0
        self.uids: list[str] = []

    async def tap(self, reader: str, uid: str) -> Any:
        self.taps += 1
        now = self.clock.now
        return await self.rt.submit(Tap(reader, uid, now, f"{reader}:{uid}:{now.timestamp()}"))

    async def enroll(self, count: int) -> list[str]:
        uids = [f"04A1B2C3{n:06X}" for n in range(1, count + 1)]
        now = self.clock.now
        for n, uid in enumerate(uids, 1):

            def rule(tx: Tx, uid: str = uid, label: str = f"K-{n:03d}") -> object:
                return visits.enroll_badge(tx, uid, label, now, "admin")

            await self.rt.execute(rule)
        self.uids = uids
        return uids

    async def register(self, person: Person, started: datetime | None = None) -> int:
        now, rt = self.clock.now, self.rt
        form = visits.Arrival(
            name=person.name,
            company=person.company,
            doc_type=DocumentType.KTP,
            doc_masked=mask_number(person.nik),
            tender_code=person.tender,
            purpose="Upload dokumen penawaran",
            wanted_kind=person.wants,
            rules_ack=True,
            privacy_ack=True,
            form_started_at=started,
            identity=Identity(
                doc_number=person.nik,
                phone="+6281234567890",
                doc_hash=rt.personal.lookup_hash("ktp", person.nik),
            ),
        )
        visit = await rt.execute(lambda tx: visits.register(tx, rt.policy, form, now, "fo-rina"))
        return int(visit.id)

    async def issue(self, visit_id: int, uid: str) -> Any:
        now = self.clock.now
        await self.rt.execute(
            lambda tx: visits.arm_issue(tx, "fo", tx.state.visits[visit_id], now, "fo-rina")
        )
        return await self.tap("fo", uid)

    async def return_document(self, visit_id: int) -> None:
        now = self.clock.now
        await self.rt.execute(
            lambda tx: visits.return_document(tx, tx.state.visits[visit_id], "", now, "fo-rina")
        )

    async def run_queue(self) -> None:
        now, rt = self.clock.now, self.rt
        await rt.execute(lambda tx: queue.run_due(tx, rt.policy, now))

    async def help(self, visit_id: int, category: str, minutes: int) -> None:
        now = self.clock.now
        req = await self.rt.execute(
            lambda tx: helpdesk.open_request(
                tx, visit_id, None, "staff", category, "Gagal unggah", now, "fo-rina"
            )
        )
        done = now + timedelta(minutes=minutes)
        await self.rt.execute(
            lambda tx: helpdesk.resolve(tx, req.id, None, "Diulang, berhasil", done, "hd-yusuf")
        )


async def _visit_one(w: Walker, day: date, p: Person, uid: str, desk: str, h: int) -> int:
    w.clock.at(day, h, 0)
    vid = await w.register(p)
    w.clock.at(day, h, 2)
    await w.issue(vid, uid)
    w.clock.at(day, h, 3)
    await w.tap("pintu-masuk", uid)
    w.clock.at(day, h, 5)
    await w.tap(desk, uid)
    return vid


async def _queue_turn(w: Walker, day: date, siti: tuple[int, str], andi: tuple[int, str]) -> None:
    """Siti leaves (her document back 12 minutes late); Andi's ticket is called to PC-02."""
    c = w.clock
    c.at(day, 10, 0)
    await w.tap("meja-02", siti[1])
    c.at(day, 10, 2)
    await w.tap("pintu-keluar", siti[1])
    c.at(day, 10, 5)
    await w.tap("fo", siti[1])  # badge back
    c.at(day, 10, 17)
    await w.return_document(siti[0])  # 12 minutes: step 8 breach
    c.at(day, 10, 20)
    await w.run_queue()  # PC-02 free after the turnover gap: PC-001 called
    c.at(day, 10, 22)
    await w.tap("pintu-masuk", andi[1])
    c.at(day, 10, 23)
    await w.tap("meja-02", andi[1])


async def _leave(w: Walker, day: date, vid: int, uid: str, desk: str, hh: int) -> None:
    for minute, reader in ((0, desk), (1, "pintu-keluar"), (4, "fo")):
        w.clock.at(day, hh, minute)
        await w.tap(reader, uid)
    w.clock.at(day, hh, 6)
    await w.return_document(vid)


async def walk_scenario_day(w: Walker, day: date) -> dict[str, int]:
    """The tests' day: four visits with a queue, a help request, breaches and loose ends."""
    rt, c = w.rt, w.clock
    c.at(day, 7, 50)
    uids = await w.enroll(5)
    budi = Person("Budi Santoso", "PT Maju Jaya", "1571015708850001", "T-101")
    siti = Person("Siti Aminah", "CV Karya Mandiri", "1571025201900002", "T-102")
    andi = Person("Andi Wijaya", "PT Maju Jaya", "1571031203880003", "T-101")
    dewi = Person("Dewi Lestari", "PT Sinar Abadi", "1571044407920004", "T-103", wants=None)
    a = await _visit_one(w, day, budi, uids[0], "meja-01", 8)
    b = await _visit_one(w, day, siti, uids[1], "meja-02", 9)
    c.at(day, 9, 10)
    cv = await w.register(andi)
    c.at(day, 9, 12)
    await w.issue(cv, uids[2])  # both PCs taken: ticket PC-001
    c.at(day, 9, 30)
    await w.help(a, "upload", 12)
    await _queue_turn(w, day, (b, uids[1]), (cv, uids[2]))
    await _leave(w, day, a, uids[0], "meja-01", 11)
    await _leave(w, day, cv, uids[2], "meja-02", 12)
    c.at(day, 13, 0)
    d = await w.register(dewi)
    c.at(day, 13, 20)
    await w.issue(d, uids[3])  # 20 minutes after the form was opened: step 2 breach
    c.at(day, 13, 21)
    await w.tap("pintu-masuk", uids[3])  # and Dewi never gives the badge back
    now = c.at(day, 16, 10)
    await rt.execute(lambda tx: days.close_day(tx, rt.policy, day, now, "fo-rina"))
    for step, subject in (("8", f"visit:{b}"), ("2", f"visit:{d}")):
        await justify(rt, day, step, subject, now)
    return {"budi": a, "siti": b, "andi": cv, "dewi": d}


async def justify(rt: Runtime, day: date, step: str, subject: str, now: datetime) -> None:
    def rule(tx: Tx) -> None:
        days.justify(tx, day, step, subject, "Antrian loket pendaftaran penuh", now, "kepala")

    await rt.execute(rule)


async def sign(rt: Runtime, clock: Clock, day: date) -> None:
    clock.at(day, 16, 12)
    now = clock.now
    await rt.execute(lambda tx: days.sign_day(tx, rt.policy, day, now, "kepala"))


@dataclass(slots=True)
class Scene:
    rt: Runtime
    clock: Clock
    day: date
    ids: dict[str, int]


# The scenario's staff accounts: the books print these full names, not the logins.
STAFF = (
    ("fo-rina", "Rina Marlina, S.Kom", Role.FRONT_OFFICE),
    ("hd-yusuf", "Yusuf Hidayat", Role.HELPDESK),
    ("kepala", "Drs. H. Ahmad Fauzi, M.Si", Role.HEAD),
)


async def add_scenario_staff(rt: Runtime, now: datetime) -> None:
    for login, name, role in STAFF:
        await add_staff(rt.engine, login, name, role, "Ruang-Bidding-Jambi-2026", now)


@contextlib.asynccontextmanager
async def scenario(folder: Path, day: date, *, signed: bool = True) -> AsyncIterator[Scene]:
    """A running runtime that has lived through :func:`walk_scenario_day` (stopped after)."""
    clock = Clock(datetime.now(UTC))
    clock.at(day, 7, 0)
    rt = Runtime(sample_config(folder), clock=clock, start_readers=False)
    await rt.start()
    try:
        await add_scenario_staff(rt, clock.now)
        ids = await walk_scenario_day(Walker(rt, clock), day)
        if signed:
            await sign(rt, clock, day)
        yield Scene(rt, clock, day, ids)
    finally:
        await rt.stop()


COMPANIES = ("PT Maju Jaya", "CV Karya Mandiri", "PT Sinar Abadi", "PT Bangun Jambi")
NAMES = ("Budi", "Siti", "Andi", "Dewi", "Rahmat", "Nur", "Agus", "Putri", "Hendra", "Wati")


async def _wave(w: Walker, start: datetime, first: int, count: int, rng: random.Random) -> None:
    uids = w.uids[:count]
    people = [
        Person(
            f"{rng.choice(NAMES)} {first + n}",
            rng.choice(COMPANIES),
            f"1571{first + n:012d}",
            f"T-{rng.randint(100, 140)}",
            wants="pc" if n % 5 < 3 else None,
        )
        for n in range(count)
    ]
    w.clock.now = start
    vids = await asyncio.gather(*(w.register(p) for p in people))
    w.clock.now = start + timedelta(minutes=3)
    for vid, uid in zip(vids, uids, strict=True):
        await w.issue(vid, uid)
    steps = (("pintu-masuk", 5), ("desk", 8), ("desk", 50), ("pintu-keluar", 52), ("fo", 55))
    for reader, minute in steps:
        w.clock.now = start + timedelta(minutes=minute)
        tappers = [
            (f"meja-{k // 5 * 3 + k % 5 + 1:02d}" if reader == "desk" else reader, uid)
            for k, uid in enumerate(uids)
            if reader != "desk" or k % 5 < 3
        ]
        await asyncio.gather(*(w.tap(r, uid) for r, uid in tappers))
    if rng.random() < 0.4:
        w.clock.now = start + timedelta(minutes=20)
        await w.help(vids[0], rng.choice(("login", "upload", "network")), rng.randint(3, 25))
    w.clock.now = start + timedelta(minutes=58)
    await asyncio.gather(*(w.return_document(v) for v in vids))


async def walk_busy_day(w: Walker, day: date, visits_n: int, rng: random.Random) -> int:
    """A busy day in waves of concurrent visits (the writer commits each wave in groups).

    Three in five visitors use a PC (the wave never has more PC users than PCs).
    Returns the number of taps made.
    """
    before = w.taps
    wave = len(w.uids)
    waves = max(1, -(-visits_n // wave))
    slot = max(60, (8 * 60 - 60) // waves)
    opening = datetime.combine(day, time(8, 0), tzinfo=WIB).astimezone(UTC)
    for n, first in enumerate(range(0, visits_n, wave)):
        count = min(wave, visits_n - first)
        await _wave(w, opening + timedelta(minutes=n * slot), first, count, rng)
    return w.taps - before
