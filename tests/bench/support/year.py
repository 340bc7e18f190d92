"""A busy room's year, written the way the product writes it.

Every working day: waves of visitors registered at the front desk, badges issued by
a front-desk tap, door in, a desk session, breaks out of the room and back (door
out, door in, the desk session ended and started again), help requests, door out,
badge back, document returned; then the day is closed, its breaches justified,
signed by the Head and sealed (books, visit report, manifest) by the product's own
``SealOnSignOff``.

The rules are the product's (``visits.register``, ``access.decide_tap``, ``days``,
``helpdesk``) run by the real :class:`~service.runtime.Runtime` writer, which
journals and hash-chains every fact and commits the rows. The one difference from
the room is the grouping: a whole wave (30 visits, some 400 taps) is one
``Runtime.execute`` transaction instead of hundreds (the writer's group commit does
the same with concurrent taps), which makes a year buildable in minutes. Journal
rows, table rows and chain are the same facts in the same order as tap-by-tap.
The runtime is restarted every month (a daemon's state is loaded from the tables).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from service.domain import access, days, helpdesk, standards, visits
from service.domain.facts import Identity
from service.domain.identity import DocumentType, mask_number
from service.domain.taps import Tap
from service.domain.tx import Tx
from service.reports.sample import COMPANIES, NAMES, WIB, Clock, add_scenario_staff, sample_config
from service.reports.seal import SealOnSignOff
from service.runtime import Runtime

PCS = 18
BADGES = 30
BASE_TAPS = 5.2  # fo issue, door in, desk start (3 in 5), desk end (3 in 5), door out, fo return
DESKS = tuple(f"meja-{n:02d}" for n in range(1, PCS + 1))


def working_days(first: date, last: date) -> list[date]:
    count = (last - first).days + 1
    every = (first + timedelta(days=n) for n in range(count))
    return [d for d in every if d.isoweekday() <= 5]


def config_for(folder: Path) -> Any:
    return sample_config(folder, pcs=PCS, turnover_s=60)


def config_toml(folder: Path) -> str:
    """The same site as :func:`config_for`, as the ``bidroom serve`` TOML file."""
    lines = [
        "[database]",
        f'url = "sqlite+aiosqlite:///{folder}/bidroom.db"',
        "[server]",
        'host = "127.0.0.1"',
        "[site]",
        'head_name = "Drs. H. Ahmad Fauzi, M.Si"',
        'head_nip = "197001011990031001"',
        "[room]",
        'opening = "08:00"',
        'closing = "16:00"',
        "capacity = 200",
        "[queue]",
        "turnover_gap_s = 60",
        "[facilities.pc]",
        f"count = {PCS}",
        'label = "PC Desktop"',
        'prefix = "PC"',
    ]
    readers = [("pintu-masuk", "door_in"), ("pintu-keluar", "door_out"), ("fo", "front_desk")]
    readers += [(name, "desk") for name in DESKS]
    for name, role in readers:
        lines += ["[[readers]]", f'name = "{name}"', f'role = "{role}"', 'url = "sim:"']
        if role == "desk":
            lines.append(f'facility = "PC-{name[-2:]}"')
    return "\n".join(lines) + "\n"


@dataclass(slots=True)
class Tally:
    visits: int = 0
    taps: int = 0
    denied: dict[str, int] = field(default_factory=dict)
    sealed: int = 0


class Wave:
    """One wave of visits as one transaction: the product's rules, times passed in."""

    def __init__(self, rt: Runtime, uids: list[str], tally: Tally) -> None:
        self.rt, self.uids, self.tally = rt, uids, tally

    def tap(self, tx: Tx, reader: str, uid: str, at: datetime) -> None:
        event = f"{reader}:{uid}:{at.timestamp():.0f}"
        decision = access.decide_tap(tx, self.rt.policy, Tap(reader, uid, at, event), at)
        self.tally.taps += 1
        if not decision.granted:
            reason = decision.reason.value
            self.tally.denied[reason] = self.tally.denied.get(reason, 0) + 1

    def register(self, tx: Tx, n: int, pc: bool, at: datetime, rng: random.Random) -> int:
        nik = f"1571{n:012d}"
        form = visits.Arrival(
            name=f"{rng.choice(NAMES)} {n}",
            company=rng.choice(COMPANIES),
            doc_type=DocumentType.KTP,
            doc_masked=mask_number(nik),
            tender_code=f"T-{rng.randint(100, 140)}",
            purpose="Upload dokumen penawaran",
            wanted_kind="pc" if pc else None,
            rules_ack=True,
            privacy_ack=True,
            identity=Identity(
                doc_number=nik,
                phone="+6281234567890",
                doc_hash=self.rt.personal.lookup_hash("ktp", nik),
            ),
        )
        visit = visits.register(tx, self.rt.policy, form, at, "fo-rina")
        self.tally.visits += 1
        return int(visit.id)

    def run(
        self, tx: Tx, start: datetime, first: int, count: int, extra: float, rng: random.Random
    ) -> None:
        def at(minute: float) -> datetime:
            return start + timedelta(minutes=minute)

        vids = [self.register(tx, first + k, k % 5 < 3, at(0), rng) for k in range(count)]
        uids = self.uids[:count]
        for vid, uid in zip(vids, uids, strict=True):
            visits.arm_issue(tx, "fo", tx.state.visits[vid], at(3), "fo-rina")
            self.tap(tx, "fo", uid, at(3))
        desk = {k: DESKS[k // 5 * 3 + k % 5] for k in range(count) if k % 5 < 3}
        for k, uid in enumerate(uids):
            self.tap(tx, "pintu-masuk", uid, at(5))
            if k in desk:
                self.tap(tx, desk[k], uid, at(8))
        for k, uid in enumerate(uids):
            self._breaks(tx, uid, desk.get(k), extra, at, rng)
        if rng.random() < 0.4:
            req = helpdesk.open_request(
                tx, vids[0], None, "staff", rng.choice(("login", "upload", "network")),
                "Gagal unggah", at(20), "fo-rina",
            )  # fmt: skip
            helpdesk.resolve(tx, req.id, None, "Diulang, berhasil", at(20 + rng.randint(3, 25)),
                             "hd-yusuf")  # fmt: skip
        for k, uid in enumerate(uids):
            if k in desk:
                self.tap(tx, desk[k], uid, at(50))
            self.tap(tx, "pintu-keluar", uid, at(52))
            self.tap(tx, "fo", uid, at(55))
        for vid in vids:
            visits.return_document(tx, tx.state.visits[vid], "", at(58), "fo-rina")

    def _breaks(
        self, tx: Tx, uid: str, desk: str | None, extra: float, at: Any, rng: random.Random
    ) -> None:
        """Out of the room and back (the desk session ended and started again)."""
        want = extra / 3.2  # a break is 4 taps at a desk user (3 in 5), 2 otherwise
        breaks = min(6, int(want) + (rng.random() < want - int(want)))
        for b in range(breaks):
            m = 12 + 6 * b
            if desk:
                self.tap(tx, desk, uid, at(m))
            self.tap(tx, "pintu-keluar", uid, at(m + 1))
            self.tap(tx, "pintu-masuk", uid, at(m + 3))
            if desk:
                self.tap(tx, desk, uid, at(m + 4))


async def close_and_sign(rt: Runtime, clock: Clock, day: date) -> None:
    """Step 9: the day closed, every breach justified, the Head's signature."""
    now = clock.at(day, 16, 10)
    await rt.execute(lambda tx: days.close_day(tx, rt.policy, day, now, "fo-rina"))

    def justify_all(tx: Tx) -> None:
        for b in standards.breaches(tx.state, rt.policy, day, now):
            if b.justification is None and b.step != "9":
                days.justify(tx, day, b.step, b.subject, "Antrian loket penuh", now, "kepala")

    await rt.execute(justify_all)
    signed = clock.at(day, 16, 12)
    await rt.execute(lambda tx: days.sign_day(tx, rt.policy, day, signed, "kepala"))


async def enroll(rt: Runtime, now: datetime) -> list[str]:
    uids = [f"04A1B2C3{n:06X}" for n in range(1, BADGES + 1)]

    def rule(tx: Tx) -> None:
        for n, uid in enumerate(uids, 1):
            visits.enroll_badge(tx, uid, f"K-{n:03d}", now, "admin")

    await rt.execute(rule)
    return uids


async def build(folder: Path, first: date, last: date, visits_n: int, taps_n: int) -> Tally:
    """``visits_n`` visits and about ``taps_n`` taps on the working days first .. last."""
    workdays = working_days(first, last)
    per_day = -(-visits_n // len(workdays))
    extra = max(0.0, taps_n / max(1, visits_n) - BASE_TAPS)
    rng = random.Random(2026)
    tally = Tally()
    clock = Clock(datetime.combine(workdays[0], time(7, 0), tzinfo=WIB).astimezone(UTC))
    rt: Runtime | None = None
    sealer: SealOnSignOff | None = None
    uids: list[str] = []
    month = None
    try:
        for n, day in enumerate(workdays):
            count = min(per_day, visits_n - n * per_day)
            if count <= 0:
                break
            if rt is None or month != (day.year, day.month):
                rt, sealer = await _restart(folder, clock, day, rt, sealer)
                month = (day.year, day.month)
                if not uids:
                    await add_scenario_staff(rt, clock.now)
                    uids = await enroll(rt, clock.now)
            await _day(rt, clock, day, count, uids, extra, rng, tally)
            assert sealer is not None
            await sealer.wait()  # the previous day's seal, made while this day was built
            await close_and_sign(rt, clock, day)
            tally.sealed += 1
    finally:
        if sealer is not None:
            await sealer.wait()
            await sealer.stop()
        if rt is not None:
            await rt.stop()
    return tally


async def _restart(
    folder: Path, clock: Clock, day: date, rt: Runtime | None, sealer: SealOnSignOff | None
) -> tuple[Runtime, SealOnSignOff]:
    clock.at(day, 7, 0)
    if sealer is not None:
        await sealer.wait()
        await sealer.stop()
    if rt is not None:
        await rt.stop()
    rt = Runtime(config_for(folder), clock=clock, start_readers=False)
    await rt.start()
    sealer = SealOnSignOff(rt)
    rt.fact_listeners.append(sealer)
    return rt, sealer


async def _day(
    rt: Runtime,
    clock: Clock,
    day: date,
    count: int,
    uids: list[str],
    extra: float,
    rng: random.Random,
    tally: Tally,
) -> None:
    waves = max(1, -(-count // len(uids)))
    slot = max(60, (8 * 60 - 60) // waves)
    opening = datetime.combine(day, time(8, 0), tzinfo=WIB).astimezone(UTC)
    wave = Wave(rt, uids, tally)
    first_id = tally.visits
    for n, first in enumerate(range(0, count, len(uids))):
        size = min(len(uids), count - first)
        start = opening + timedelta(minutes=n * slot)
        clock.now = start + timedelta(minutes=59)  # the ticker, if it runs, sees the wave's end

        def rule(tx: Tx, s: datetime = start, f: int = first_id + first, c: int = size) -> None:
            wave.run(tx, s, f, c, extra, rng)

        await rt.execute(rule)
