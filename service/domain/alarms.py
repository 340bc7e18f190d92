"""Door and reader events, the alarms they raise, and the door tiles' states.

Everything a reader reports about its door or itself (:data:`EVENT_KINDS`) is
journaled as a :class:`~service.domain.facts.DeviceEventRecorded`. The events in
:data:`ALARM_KINDS` also raise an :class:`~service.domain.model.Alarm` that stays
open until a staff member acknowledges it with a note; the same event on the same
reader while its alarm is open is counted on that alarm instead of raising another
(a flapping reader makes one alarm, not fifty). Pure: the clock comes in as ``at``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.domain import facts as f
from service.domain.model import Alarm
from service.domain.state import RoomState
from service.domain.taps import ReaderRole
from service.domain.tx import Tx
from service.errors import Conflict, NotFound, ValidationError
from service.i18n import Msg, _, _p

# What readers report (devices.strike.DoorEventKind), and what raises an alarm.
EVENT_KINDS = frozenset(
    {"online", "offline", "tamper", "power_fail", "forced_open", "held_open", "closed"}
)
ALARM_KINDS = frozenset({"forced_open", "held_open", "tamper", "power_fail", "offline"})
DOOR_ROLES = frozenset({ReaderRole.DOOR_IN, ReaderRole.DOOR_OUT})
NOTE_MAX = 500
REASON_MAX = 500
MIN_TEXT = 3
# Longest manual unlock (a held-open door raises its own alarm after that anyway).
UNLOCK_MAX_S = 30.0


def open_alarms(state: RoomState) -> list[Alarm]:
    """Alarms nobody has acknowledged yet, oldest first."""
    return sorted((a for a in state.alarms.values() if a.acked_at is None), key=lambda a: a.id)


def _open_alarm(state: RoomState, reader: str, kind: str) -> Alarm | None:
    for alarm in state.alarms.values():
        if alarm.acked_at is None and alarm.reader == reader and alarm.kind == kind:
            return alarm
    return None


def record_device_event(tx: Tx, reader: str, kind: str, at: datetime) -> Alarm | None:
    """Journal a reader's event; raise (or count again) its alarm. Returns the alarm."""
    if kind not in EVENT_KINDS:
        raise ValidationError(_("Jenis kejadian perangkat tidak dikenal: {kind}.", kind=kind))
    actor = f"reader:{reader}"
    tx.emit(f.DeviceEventRecorded(at=at, actor=actor, reader=reader, event=kind))
    if kind not in ALARM_KINDS:
        return None
    found = _open_alarm(tx.state, reader, kind)
    if found is not None:
        tx.emit(f.AlarmRepeated(at=at, actor=actor, alarm_id=found.id))
        return tx.state.alarms[found.id]
    alarm = Alarm(id=tx.next_id("alarm"), reader=reader, kind=kind, at=at)
    tx.emit(f.AlarmRaised(at=at, actor=actor, alarm=alarm))
    return alarm


def _text(raw: str, max_len: int, what: Msg, field: str) -> str:
    text = " ".join(raw.split())
    if len(text) < MIN_TEXT:
        raise ValidationError(
            _(
                "{what_id} wajib diisi (minimal {MIN_TEXT} huruf).",
                what_id=what,
                MIN_TEXT=MIN_TEXT,
                what_en=what,
            ),
            field=field,
        )
    if len(text) > max_len:
        raise ValidationError(
            _(
                "{what_id} terlalu panjang (paling banyak {max_len} huruf).",
                what_id=what,
                max_len=max_len,
                what_en=what,
            ),
            field=field,
        )
    return text


def acknowledge(tx: Tx, alarm_id: int, note: str, at: datetime, actor: str) -> Alarm:
    """A staff member acknowledges an open alarm with a note of what was done."""
    alarm = tx.state.alarms.get(alarm_id)
    if alarm is None:
        raise NotFound(_("Alarm #{alarm_id} tidak ditemukan.", alarm_id=alarm_id))
    if alarm.acked_at is not None:
        raise Conflict(
            _("Alarm ini sudah ditandai sudah ditangani."),
        )
    text = _text(note, NOTE_MAX, _p("domain.alarms:text", "Catatan penanganan"), "note")
    tx.emit(
        f.AlarmAcknowledged(at=at, actor=actor, alarm_id=alarm_id, reader=alarm.reader, note=text)
    )
    return tx.state.alarms[alarm_id]


def unlock_door(
    tx: Tx, reader: str, reason: str, seconds: float, at: datetime, actor: str
) -> f.DoorUnlocked:
    """*Buka pintu*: journal a manual momentary unlock (the runtime pulses the output)."""
    text = _text(reason, REASON_MAX, _p("domain.alarms:text", "Alasan membuka pintu"), "reason")
    if not 1 <= seconds <= UNLOCK_MAX_S:
        raise ValidationError(
            _(
                "Lama pintu terbuka harus 1 sampai {UNLOCK_MAX_S:g} detik.",
                UNLOCK_MAX_S=UNLOCK_MAX_S,
            ),
            field="seconds",
        )
    return tx.emit(f.DoorUnlocked(at=at, actor=actor, reader=reader, seconds=seconds, reason=text))


# -- the door tiles ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DoorMark:
    """Something that sets a door's state: a door event, a granted tap, a manual unlock."""

    kind: str  # a device event kind, "granted" or "unlocked"
    at: datetime
    open_s: float = 0.0  # for "granted" and "unlocked": how long the strike opens


def door_state(marks: Iterable[DoorMark], online: bool, now: datetime) -> str:
    """``offline``, ``forced``, ``held``, ``open`` or ``closed`` from the door's last marks.

    A reader that cannot be reached is ``offline`` whatever its door did last; a
    forced or held door stays so until its contact reports ``closed``; a grant or a
    manual unlock shows ``open`` while the strike is released.
    """
    if not online:
        return "offline"
    contact = "closed"
    open_until: datetime | None = None
    for mark in sorted(marks, key=lambda m: m.at):
        if mark.kind in _CONTACT:
            contact = _CONTACT[mark.kind]
        elif mark.kind in ("granted", "unlocked"):
            open_until = mark.at + timedelta(seconds=mark.open_s)
    if contact != "closed":
        return contact
    if open_until is not None and now < open_until:
        return "open"
    return "closed"


_CONTACT = {"forced_open": "forced", "held_open": "held", "closed": "closed"}
