"""Readers without hardware of their own: ``sim:`` (demo) and ``agent:`` (remote agent).

``sim:`` — a simulated reader is online as soon as the daemon runs. Its taps come
from the status page's demo panel and ``bidroom simulate tap`` through
``POST /api/v1/taps``, which call the runtime's ``submit`` directly; in-process
callers (``bidroom agent --reader sim:``, tests) can also present a badge with
:func:`simulate_tap`, which goes through the ``submit`` the supervisor gave the
reader.

A simulated door reader also stands for its door: :func:`simulate_door_event`
reports a door event (forced open, held open, tamper, power failure, closed) as an
OSDP reader would, :func:`unplug` takes the reader offline until :func:`plug`, and
a manual unlock (*buka pintu*) releases its simulated strike (``unlocked``).

``agent:`` — taps and heartbeats of a ``bidroom agent`` arrive over the API, which
calls ``health[name].seen()``. The adapter only watches that: the reader is ONLINE
while it was heard from within ``offline_after_s`` (default 60 s), else BACKOFF
with the error "agent not heard from". Options (reader table keys):
``offline_after_s``, ``check_s`` (how often to look, default 5 s).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devices.base import DeviceError, ReaderAdapter, ReaderHealth, ReaderState, TapSubmit
from devices.context import DeviceContext, scheme_of
from service.config import ReaderConfig
from service.domain.taps import Decision, Tap

_LOGGER = logging.getLogger(__name__)
OnEvent = Callable[[Any], Awaitable[None]]

AGENT_OFFLINE_AFTER_S = 60.0
AGENT_CHECK_S = 5.0
NOT_HEARD = "agent not heard from"

# Simulated readers that are running now, by reader name (for simulate_tap).
_RUNNING: dict[str, SimulatedReader] = {}
# Simulated readers unplugged (offline) until plugged back.
_UNPLUGGED: set[str] = set()
UNPLUGGED = "simulated reader unplugged"
DOOR_EVENTS = frozenset({"tamper", "power_fail", "forced_open", "held_open", "closed"})


class SimulatedReader:
    """A ``sim:`` reader: online at once (unless unplugged), waits until cancelled."""

    def __init__(self, name: str, on_event: OnEvent | None = None) -> None:
        self.name = name
        self.readers: tuple[str, ...] = (name,)
        self._submit: TapSubmit | None = None
        self._health: ReaderHealth | None = None
        self._seq = 0
        self._on_event = on_event
        # When the simulated strike was last released, and for how long.
        self.unlocked: tuple[datetime, float] | None = None
        self._pulled: asyncio.Event | None = None

    async def run(self, submit: TapSubmit, health: Mapping[str, ReaderHealth]) -> None:
        if self.name in _UNPLUGGED:
            raise DeviceError(UNPLUGGED)
        self._pulled = asyncio.Event()
        self._submit = submit
        self._health = health[self.name]
        self._health.set_state(ReaderState.ONLINE)
        _RUNNING[self.name] = self
        _LOGGER.info("%s: simulated reader online", self.name)
        try:
            await self._pulled.wait()
            raise DeviceError(UNPLUGGED)
        finally:
            if _RUNNING.get(self.name) is self:
                del _RUNNING[self.name]
            self._submit = None
            self._pulled = None

    def can_unlock(self, reader: str) -> bool:
        return reader == self.name

    async def unlock(self, reader: str, seconds: float) -> None:
        """Release the simulated strike (only a running reader answers)."""
        if reader != self.name:
            raise LookupError(reader)
        if _RUNNING.get(self.name) is not self:
            raise DeviceError(f"simulated reader {self.name} is offline")
        self.unlocked = (datetime.now(UTC), seconds)
        _LOGGER.info("%s: simulated strike released for %g s", self.name, seconds)

    async def door_event(self, kind: str) -> None:
        if kind not in DOOR_EVENTS:
            raise ValueError(f"unknown door event {kind!r}")
        if self._on_event is None:
            raise LookupError(f"simulated reader {self.name} reports to nobody")
        await self._on_event(SimulatedDoorEvent(self.name, kind, datetime.now(UTC)))

    async def tap(
        self,
        uid: str,
        *,
        at: datetime | None = None,
        event_id: str | None = None,
        token: str | None = None,
    ) -> Decision:
        """Present a badge to this reader, as a person at the reader would."""
        if self._submit is None or self._health is None:
            raise LookupError(f"simulated reader {self.name} is not running")
        self._seq += 1
        tap = Tap(
            reader=self.name,
            uid=uid,
            at=at or datetime.now(UTC),
            event_id=event_id or f"sim-{self.name}-{uuid.uuid4().hex[:12]}-{self._seq}",
            token=token,
        )
        self._health.seen()
        return await self._submit(tap)


async def simulate_tap(
    reader: str,
    uid: str,
    *,
    at: datetime | None = None,
    event_id: str | None = None,
    token: str | None = None,
) -> Decision:
    """Present ``uid`` to the running ``sim:`` reader named ``reader``.

    Raises :class:`LookupError` when no such simulated reader is running.
    """
    sim = _RUNNING.get(reader)
    if sim is None:
        raise LookupError(f"no simulated reader {reader!r} is running")
    return await sim.tap(uid, at=at, event_id=event_id, token=token)


@dataclass(frozen=True, slots=True)
class SimulatedDoorEvent:
    """What a simulated door reports (the shape of devices.strike.DoorEvent)."""

    reader: str
    kind: str
    at: datetime


async def simulate_door_event(reader: str, kind: str) -> None:
    """The running ``sim:`` reader ``reader`` reports a door event (``forced_open`` …)."""
    sim = _RUNNING.get(reader)
    if sim is None:
        raise LookupError(f"no simulated reader {reader!r} is running")
    await sim.door_event(kind)


def unplug(reader: str) -> None:
    """Take a simulated reader offline (as a pulled cable would) until :func:`plug`."""
    _UNPLUGGED.add(reader)
    sim = _RUNNING.get(reader)
    if sim is not None and sim._pulled is not None:
        sim._pulled.set()


def plug(reader: str) -> None:
    """Let an unplugged simulated reader come back (at the supervisor's next attempt)."""
    _UNPLUGGED.discard(reader)


def is_running(reader: str) -> bool:
    """Whether a ``sim:`` reader of this name is running and takes taps."""
    return reader in _RUNNING


class AgentReader:
    """An ``agent:`` reader: its health follows the heartbeats and taps the API sees."""

    def __init__(
        self,
        name: str,
        *,
        offline_after_s: float = AGENT_OFFLINE_AFTER_S,
        check_s: float = AGENT_CHECK_S,
    ) -> None:
        self.name = name
        self.readers: tuple[str, ...] = (name,)
        self.offline_after = timedelta(seconds=offline_after_s)
        self.check_s = check_s

    async def run(self, submit: TapSubmit, health: Mapping[str, ReaderHealth]) -> None:
        h = health[self.name]
        while True:
            self._update(h, datetime.now(UTC))
            await asyncio.sleep(self.check_s)

    def _update(self, h: ReaderHealth, now: datetime) -> None:
        heard = h.last_seen
        if heard is not None and now - heard <= self.offline_after:
            if h.state is not ReaderState.ONLINE:
                h.set_state(ReaderState.ONLINE)
                h.last_seen = heard  # set_state stamps "now"; keep when it was really heard
                _LOGGER.info("%s: agent online", self.name)
        elif h.state is not ReaderState.BACKOFF:
            h.set_state(ReaderState.BACKOFF, NOT_HEARD)
            _LOGGER.warning("%s: %s", self.name, NOT_HEARD)


def build(readers: Sequence[ReaderConfig], ctx: DeviceContext) -> list[ReaderAdapter]:
    adapters: list[ReaderAdapter] = []
    for reader in readers:
        if scheme_of(reader.url) == "agent":
            adapters.append(
                AgentReader(
                    reader.name,
                    offline_after_s=float(
                        reader.options.get("offline_after_s", AGENT_OFFLINE_AFTER_S)
                    ),
                    check_s=float(reader.options.get("check_s", AGENT_CHECK_S)),
                )
            )
        else:
            adapters.append(SimulatedReader(reader.name, ctx.on_device_event))
    return adapters
