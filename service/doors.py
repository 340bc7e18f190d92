"""The doors and the readers as the operator sees them, kept beside the runtime.

* Which readers are online: the readers' health changes in the supervisors and
  adapters; :meth:`Doors.changes` compares it with what was last journaled, so a
  reader going offline or coming back becomes a device event (and an alarm) at the
  next look (the runtime looks every :data:`WATCH_S`). Adapters that report it
  themselves (OSDP) are not reported twice.
* Each door's state for its tile: the pure :func:`~service.domain.alarms.door_state`
  over the door's last events, grants and manual unlocks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from devices.base import DoorOutput, ReaderHealth, ReaderState
from service.config import ReaderConfig
from service.domain import facts as f
from service.domain.alarms import DOOR_ROLES, DoorMark, door_state
from service.domain.model import Alarm

WATCH_S = 0.2
# A reader that has not come up this long after the start is reported offline.
STARTUP_GRACE_S = 30.0
MARKS_KEPT = 20


class Doors:
    def __init__(
        self,
        readers: Sequence[ReaderConfig],
        health: dict[str, ReaderHealth],
        door_open_s: float,
        started: datetime,
    ) -> None:
        self.doors = [r for r in readers if r.role in DOOR_ROLES]
        self._health = health
        self._door_open_s = door_open_s
        self._started = started
        self.marks: dict[str, deque[DoorMark]] = {
            r.name: deque(maxlen=MARKS_KEPT) for r in self.doors
        }
        self._last: dict[str, tuple[str, datetime]] = {}
        self._known: dict[str, bool] = {}  # online as last journaled, by reader

    def note(self, reader: str, kind: str, at: datetime) -> bool:
        """A reader's event; False when it only repeats the on/offline state already known."""
        if kind in ("online", "offline"):
            online = kind == "online"
            if self._known.get(reader) is online:
                return False
            self._known[reader] = online
        if reader in self.marks:
            self.marks[reader].append(DoorMark(kind, at))
        self._last[reader] = (kind, at)
        return True

    def note_facts(self, facts: list[f.Fact]) -> None:
        """Granted door taps and manual unlocks open the door for a while."""
        for fact in facts:
            if isinstance(fact, f.TapDecided) and fact.event.granted:
                marks = self.marks.get(fact.event.reader)
                if marks is not None:
                    marks.append(DoorMark("granted", fact.event.at, self._door_open_s))
            elif isinstance(fact, f.DoorUnlocked) and fact.reader in self.marks:
                self.marks[fact.reader].append(DoorMark("unlocked", fact.at, fact.seconds))
                self._last[fact.reader] = ("unlocked", fact.at)

    def watching(self, name: str) -> bool:
        """The watch has seen ``name`` online since the start (its going away is news)."""
        return self._known.get(name) is True

    def changes(self, now: datetime) -> list[tuple[str, str]]:
        """Readers whose health no longer matches what was journaled: (reader, kind)."""
        out: list[tuple[str, str]] = []
        settled = now - self._started >= timedelta(seconds=STARTUP_GRACE_S)
        for name, health in self._health.items():
            if health.state is ReaderState.STOPPED:
                continue
            online = health.state is ReaderState.ONLINE
            known = self._known.get(name)
            if known is None:
                if online:
                    self._known[name] = True  # came up at the start: nothing to report
                elif health.state is ReaderState.BACKOFF and settled:
                    out.append((name, "offline"))
                continue
            if online is not known:
                out.append((name, "online" if online else "offline"))
        return out

    def tiles(self, now: datetime, adapters: Sequence[object]) -> list[dict[str, Any]]:
        can_unlock = {r.name for r in self.doors if output_of(adapters, r.name) is not None}
        out = []
        for reader in self.doors:
            health = self._health.get(reader.name)
            online = health is not None and health.state is ReaderState.ONLINE
            last = self._last.get(reader.name)
            out.append(
                {
                    "reader": reader.name,
                    "role": reader.role.value,
                    "state": door_state(self.marks[reader.name], online, now),
                    "online": online,
                    "can_unlock": reader.name in can_unlock,
                    "last_event": last[0] if last else None,
                    "last_at": last[1].isoformat() if last else None,
                }
            )
        return out


def output_of(adapters: Sequence[object], reader: str) -> DoorOutput | None:
    """The running adapter that can open ``reader``'s door by itself, if any."""
    for adapter in adapters:
        if isinstance(adapter, DoorOutput) and adapter.can_unlock(reader):
            return adapter
    return None


def alarm_view(alarm: Alarm) -> dict[str, Any]:
    return {
        "id": alarm.id,
        "reader": alarm.reader,
        "kind": alarm.kind,
        "at": alarm.at.isoformat(),
        "repeats": alarm.repeats,
        "last_at": alarm.last_at.isoformat() if alarm.last_at else None,
        "acked_at": alarm.acked_at.isoformat() if alarm.acked_at else None,
        "acked_by": alarm.acked_by,
        "note": alarm.note,
    }
