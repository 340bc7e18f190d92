"""The evacuation roll call: who the readers show inside, and the muster.

A person counts as inside when the door reader let them in and they have not tapped
out, or when a desk reader shows a session running though no door entry was seen
(someone who followed another through the door: they are in the room all the same).
Each presence says where it comes from: the door reader and the time, the desk reader
with its facility and the time the session began.

During an evacuation the warden (any staff member on duty) starts a muster: the
people inside at that moment are its list, and anyone who comes in later joins it.
Each is marked safe at the assembly point, once; who marked and when are journaled.
A second start or a second mark of the same person changes nothing (a double click),
and a muster that has ended takes no more marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain import facts as f
from service.domain.lifecycle import VisitState
from service.domain.model import Muster, MusterMark, Visit
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import Conflict, NotFound
from service.i18n import _


@dataclass(frozen=True, slots=True)
class DeskPresence:
    facility: str
    reader: str | None
    since: datetime


@dataclass(frozen=True, slots=True)
class Presence:
    """One person the readers show inside, and why they think so."""

    visit: Visit
    door_at: datetime | None  # the door reader let them in then (None: no door entry)
    desk: DeskPresence | None  # a desk session is running

    @property
    def desk_only(self) -> bool:
        return self.door_at is None and self.desk is not None

    @property
    def since(self) -> datetime:
        times = [t for t in (self.door_at, self.desk.since if self.desk else None) if t]
        return min(times) if times else self.visit.registered_at


def presence_of(state: RoomState, visit: Visit) -> Presence | None:
    """Why the readers show ``visit`` inside, or None when they do not."""
    if visit.state is VisitState.CLOSED:
        return None
    door_at = (visit.entered_at or visit.registered_at) if visit.inside else None
    usage = state.open_usage(visit.id)
    desk = None
    if usage is not None:
        facility = state.facilities[usage.facility_id]
        desk = DeskPresence(facility.code, facility.reader, usage.started_at)
    if door_at is None and desk is None:
        return None
    return Presence(visit, door_at, desk)


def inside(state: RoomState) -> list[Presence]:
    """Everyone the readers show inside now, first in first."""
    found = (presence_of(state, v) for v in state.visits.values())
    return sorted((p for p in found if p is not None), key=lambda p: (p.since, p.visit.id))


def active(state: RoomState) -> Muster | None:
    """The muster running now (at most one)."""
    return next((m for m in state.musters.values() if m.ended_at is None), None)


def latest(state: RoomState) -> Muster | None:
    return max(state.musters.values(), key=lambda m: m.id, default=None)


def marks_of(state: RoomState, muster_id: int) -> dict[int, MusterMark]:
    """The people marked safe in a muster, by visit id."""
    return {m.visit_id: m for m in state.muster_marks.values() if m.muster_id == muster_id}


def roster(state: RoomState, muster: Muster) -> list[int]:
    """The muster's list: inside at its start, those who came in since, and the marked."""
    ids = list(muster.present)
    extra = [p.visit.id for p in inside(state)] if muster.ended_at is None else []
    extra += [m.visit_id for m in marks_of(state, muster.id).values()]
    for visit_id in extra:
        if visit_id not in ids:
            ids.append(visit_id)
    return [i for i in ids if i in state.visits]


def start(tx: Tx, at: datetime, actor: str) -> Muster:
    """Start a muster with everyone inside now; the running one if there is one."""
    running = active(tx.state)
    if running is not None:
        return running
    muster = Muster(
        id=tx.next_id("muster"),
        started_at=at,
        started_by=actor,
        present=tuple(p.visit.id for p in inside(tx.state)),
    )
    tx.emit(f.MusterStarted(at=at, actor=actor, muster=muster))
    return tx.state.musters[muster.id]


def _running(state: RoomState, muster_id: int) -> Muster:
    muster = state.musters.get(muster_id)
    if muster is None:
        raise NotFound(
            _("Apel evakuasi {muster_id} tidak ada.", muster_id=muster_id), field="muster_id"
        )
    if muster.ended_at is not None:
        raise Conflict(
            _("Apel evakuasi ini sudah selesai; mulai apel baru bila perlu."),
        )
    return muster


def mark_safe(tx: Tx, muster_id: int, visit_id: int, at: datetime, actor: str) -> MusterMark:
    """Mark one person of the muster's list safe (once; a second mark keeps the first)."""
    muster = _running(tx.state, muster_id)
    if visit_id not in roster(tx.state, muster):
        raise NotFound(
            _("Orang ini tidak ada dalam daftar evakuasi."),
            field="visit_id",
        )
    done = marks_of(tx.state, muster.id).get(visit_id)
    if done is not None:
        return done
    mark = MusterMark(
        id=tx.next_id("muster_mark"), muster_id=muster.id, visit_id=visit_id, at=at, by=actor
    )
    tx.emit(f.MusterMarkedSafe(at=at, actor=actor, mark=mark))
    return mark


def end(tx: Tx, muster_id: int, at: datetime, actor: str) -> Muster:
    """The warden ends the muster (everyone accounted for, or the alarm is over)."""
    _running(tx.state, muster_id)
    tx.emit(f.MusterEnded(at=at, actor=actor, muster_id=muster_id))
    return tx.state.musters[muster_id]
