"""The door itself: contact supervision, what a reader shows, and relay door strikes.

:class:`Door` watches one door's contact and its reader's tamper and power
switches and turns their changes into :class:`DoorEvent` s. It is plain code
over a clock and the loop's ``call_later``; the OSDP adapter feeds it.
:func:`osdp_feedback` is a decision's feedback as OSDP commands (strike output,
LED, buzzer), pure data the OSDP adapter submits.

:func:`wrap_strikes` is how a reader without an output of its own opens its
door: when the reader's config has ``strike = "relay+serial:///dev/..."``, the
registry wraps the adapter (:class:`StrikeWrapped`) so the ``submit`` that
reader's adapter sees also pulses the relay, in the background, for every granted
decision with ``open_door_s > 0``. The decision goes back to the reader at once:
an unplugged relay logs a warning and never delays or fails the tap. When the
adapter stops, pulses in progress are cut short and the relay is switched off
(fail secure).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import osdp

from devices.base import ReaderAdapter, ReaderHealth, TapSubmit
from devices.relay import SerialRelay
from service.config import ReaderConfig
from service.domain.taps import Decision, Feedback, Led, Tap
from service.errors import ConfigError

_LOGGER = logging.getLogger(__name__)

_LED_COLOR = {
    Led.GREEN: osdp.CommandLEDColor.Green,
    Led.RED: osdp.CommandLEDColor.Red,
    Led.AMBER: osdp.CommandLEDColor.Amber,
}
# OSDP output control code 5: temporary ON for timer_count x 100 ms, then back to OFF.
_OUTPUT_PULSE = 5

DoorEventKind = Literal[
    "online", "offline", "tamper", "power_fail", "forced_open", "held_open", "closed"
]


@dataclass(frozen=True, slots=True)
class DoorEvent:
    """Something the front office should know about a door or its reader."""

    reader: str
    kind: DoorEventKind
    at: datetime


class Door:
    """Contact and tamper supervision of one door; emits through ``emit(reader, kind)``.

    * contact opens with no grant in the last ``forced_window_s`` (plus the
      strike pulse) -> ``forced_open``;
    * contact stays open ``held_open_s`` -> ``held_open``;
    * contact closes after being open -> ``closed``;
    * tamper switch / power failure becomes active -> ``tamper`` / ``power_fail``.
    """

    def __init__(
        self,
        name: str,
        loop: asyncio.AbstractEventLoop,
        emit: Callable[[str, DoorEventKind], None],
        held_open_s: float = 30.0,
        forced_window_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._loop = loop
        self._emit = emit
        self._held_s = held_open_s
        self._window_s = forced_window_s
        self._clock = clock
        self._last_grant: float | None = None
        self._grant_open_s = 0.0
        self._open: bool | None = None
        self._tamper = False
        self._power_fail = False
        self._held: asyncio.TimerHandle | None = None

    def granted(self, open_door_s: float) -> None:
        self._last_grant = self._clock()
        self._grant_open_s = open_door_s

    def local_status(self, tamper: bool, power_fail: bool) -> None:
        if tamper and not self._tamper:
            self._emit(self.name, "tamper")
        if power_fail and not self._power_fail:
            self._emit(self.name, "power_fail")
        self._tamper, self._power_fail = tamper, power_fail

    def contact(self, is_open: bool) -> None:
        was, self._open = self._open, is_open
        if is_open and not was:
            if was is not None and not self._recently_granted():
                self._emit(self.name, "forced_open")
            self._cancel_held()
            self._held = self._loop.call_later(self._held_s, self._held_too_long)
        elif not is_open and was:
            self._cancel_held()
            self._emit(self.name, "closed")

    def _recently_granted(self) -> bool:
        if self._last_grant is None:
            return False
        return self._clock() - self._last_grant <= self._window_s + self._grant_open_s

    def _held_too_long(self) -> None:
        self._held = None
        if self._open:
            self._emit(self.name, "held_open")

    def _cancel_held(self) -> None:
        if self._held is not None:
            self._held.cancel()
            self._held = None

    def close(self) -> None:
        self._cancel_held()


def osdp_feedback(fb: Feedback, granted: bool) -> list[dict[str, Any]]:
    """The OSDP commands that show one decision: output 0 pulse, LED, buzzer (times in 100 ms)."""
    opens = granted and fb.open_door_s > 0
    tenths = max(1, min(255, round(fb.open_door_s * 10))) if opens else 20
    commands: list[dict[str, Any]] = []
    if opens:
        out = dict(output_no=0, control_code=_OUTPUT_PULSE, timer_count=tenths)
        commands.append({"command": osdp.Command.Output, **out})
    color = dict(on_color=_LED_COLOR[fb.led], off_color=osdp.CommandLEDColor.Black)
    timing = dict(on_count=tenths, off_count=0, timer_count=tenths)
    led = dict(reader=0, led_number=0, temporary=True, control_code=2, **color, **timing)
    commands.append({"command": osdp.Command.LED, **led})
    if fb.beeps > 0:
        beep = dict(reader=0, control_code=2, on_count=1, off_count=1, rep_count=min(fb.beeps, 255))
        commands.append({"command": osdp.Command.Buzzer, **beep})
    return commands


def osdp_unlock(seconds: float) -> dict[str, Any]:
    """The OSDP command of a manual unlock: output 0 pulsed for ``seconds``."""
    tenths = max(1, min(255, round(seconds * 10)))
    out = dict(output_no=0, control_code=_OUTPUT_PULSE, timer_count=tenths)
    return {"command": osdp.Command.Output, **out}


class Strike(Protocol):
    """A door strike that can be pulsed (devices.relay.SerialRelay)."""

    name: str

    async def pulse(self, seconds: float) -> None: ...

    async def close(self) -> None: ...


class StrikePulser:
    """Pulses one strike in the background; keeps its tasks and cancels them on stop."""

    def __init__(self, strike: Strike) -> None:
        self.strike = strike
        self._tasks: set[asyncio.Task[None]] = set()

    def fire(self, seconds: float) -> None:
        # Never fire-and-forget: keep the reference until the pulse is done.
        task = asyncio.get_running_loop().create_task(self._pulse(seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def open_now(self, seconds: float, settle_s: float = 0.5) -> None:
        """A manual unlock: pulse and say whether the relay took it (raises DeviceError).

        Waits only ``settle_s`` for the relay to fail (it fails on opening the port or
        the first write); the pulse then runs on in the background like a grant's.
        """
        task = asyncio.get_running_loop().create_task(self.strike.pulse(seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        done, _ = await asyncio.wait({task}, timeout=settle_s)
        if done:
            task.result()
        else:
            task.add_done_callback(self._log_failure)

    def _log_failure(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.warning("%s: door strike failed: %s", self.strike.name, task.exception())

    async def _pulse(self, seconds: float) -> None:
        try:
            await self.strike.pulse(seconds)
        except Exception as exc:  # an unplugged relay must not take the reader down
            _LOGGER.warning("%s: door strike failed: %s", self.strike.name, exc)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.strike.close()


class StrikeWrapped:
    """An adapter whose readers' granted decisions also pulse their relay strikes.

    ``strikes`` maps reader name -> pulser; taps of other readers pass through.
    The wrapping is of the ``submit`` the inner adapter sees, so the decision is
    returned to the reader at once and the pulse runs beside it.
    """

    def __init__(self, inner: ReaderAdapter, strikes: dict[str, StrikePulser]) -> None:
        self.inner = inner
        self.name = inner.name
        self.readers = inner.readers
        self._strikes = strikes

    def can_unlock(self, reader: str) -> bool:
        inner = getattr(self.inner, "can_unlock", None)
        return reader in self._strikes or (inner is not None and bool(inner(reader)))

    async def unlock(self, reader: str, seconds: float) -> None:
        """A manual unlock pulses the reader's relay (or the inner adapter's own output)."""
        pulser = self._strikes.get(reader)
        if pulser is not None:
            await pulser.open_now(seconds)
            return
        inner = getattr(self.inner, "unlock", None)
        if inner is None:
            raise LookupError(reader)
        await inner(reader, seconds)

    async def run(self, submit: TapSubmit, health: Mapping[str, ReaderHealth]) -> None:
        async def submit_and_strike(tap: Tap) -> Decision:
            decision = await submit(tap)
            pulser = self._strikes.get(tap.reader)
            if pulser is not None and decision.granted and decision.feedback.open_door_s > 0:
                pulser.fire(decision.feedback.open_door_s)
            return decision

        try:
            await self.inner.run(submit_and_strike, health)
        finally:
            # Fail secure: a pulse cut short by shutdown turns the relay off.
            for pulser in self._strikes.values():
                await pulser.stop()


def wrap_strikes(adapter: ReaderAdapter, readers: Sequence[ReaderConfig]) -> ReaderAdapter:
    """Readers with ``strike = "relay+serial://..."`` get their relay pulsed on grants."""
    strikes: dict[str, StrikePulser] = {}
    for reader in readers:
        if reader.strike is None or reader.name not in adapter.readers:
            continue
        if not reader.strike.startswith("relay+"):
            raise ConfigError(
                f"reader {reader.name}: strike must be a relay URL "
                f"(relay+serial:///dev/...), got {reader.strike!r}"
            )
        strikes[reader.name] = StrikePulser(SerialRelay.from_url(reader.strike, reader.name))
    return StrikeWrapped(adapter, strikes) if strikes else adapter
