"""The load generator ``bench_http_taps.py`` uses when wrk is not installed: an aiohttp
client with the same behaviour as ``taps.lua``, run as its own process.

    python http_load.py URL CONNECTIONS DURATION_S TAG TOKEN DOOR_IN DOOR_OUT UID=LABEL=in|out ...

CONNECTIONS workers share one keep-alive connection pool of that size. Each request
takes a badge with no tap in flight (a FIFO of free badges, given back by the answer),
so a badge's taps never overlap and go to door_in while it is outside, door_out after a
granted entry (each badge starts "in" or "out" as given). event_id = TAG-<badge>-<n>. At the deadline no new tap is sent and the
taps in flight are answered, so here every tap sent is answered (unlike wrk, which
stops with taps in flight). Prints one line: "BENCH-RESULT {json}", as taps.lua does.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter, deque

import aiohttp


def percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(
    url: str,
    connections: int,
    duration_s: float,
    tag: str,
    token: str,
    doors: tuple[str, str],
    badges: list[tuple[str, str, bool]],
) -> dict[str, object]:
    by_label = {label: i for i, (_, label, _) in enumerate(badges)}
    free: deque[int] = deque(range(len(badges)))
    inside = [start for _, _, start in badges]
    sent = [0] * len(badges)
    answered = [0] * len(badges)
    latencies: list[float] = []
    counts: Counter[str] = Counter()
    denials: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    rr = 0

    async def worker(http: aiohttp.ClientSession, deadline: float) -> None:
        nonlocal rr
        while time.monotonic() < deadline:
            if free:
                b = free.popleft()
            else:  # only after answers that did not name their badge (errors)
                b = rr = (rr + 1) % len(badges)
                counts["fallback"] += 1
            sent[b] += 1
            body = json.dumps(
                {
                    "reader": doors[1] if inside[b] else doors[0],
                    "uid": badges[b][0],
                    "event_id": f"{tag}-{b + 1}-{sent[b]}",
                }
            )
            t0 = time.perf_counter()
            try:
                async with http.post(url, data=body, headers=headers) as response:
                    raw = await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                counts["errors_read"] += 1
                continue
            latencies.append((time.perf_counter() - t0) * 1000)
            good = 200 <= status < 300
            counts["ok" if good else "bad"] += 1
            try:
                answer = json.loads(raw)
                label = by_label.get(answer.get("badge"))
            except (ValueError, AttributeError):
                answer, label = {}, None
            if label is None:
                counts["unmatched"] += 1
                continue
            if good:
                answered[label] += 1
            reason = str(answer.get("reason", "?"))
            if answer.get("granted") is True:
                inside[label] = {"entry": True, "exit": False}.get(reason, inside[label])
            else:
                counts["denied"] += 1
                denials[reason] += 1
            free.append(label)

    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        start = time.perf_counter()
        deadline = time.monotonic() + duration_s
        await asyncio.gather(*(worker(http, deadline) for _ in range(connections)))
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "duration_s": elapsed,
        "completed": len(latencies),
        "ok": counts["ok"],
        "bad": counts["bad"],
        "denied": counts["denied"],
        "denials": dict(denials),
        "fallback": counts["fallback"],
        "unmatched": counts["unmatched"],
        "errors": {
            "connect": 0,
            "read": counts["errors_read"],
            "write": 0,
            "status": counts["bad"],
            "timeout": 0,
        },
        "p50_ms": percentile(ordered, 50),
        "p99_ms": percentile(ordered, 99),
        "max_ms": ordered[-1] if ordered else float("nan"),
        "mean_ms": sum(ordered) / len(ordered) if ordered else float("nan"),
        "sent": sent,
        "answered": answered,
        "inside": [int(x) for x in inside],
    }


def main() -> None:
    url, connections, duration_s, tag, token, door_in, door_out, *pairs = sys.argv[1:]
    badges = [(uid, label, where == "in") for uid, label, where in (p.split("=") for p in pairs)]
    result = asyncio.run(
        run(url, int(connections), float(duration_s), tag, token, (door_in, door_out), badges)
    )
    print("BENCH-RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
