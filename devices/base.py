"""The narrow port every reader adapter implements, and the health it reports.

An adapter knows its hardware and nothing of the rules. It turns a card
presentation into a :class:`~service.domain.taps.Tap`, awaits ``submit(tap)``
(which returns only after the decision is committed) and shows the
:class:`~service.domain.taps.Feedback` on its hardware. Reconnecting is not the
adapter's business: :mod:`devices.supervisor` restarts ``run`` with backoff.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from service.domain.taps import Decision, Tap

TapSubmit = Callable[[Tap], Awaitable[Decision]]


class DeviceError(Exception):
    """The device is absent, unplugged or answered nonsense; the supervisor retries."""


class ReaderState(enum.StrEnum):
    # Opening the device for the first time or after a failure.
    CONNECTING = "connecting"
    # Device open and answering; taps flow.
    ONLINE = "online"
    # Device failed; waiting before the next attempt.
    BACKOFF = "backoff"
    # Stopped on purpose (daemon shutting down).
    STOPPED = "stopped"


@dataclass(slots=True)
class ReaderHealth:
    """Mutable health of one reader, read by the status page and the API."""

    name: str
    state: ReaderState = ReaderState.CONNECTING
    since: datetime | None = None
    last_seen: datetime | None = None
    last_error: str | None = None
    failures: int = 0

    def set_state(self, state: ReaderState, error: str | None = None) -> None:
        now = datetime.now(UTC)
        if state is not self.state:
            self.since = now
        self.state = state
        if error is not None:
            self.last_error = error
        if state is ReaderState.ONLINE:
            self.last_seen = now

    def seen(self) -> None:
        self.last_seen = datetime.now(UTC)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "state": self.state.value,
            "online": self.state is ReaderState.ONLINE,
            "since": self.since.isoformat() if self.since else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "last_error": self.last_error,
            "failures": self.failures,
        }


class ReaderAdapter(Protocol):
    """One reader, or one bus of readers (OSDP), behind one device URL.

    ``name`` names the adapter in logs (the reader's name, or the bus's URL);
    ``readers`` are the configured reader names it serves. The supervisor owns one
    :class:`ReaderHealth` per reader name and passes them all to ``run``.
    """

    name: str
    readers: tuple[str, ...]

    async def run(self, submit: TapSubmit, health: Mapping[str, ReaderHealth]) -> None:
        """Open the device, set each reader's health ONLINE, feed taps until it is lost.

        Raises :class:`DeviceError` when the device is absent or lost; returns or
        is cancelled when the daemon stops. Must close the device in every case.
        """
        ...


@runtime_checkable
class DoorOutput(Protocol):
    """An adapter that can open a door by itself: its strike, relay or OSDP output.

    ``unlock`` releases the strike of ``reader``'s door for ``seconds`` (the *buka
    pintu* of the Head or an admin); raises :class:`DeviceError` when the output
    cannot be driven now, or ``LookupError`` when ``reader`` has no output here.
    """

    def can_unlock(self, reader: str) -> bool: ...

    async def unlock(self, reader: str, seconds: float) -> None: ...
