"""Presentation-to-decision latency of the nfcpy adapter, through nfcpy's udp driver.

Run: ``.venv/bin/python tests/bench/bench_nfc.py [--presentations 200]``

Each round puts a fresh NTAG215 carrying a signed badge token into the field of
the emulated reader (``tests/integration/devices/nfc_tag_emulator.py``) while
nfcpy is waiting for the answer to its REQA, waits for the decision of an
in-process ``submit`` that verifies the token and grants, then takes the badge
away and waits until nfcpy polls again. Figures (milliseconds):

* total   — badge enters the field -> the decision is back in the reader thread;
* nfcpy   — badge enters the field -> nfcpy hands us the activated tag
            (REQA, anticollision, AUTH probe, GET_VERSION over udp);
* ndef    — reading the NDEF token through nfcpy (READ commands over udp);
* daemon  — our own share after that: tap built, handed to the loop, submit
            awaited, decision handed back to the reader thread.

Not included: the wait for the next poll (up to ``poll_interval_s``, 0.1 s) and,
for real readers, the radio; the udp driver's 1 s REQA timeout is a simulation
artefact the emulator skips by answering the pending REQA.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "devices"))

import ndef
from nfc_tag_emulator import EmulatedTag, TagEmulator

from devices.base import ReaderHealth, ReaderState
from devices.nfc import NfcReader, TapTiming
from service.config import ReaderConfig
from service.domain import badge_token
from service.domain.taps import GRANT, Decision, ReaderRole, Reason, Tap

KEY = bytes(range(32))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def show(name: str, values_s: list[float]) -> None:
    ms = [v * 1000 for v in values_s]
    print(
        f"{name:<8} p50 {percentile(ms, 50):7.2f}  p90 {percentile(ms, 90):7.2f}  "
        f"p99 {percentile(ms, 99):7.2f}  max {max(ms):7.2f}  mean {statistics.fmean(ms):7.2f} ms"
    )


async def wait_until(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(10.0):
        while not predicate():  # state changes in other threads
            await asyncio.sleep(0.001)


async def bench(presentations: int) -> None:
    tokens_ok = 0

    async def submit(tap: Tap) -> Decision:
        nonlocal tokens_ok
        label = badge_token.label_of(tap.token or "") or ""
        tokens_ok += badge_token.verify(KEY, label, tap.uid, tap.token or "")
        return Decision(True, Reason.ENTRY, GRANT)

    with TagEmulator() as emulator:
        config = ReaderConfig("bench", ReaderRole.DOOR_IN, f"nfc:udp:127.0.0.1:{emulator.port}")
        reader = NfcReader(config)
        health = ReaderHealth("bench")
        task = asyncio.create_task(reader.run(submit, {"bench": health}))
        try:
            await wait_until(lambda: health.state is ReaderState.ONLINE)
            rows = [await one_round(emulator, reader, i) for i in range(presentations)]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    print(f"{presentations} presentations, {tokens_ok} tokens verified, NTAG215 over udp")
    show("total", [t.decided_at - p for p, t in rows])
    show("nfcpy", [t.tag_at - p for p, t in rows])
    show("ndef", [t.token_at - t.tag_at for _, t in rows])
    show("daemon", [t.decided_at - t.token_at for _, t in rows])


async def one_round(emulator: TagEmulator, reader: NfcReader, i: int) -> tuple[float, TapTiming]:
    uid = f"04{i:012X}"
    token = badge_token.sign(KEY, f"K-{i:03d}", uid)
    message = b"".join(ndef.message_encoder([ndef.TextRecord(token)]))
    before = len(reader.timings)
    # Present while nfcpy waits for a REQA answer, as a badge that enters the field.
    polls = emulator.counts["REQA"]
    await wait_until(lambda: emulator.counts["REQA"] > polls)
    emulator.present(EmulatedTag.create(uid, ndef=message))
    presented = emulator.presented_at
    await wait_until(lambda: len(reader.timings) > before)
    emulator.remove()
    assert presented is not None
    return presented, reader.timings[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description="nfcpy adapter latency benchmark")
    parser.add_argument("--presentations", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    asyncio.run(bench(args.presentations))
    print(f"wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
