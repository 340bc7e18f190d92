"""Card read at an OSDP reader -> door strike command at that reader, with Secure Channel.

Runs our control panel (devices.osdp) against libosdp's PeripheralDevice over a
pty, with a trivial in-process ``submit`` that grants. Prints p50/p95/p99/max of:

* total: the reader submits a card read -> the reader receives OUTPUT 0 (strike);
* protocol in: card read -> libosdp's event callback on our control panel;
* daemon: callback -> OUTPUT handed to libosdp (thread hand-over, submit, our code);
* protocol out: OUTPUT handed to libosdp -> the reader receives it.

    .venv/bin/python tests/bench/bench_osdp.py [--reads 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration" / "devices")]

import osdp  # noqa: E402
from conftest import PdPeer, PtyLink, poll_until  # noqa: E402

import devices.osdp as osdp_adapter  # noqa: E402
from devices.base import ReaderHealth, ReaderState  # noqa: E402
from service.domain.taps import Decision, Feedback, Led, Reason, Tap  # noqa: E402

GRANT = Decision(True, Reason.ENTRY, Feedback(Led.GREEN, beeps=1, open_door_s=4.0))
callback_at: list[float] = []
output_at: list[float] = []


def instrument() -> None:
    """Timestamps at the two edges of our code, without changing what it does."""
    cp_cls: Any = osdp_adapter._ControlPanel
    on_event, submit_command = cp_cls._internal_event_handler, cp_cls.submit_command

    def timed_event(self: Any, pd: int, event: dict[str, Any]) -> int:
        if event.get("event") == osdp.Event.CardRead:
            callback_at.append(time.monotonic())
        return int(on_event(self, pd, event))

    def timed_command(self: Any, address: int, command: dict[str, Any]) -> bool:
        ok = bool(submit_command(self, address, command))
        if command["command"] == osdp.Command.Output:
            output_at.append(time.monotonic())
        return ok

    cp_cls._internal_event_handler = timed_event
    cp_cls.submit_command = timed_command


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def report(name: str, values: list[float]) -> None:
    print(
        f"{name:>13}: p50 {pct(values, 0.5):6.1f} ms  p95 {pct(values, 0.95):6.1f} ms  "
        f"p99 {pct(values, 0.99):6.1f} ms  max {max(values) * 1000:6.1f} ms  "
        f"mean {statistics.fmean(values) * 1000:6.1f} ms"
    )


async def wait_output(peer: PdPeer, within: float = 2.0) -> float:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        while not peer.commands.empty():
            at, command = peer.commands.get_nowait()
            if command["command"] == osdp.Command.Output:
                return at
        await asyncio.sleep(0.001)
    raise TimeoutError("the reader never got the strike command")


async def measure(peer: PdPeer, reads: int) -> dict[str, list[float]]:
    """``reads`` card reads at random phase against the poll; times of each share."""
    rng = random.Random(7)
    shares: dict[str, list[float]] = {"total": [], "protocol in": [], "daemon": []}
    shares["protocol out"] = []
    for _ in range(reads):
        await asyncio.sleep(rng.uniform(0.0, 0.1))
        callback_at.clear()
        output_at.clear()
        t0 = time.monotonic()
        peer.card("04A23B5C")
        t_pd = await wait_output(peer)
        shares["total"].append(t_pd - t0)
        shares["protocol in"].append(callback_at[0] - t0)
        shares["daemon"].append(output_at[0] - callback_at[0])
        shares["protocol out"].append(t_pd - output_at[0])
        await asyncio.sleep(0.05)  # let LED and buzzer commands drain
        peer.drain()
    return shares


async def bench(reads: int, refresh_ms: int) -> None:
    instrument()
    key = os.urandom(16)
    with tempfile.TemporaryDirectory() as tmp:
        link = PtyLink(Path(tmp), "bidroom-osdp0")
        peer = PdPeer(link.master, 1, key)
        reader = osdp_adapter.BusReader("pintu", 1)
        bus = osdp_adapter.OsdpBus(str(link.path), [reader], lambda _n: key, refresh_ms=refresh_ms)
        health = {"pintu": ReaderHealth("pintu")}

        async def submit(tap: Tap) -> Decision:
            return GRANT

        runner = asyncio.create_task(bus.run(submit, health))
        try:
            await poll_until(lambda: health["pintu"].state is ReaderState.ONLINE, what="online")
            shares = await measure(peer, reads)
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            peer.stop()
            link.unplug()
    print(
        f"OSDP card read -> strike command, Secure Channel, {reads} reads, refresh {refresh_ms} ms"
    )
    for name, values in shares.items():
        report(name, values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--refresh-ms", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(bench(args.reads, args.refresh_ms))


if __name__ == "__main__":
    main()
