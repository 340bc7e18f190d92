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

from service.i18n import Text, render

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
    Reason.ENTRY: ("Silakan masuk", "Entry granted"),
    Reason.EXIT: ("Silakan keluar", "Exit granted"),
    Reason.EXIT_WITHOUT_ENTRY: ("Keluar tanpa catatan masuk", "Exit with no recorded entry"),
    Reason.USAGE_STARTED: ("Penggunaan fasilitas dimulai", "Facility use started"),
    Reason.USAGE_ENDED: ("Penggunaan fasilitas selesai", "Facility use ended"),
    Reason.BADGE_ISSUED: ("Tanda pengenal khusus diberikan", "Special badge issued"),
    Reason.BADGE_RETURNED: ("Tanda pengenal khusus dikembalikan", "Special badge returned"),
    Reason.UNKNOWN_BADGE: ("Kartu tidak dikenal", "Unknown badge"),
    Reason.LOST_BADGE: ("Kartu dilaporkan hilang", "Badge reported lost"),
    Reason.RETIRED_BADGE: ("Kartu sudah tidak berlaku", "Badge retired"),
    Reason.BADGE_NOT_ISSUED: ("Kartu belum diberikan kepada pengunjung", "Badge not issued"),
    Reason.NOT_ADMITTED: (
        "Pengunjung belum dipersilakan masuk (antri)",
        "Visitor not admitted yet",
    ),
    Reason.ALREADY_INSIDE: ("Pengunjung sudah di dalam ruangan", "Visitor already inside"),
    Reason.ROOM_FULL: ("Ruangan penuh", "Room full"),
    Reason.OUTSIDE_HOURS: ("Di luar jam layanan", "Outside opening hours"),
    Reason.WRONG_DESK: ("Bukan fasilitas pengunjung ini", "Not this visitor's facility"),
    Reason.NO_FACILITY: ("Tidak ada fasilitas yang ditetapkan", "No facility assigned"),
    Reason.UNKNOWN_READER: ("Pembaca kartu tidak terdaftar", "Unknown reader"),
    Reason.TOKEN_INVALID: ("Kartu tidak sah (token tidak cocok)", "Badge token does not verify"),
    Reason.NO_VISIT_SERVED: (
        "Tidak ada kunjungan yang sedang dilayani",
        "No visit is being served at the front desk",
    ),
    Reason.VISIT_HAS_BADGE: ("Kunjungan sudah memiliki kartu", "Visit already has a badge"),
    Reason.VISIT_NOT_READY: (
        "Kunjungan belum siap (titipan identitas belum dicatat)",
        "Visit not ready (identity document not deposited)",
    ),
    Reason.BADGE_OF_ANOTHER_VISIT: (
        "Kartu ini milik pengunjung lain; selesaikan dulu pengunjung yang sedang dilayani",
        "This badge belongs to another visitor; finish serving the current visitor first",
    ),
    Reason.OFFLINE_STORED: (
        "Offline, tap disimpan dan akan dikirim",
        "Offline, tap stored; will be sent",
    ),
    Reason.DATABASE_UNAVAILABLE: (
        "Basis data tidak tersedia; masuk ditolak sampai pulih",
        "Database unavailable; entry refused until it is back",
    ),
    Reason.EXIT_SPOOLED: (
        "Silakan keluar (dicatat begitu basis data pulih)",
        "Exit granted (recorded once the database is back)",
    ),
    Reason.CONFIRM_RETURN: (
        "Kartu milik pengunjung lain; konfirmasi pengembalian di layar front office",
        "Another visitor's badge; confirm its return on the front-office screen",
    ),
    Reason.BADGE_ENROLLED: ("Kartu baru didaftarkan", "New badge enrolled"),
    Reason.ENROL_LABEL_TAKEN: (
        "Label yang diketik sudah dipakai kartu lain; ketik label lain",
        "The label typed is taken by another badge; type another label",
    ),
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
