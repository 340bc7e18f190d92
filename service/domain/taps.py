"""The one contract every reader speaks: a :class:`Tap` in, a :class:`Decision` out.

Every reader — the USB NFC reader at the front desk, an OSDP door reader, a serial
reader, a remote workstation agent, the HTTP endpoint, the simulator — turns a card
presentation into a :class:`Tap` and hands it to the runtime's ``submit``. What
happens next depends only on the *role* of the reader (door in, door out, desk,
front desk), never on its hardware. The adapter shows the :class:`Feedback` of the
:class:`Decision` on whatever the hardware has (LED, buzzer, door strike).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime

from service.i18n import Text, _, render

_UID_RE = re.compile(r"^[0-9A-F]{8,20}$")


class ReaderRole(enum.StrEnum):
    DOOR_IN = "door_in"
    DOOR_OUT = "door_out"
    DESK = "desk"
    FRONT_DESK = "front_desk"


class InvalidTap(ValueError):
    """A tap that cannot be decided at all (malformed UID, naive time, empty id)."""


def normalise_uid(raw: str) -> str:
    """Badge UIDs are upper-case hex without separators: ``04:a2:3b`` -> ``04A23B``."""
    uid = re.sub(r"[\s:\-]", "", raw).upper()
    if not _UID_RE.match(uid) or len(uid) % 2:
        raise InvalidTap(f"badge UID must be 4 to 10 bytes of hex, got {raw!r}")
    return uid


@dataclass(frozen=True, slots=True)
class Tap:
    """One presentation of a badge to one reader.

    ``event_id`` makes the tap idempotent: a tap whose ``event_id`` was already
    decided gets the first decision back and changes nothing. ``at`` is the time
    the reader saw the card (aware, UTC), which for a replayed offline tap is in
    the past. ``token`` is the signed NDEF token read from the badge, where the
    reader can read one.
    """

    reader: str
    uid: str
    at: datetime
    event_id: str
    token: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise InvalidTap("tap time must be timezone-aware")
        if not self.event_id or len(self.event_id) > 64:
            raise InvalidTap("event_id must be 1 to 64 characters")
        if not self.reader:
            raise InvalidTap("reader name is empty")
        object.__setattr__(self, "uid", normalise_uid(self.uid))


class Led(enum.StrEnum):
    GREEN = "green"
    RED = "red"
    AMBER = "amber"


@dataclass(frozen=True, slots=True)
class Feedback:
    """What the reader should show: LED colour, number of beeps, door strike pulse."""

    led: Led
    beeps: int = 1
    open_door_s: float = 0.0


class Reason(enum.StrEnum):
    """Why a tap was granted or denied; the code is stable, the text is for people."""

    ENTRY = "entry"
    EXIT = "exit"
    EXIT_WITHOUT_ENTRY = "exit_without_entry"
    USAGE_STARTED = "usage_started"
    USAGE_ENDED = "usage_ended"
    BADGE_ISSUED = "badge_issued"
    BADGE_RETURNED = "badge_returned"
    UNKNOWN_BADGE = "unknown_badge"
    LOST_BADGE = "lost_badge"
    RETIRED_BADGE = "retired_badge"
    BADGE_NOT_ISSUED = "badge_not_issued"
    NOT_ADMITTED = "not_admitted"
    ALREADY_INSIDE = "already_inside"
    ROOM_FULL = "room_full"
    OUTSIDE_HOURS = "outside_hours"
    WRONG_DESK = "wrong_desk"
    NO_FACILITY = "no_facility"
    UNKNOWN_READER = "unknown_reader"
    TOKEN_INVALID = "token_invalid"
    NO_VISIT_SERVED = "no_visit_served"
    VISIT_HAS_BADGE = "visit_has_badge"
    VISIT_NOT_READY = "visit_not_ready"
    BADGE_OF_ANOTHER_VISIT = "badge_of_another_visit"  # taps decided before 0005_visits
    OFFLINE_STORED = "offline_stored"
    DATABASE_UNAVAILABLE = "database_unavailable"
    EXIT_SPOOLED = "exit_spooled"
    CONFIRM_RETURN = "confirm_return"
    BADGE_ENROLLED = "badge_enrolled"
    ENROL_LABEL_TAKEN = "enrol_label_taken"


REASON_TEXT: dict[Reason, Text] = {
    Reason.ENTRY: _("Silakan masuk"),
    Reason.EXIT: _("Silakan keluar"),
    Reason.EXIT_WITHOUT_ENTRY: _("Keluar tanpa catatan masuk"),
    Reason.USAGE_STARTED: _("Penggunaan fasilitas dimulai"),
    Reason.USAGE_ENDED: _("Penggunaan fasilitas selesai"),
    Reason.BADGE_ISSUED: _("Tanda pengenal khusus diberikan"),
    Reason.BADGE_RETURNED: _("Tanda pengenal khusus dikembalikan"),
    Reason.UNKNOWN_BADGE: _("Kartu tidak dikenal"),
    Reason.LOST_BADGE: _("Kartu dilaporkan hilang"),
    Reason.RETIRED_BADGE: _("Kartu sudah tidak berlaku"),
    Reason.BADGE_NOT_ISSUED: _("Kartu belum diberikan kepada pengunjung"),
    Reason.NOT_ADMITTED: _("Pengunjung belum dipersilakan masuk (antri)"),
    Reason.ALREADY_INSIDE: _("Pengunjung sudah di dalam ruangan"),
    Reason.ROOM_FULL: _("Ruangan penuh"),
    Reason.OUTSIDE_HOURS: _("Di luar jam layanan"),
    Reason.WRONG_DESK: _("Bukan fasilitas pengunjung ini"),
    Reason.NO_FACILITY: _("Tidak ada fasilitas yang ditetapkan"),
    Reason.UNKNOWN_READER: _("Pembaca kartu tidak terdaftar"),
    Reason.TOKEN_INVALID: _("Kartu tidak sah (token tidak cocok)"),
    Reason.NO_VISIT_SERVED: _("Tidak ada kunjungan yang sedang dilayani"),
    Reason.VISIT_HAS_BADGE: _("Kunjungan sudah memiliki kartu"),
    Reason.VISIT_NOT_READY: _("Kunjungan belum siap (titipan identitas belum dicatat)"),
    Reason.BADGE_OF_ANOTHER_VISIT: _(
        "Kartu ini milik pengunjung lain; selesaikan dulu pengunjung yang sedang dilayani"
    ),
    Reason.OFFLINE_STORED: _("Offline, tap disimpan dan akan dikirim"),
    Reason.DATABASE_UNAVAILABLE: _("Basis data tidak tersedia; masuk ditolak sampai pulih"),
    Reason.EXIT_SPOOLED: _("Silakan keluar (dicatat begitu basis data pulih)"),
    Reason.CONFIRM_RETURN: _(
        "Kartu milik pengunjung lain; konfirmasi pengembalian di layar front office"
    ),
    Reason.BADGE_ENROLLED: _("Kartu baru didaftarkan"),
    Reason.ENROL_LABEL_TAKEN: _("Label yang diketik sudah dipakai kartu lain; ketik label lain"),
}


def reason_text(reason: Reason, lang: str = "id") -> str:
    return render(REASON_TEXT[reason], lang)


GRANT = Feedback(Led.GREEN, beeps=1)
DENY = Feedback(Led.RED, beeps=3)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a tap, returned only after it is committed."""

    granted: bool
    reason: Reason
    feedback: Feedback
    visit_id: int | None = None
    badge_label: str | None = None
    slot: str | None = None
    anomalies: tuple[str, ...] = field(default=())

    @property
    def message(self) -> str:
        return reason_text(self.reason)
