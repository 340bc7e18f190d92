"""What the front office reads about a badge: its state in words, and why an action on
it is refused (instead of the lifecycle table's internal names)."""

from __future__ import annotations

from service.domain.lifecycle import BADGE_TABLE, BadgeEvent, BadgeState
from service.domain.model import Badge
from service.errors import Conflict

STATE_TEXT: dict[BadgeState, tuple[str, str]] = {
    BadgeState.AVAILABLE: ("Tersedia", "Available"),
    BadgeState.ISSUED: ("Dipakai pengunjung", "With a visitor"),
    BadgeState.LOST: ("Hilang", "Lost"),
    BadgeState.RETIRED: ("Tidak dipakai lagi", "Retired"),
}

_REFUSED: dict[BadgeEvent, tuple[str, str]] = {
    BadgeEvent.REPORT_LOST: (
        "Kartu {label} sedang berstatus {state}; hanya kartu yang tersedia atau dipakai "
        "pengunjung dapat dilaporkan hilang.",
        "Badge {label} is {state}; only an available badge or one with a visitor can be "
        "reported lost.",
    ),
    BadgeEvent.FOUND: (
        "Kartu {label} sedang berstatus {state}; hanya kartu yang hilang dapat dinyatakan "
        "ditemukan.",
        "Badge {label} is {state}; only a lost badge can be found.",
    ),
    BadgeEvent.RETIRE: (
        "Kartu {label} sedang berstatus {state}; kembalikan dulu kartunya, atau kartu ini "
        "sudah tidak dipakai.",
        "Badge {label} is {state}; have it returned first, or it is already retired.",
    ),
}


def check_action(badge: Badge, event: BadgeEvent) -> None:
    """Refuse, in words a clerk reads, an action the badge's state does not allow."""
    if event in BADGE_TABLE[badge.state]:
        return
    indonesian, english = _REFUSED.get(
        event,
        ("Kartu {label} sedang berstatus {state}.", "Badge {label} is {state}."),
    )
    state_id, state_en = STATE_TEXT[badge.state]
    raise Conflict(
        indonesian.format(label=badge.label, state=state_id.lower()),
        english.format(label=badge.label, state=state_en.lower()),
    )
