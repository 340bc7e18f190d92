"""What ``GET /metrics`` shows Prometheus, through prometheus-client (the maintained library).

Two kinds of figure:

- **events**, counted as they happen: taps by reader, decision and reason; taps that
  got no decision (refused input, database unavailable, the daemon stopping); the
  tap decision latency (tap received -> decision committed and answered) and each
  writer commit's latency, as histograms;
- **state**, read from the published state at scrape time (nothing to keep in step):
  occupancy and capacity, waiting queue numbers per facility kind, readers online,
  SSE clients, the writer's queue depth, commits and database errors, the journal
  sequence.

Each runtime has its own registry (tests run many runtimes in one process), with
the process collector (memory, CPU, open files) beside ours. Label values come only
from the configuration and from closed sets (reasons, error codes): a tap naming an
unknown reader is counted under ``reader="(unknown)"``, so no client can grow the
number of series.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from devices.base import ReaderHealth, ReaderState
from service.config import Config
from service.domain.lifecycle import TicketState
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.events import EventHub
from service.store.writer import Writer

UNKNOWN_READER = "(unknown)"
# Seconds: a tap is decided in ~2 ms on SQLite; a batch waiting on a lock takes seconds.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


class Observed(Protocol):
    """What the metrics read of the runtime (the runtime itself; no import cycle)."""

    config: Config
    policy: Policy
    writer: Writer
    hub: EventHub
    health: dict[str, ReaderHealth]
    stopping: bool

    @property
    def state(self) -> RoomState: ...


class Metrics:
    """The counters and histograms the runtime feeds, and the registry that renders them."""

    def __init__(self, readers: tuple[str, ...]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._readers = frozenset(readers)
        self.taps = Counter(
            "bidroom_taps",
            "Taps decided, by reader, decision and reason (replays of a decided tap excluded)",
            ["reader", "decision", "reason"],
            registry=self.registry,
        )
        self.tap_replays = Counter(
            "bidroom_tap_replays",
            "Taps sent again with an event_id already decided (answered with the first decision)",
            ["reader"],
            registry=self.registry,
        )
        self.tap_errors = Counter(
            "bidroom_tap_errors",
            "Taps that got no decision: refused input, database unavailable, daemon stopping",
            ["reader", "error"],
            registry=self.registry,
        )
        self.decision_seconds = Histogram(
            "bidroom_tap_decision_seconds",
            "Tap received -> decision committed and answered",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "bidroom_commit_seconds",
            "One writer batch's database transaction (all its rules and journal rows)",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(namespace="", registry=self.registry)
        # The labelled counters by labels: a tap costs a dict lookup, not labels()'s lock.
        self._tap_counters: dict[tuple[str, bool, str], Any] = {}

    def reader_label(self, reader: str) -> str:
        return reader if reader in self._readers else UNKNOWN_READER

    def tap_decided(
        self, reader: str, granted: bool, reason: str, replayed: bool, seconds: float
    ) -> None:
        if replayed:
            self.tap_replays.labels(self.reader_label(reader)).inc()
            return
        key = (self.reader_label(reader), granted, reason)  # bounded: never a client's text
        counter = self._tap_counters.get(key)
        if counter is None:
            counter = self.taps.labels(key[0], "granted" if granted else "denied", reason)
            self._tap_counters[key] = counter
        counter.inc()
        self.decision_seconds.observe(seconds)

    def tap_failed(self, reader: str, error: str) -> None:
        self.tap_errors.labels(self.reader_label(reader), error).inc()

    def watch(self, runtime: Observed) -> None:
        """Read the runtime's state at every scrape, and time the writer's commits."""
        self.registry.register(_StateCollector(runtime))
        runtime.writer.commit_observers.append(self.commit_seconds.observe)

    def render(self, accept: str) -> tuple[bytes, str]:
        """The page and its content type, in the format the scraper asks for (``Accept``):
        OpenMetrics for Prometheus, else the classic text format 0.0.4."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


class _StateCollector(Collector):
    """Figures read from the published state and the writer when Prometheus asks."""

    def __init__(self, runtime: Observed) -> None:
        self._runtime = runtime

    def describe(self) -> list[Metric]:
        return []  # the families are known only when collected; nothing to check ahead

    def collect(self) -> Iterator[Metric]:
        runtime = self._runtime
        state, writer = runtime.state, runtime.writer
        inside = GaugeMetricFamily("bidroom_occupancy", "People inside the room now")
        inside.add_metric([], sum(1 for v in state.visits.values() if v.inside))
        yield inside
        yield GaugeMetricFamily(
            "bidroom_capacity", "Room capacity (room.capacity)", value=runtime.policy.capacity
        )
        waiting = GaugeMetricFamily(
            "bidroom_queue_waiting", "Queue numbers waiting, per facility kind", labels=["kind"]
        )
        counts = dict.fromkeys(runtime.policy.kinds, 0)
        for ticket in state.tickets.values():
            if ticket.state is TicketState.WAITING and ticket.kind in counts:
                counts[ticket.kind] += 1
        for kind, count in sorted(counts.items()):
            waiting.add_metric([kind], count)
        yield waiting
        online = GaugeMetricFamily(
            "bidroom_reader_online", "1 when the reader is online", labels=["reader", "role"]
        )
        for reader in runtime.config.readers:
            up = runtime.health[reader.name].state is ReaderState.ONLINE
            online.add_metric([reader.name, reader.role.value], 1 if up else 0)
        yield online
        yield GaugeMetricFamily(
            "bidroom_sse_clients", "Open Server-Sent Events streams", value=runtime.hub.client_count
        )
        yield GaugeMetricFamily(
            "bidroom_writer_queue_depth", "Rules waiting for the writer", value=writer.queue_depth
        )
        yield GaugeMetricFamily(
            "bidroom_journal_seq", "Sequence number of the journal head", value=writer.head.seq
        )
        yield CounterMetricFamily(
            "bidroom_writer_commits", "Batches committed by this daemon", value=writer.commits
        )
        yield CounterMetricFamily(
            "bidroom_database_errors",
            "Writer batches the database refused as unavailable (unreachable, locked, I/O)",
            value=writer.database_errors,
        )
        yield GaugeMetricFamily(
            "bidroom_stopping", "1 while the daemon stops (no new taps)", value=runtime.stopping
        )
