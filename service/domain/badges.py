"""What the front office reads about a badge: its state in words, and why an action on
it is refused (instead of the lifecycle table's internal names)."""

from __future__ import annotations

from service.domain.lifecycle import BADGE_TABLE, BadgeEvent, BadgeState
from service.domain.model import Badge
from service.errors import Conflict
from service.i18n import Msg, _, _p

STATE_TEXT: dict[BadgeState, Msg] = {
    BadgeState.AVAILABLE: _("Tersedia"),
    BadgeState.ISSUED: _("Dipakai pengunjung"),
    BadgeState.LOST: _("Hilang"),
    BadgeState.RETIRED: _p("domain.badges:BadgeState.RETIRED", "Tidak dipakai lagi"),
}

_REFUSED: dict[BadgeEvent, Msg] = {
    BadgeEvent.REPORT_LOST: _(
        "Kartu {label} sedang berstatus {state}; hanya kartu yang tersedia atau dipakai pengunjung dapat dilaporkan hilang."
    ),
    BadgeEvent.FOUND: _(
        "Kartu {label} sedang berstatus {state}; hanya kartu yang hilang dapat dinyatakan ditemukan."
    ),
    BadgeEvent.RETIRE: _(
        "Kartu {label} sedang berstatus {state}; kembalikan dulu kartunya, atau kartu ini sudah tidak dipakai."
    ),
}


def check_action(badge: Badge, event: BadgeEvent) -> None:
    """Refuse, in words a clerk reads, an action the badge's state does not allow."""
    if event in BADGE_TABLE[badge.state]:
        return
    refusal = _REFUSED.get(event, _("Kartu {label} sedang berstatus {state}."))
    raise Conflict(refusal.with_params(label=badge.label, state=STATE_TEXT[badge.state]))
