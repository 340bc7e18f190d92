"""Every lifecycle of the room as a transition table: state -> event -> next state.

As in h11's ``_state.py``, everything that affects a transition lives here. An
event that the table does not allow raises :class:`IllegalTransition` and leaves
the state unchanged; the rules modules call :func:`advance` and never assign a
state by hand.
"""

from __future__ import annotations

import enum
from typing import TypeVar

from service.errors import Conflict
from service.i18n import Msg, _, _p


class VisitState(enum.StrEnum):
    REGISTERED = "registered"  # form filled, document deposited, waiting for badge/facility
    QUEUED = "queued"  # all facilities of the wanted kind taken: holds a queue ticket
    ADMITTED = "admitted"  # may enter the room (facility assigned or none needed)
    CLOSED = "closed"  # badge returned or closed by a supervisor


class VisitEvent(enum.StrEnum):
    QUEUE = "queue"
    ADMIT = "admit"
    UNQUEUE = "unqueue"  # ticket skipped as a no-show: back to the front desk
    RETURN = "return"  # badge back at the front desk
    FORCE_CLOSE = "force_close"


class BadgeState(enum.StrEnum):
    AVAILABLE = "available"
    ISSUED = "issued"
    LOST = "lost"
    RETIRED = "retired"


class BadgeEvent(enum.StrEnum):
    ISSUE = "issue"
    RETURN = "return"
    REPORT_LOST = "report_lost"
    FOUND = "found"
    RETIRE = "retire"


class TicketState(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class TicketEvent(enum.StrEnum):
    CALL = "call"
    SERVE = "serve"
    SKIP = "skip"
    CANCEL = "cancel"


class HelpState(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


class HelpEvent(enum.StrEnum):
    CLAIM = "claim"
    RESOLVE = "resolve"
    CANCEL = "cancel"


class DayState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    SIGNED = "signed"


class DayEvent(enum.StrEnum):
    CLOSE = "close"
    REOPEN = "reopen"
    SIGN = "sign"


VISIT_TABLE: dict[VisitState, dict[VisitEvent, VisitState]] = {
    VisitState.REGISTERED: {
        VisitEvent.QUEUE: VisitState.QUEUED,
        VisitEvent.ADMIT: VisitState.ADMITTED,
        VisitEvent.RETURN: VisitState.CLOSED,
        VisitEvent.FORCE_CLOSE: VisitState.CLOSED,
    },
    VisitState.QUEUED: {
        VisitEvent.ADMIT: VisitState.ADMITTED,
        VisitEvent.UNQUEUE: VisitState.REGISTERED,
        VisitEvent.RETURN: VisitState.CLOSED,
        VisitEvent.FORCE_CLOSE: VisitState.CLOSED,
    },
    VisitState.ADMITTED: {
        VisitEvent.RETURN: VisitState.CLOSED,
        VisitEvent.FORCE_CLOSE: VisitState.CLOSED,
    },
    VisitState.CLOSED: {},
}

BADGE_TABLE: dict[BadgeState, dict[BadgeEvent, BadgeState]] = {
    BadgeState.AVAILABLE: {
        BadgeEvent.ISSUE: BadgeState.ISSUED,
        BadgeEvent.REPORT_LOST: BadgeState.LOST,
        BadgeEvent.RETIRE: BadgeState.RETIRED,
    },
    BadgeState.ISSUED: {
        BadgeEvent.RETURN: BadgeState.AVAILABLE,
        BadgeEvent.REPORT_LOST: BadgeState.LOST,
    },
    BadgeState.LOST: {
        BadgeEvent.FOUND: BadgeState.AVAILABLE,
        BadgeEvent.RETIRE: BadgeState.RETIRED,
    },
    BadgeState.RETIRED: {},
}

TICKET_TABLE: dict[TicketState, dict[TicketEvent, TicketState]] = {
    TicketState.WAITING: {
        TicketEvent.CALL: TicketState.CALLED,
        TicketEvent.SKIP: TicketState.SKIPPED,
        TicketEvent.CANCEL: TicketState.CANCELLED,
    },
    TicketState.CALLED: {
        TicketEvent.SERVE: TicketState.SERVED,
        TicketEvent.SKIP: TicketState.SKIPPED,
        TicketEvent.CANCEL: TicketState.CANCELLED,
    },
    TicketState.SERVED: {},
    TicketState.SKIPPED: {},
    TicketState.CANCELLED: {},
}

HELP_TABLE: dict[HelpState, dict[HelpEvent, HelpState]] = {
    HelpState.OPEN: {
        HelpEvent.CLAIM: HelpState.CLAIMED,
        HelpEvent.RESOLVE: HelpState.RESOLVED,
        HelpEvent.CANCEL: HelpState.CANCELLED,
    },
    HelpState.CLAIMED: {
        HelpEvent.RESOLVE: HelpState.RESOLVED,
        HelpEvent.CANCEL: HelpState.CANCELLED,
    },
    HelpState.RESOLVED: {},
    HelpState.CANCELLED: {},
}

DAY_TABLE: dict[DayState, dict[DayEvent, DayState]] = {
    DayState.OPEN: {DayEvent.CLOSE: DayState.CLOSED},
    DayState.CLOSED: {DayEvent.SIGN: DayState.SIGNED, DayEvent.REOPEN: DayState.OPEN},
    DayState.SIGNED: {},
}


# What a refused step is said with: the thing, the step and the state in words a clerk
# uses, never the tables' names (IllegalTransition's ``state`` and ``event`` keep those).
THINGS: dict[str, Msg] = {
    "kunjungan": _p("lifecycle", "kunjungan"),
    "kartu": _p("lifecycle", "kartu"),
    "tiket": _p("lifecycle", "nomor antrean"),
    "permintaan bantuan": _p("lifecycle", "permintaan bantuan"),
    "hari": _p("lifecycle", "hari"),
}
# Keyed by (enum, value): members of two enums with one value are equal as strings.
STEPS: dict[tuple[type, str], Msg] = {}
STATES: dict[tuple[type, str], Msg] = {}


def _word(words: dict[tuple[type, str], Msg], member: enum.StrEnum | str) -> Msg | None:
    if not isinstance(member, enum.StrEnum):
        return None
    return words.get((type(member), member.value))


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, what: str, state: enum.StrEnum | str, event: enum.StrEnum | str) -> None:
        thing = THINGS.get(what, what)
        step, now = _word(STEPS, event), _word(STATES, state)
        if step is not None and now is not None:
            text = _("Tidak dapat {step}: {thing} ini {now}.", step=step, thing=thing, now=now)
        else:  # a table this module does not word (tests): still no internal name shown
            text = _("Langkah ini tidak dapat dilakukan pada {thing} ini sekarang.", thing=thing)
        super().__init__(text)
        self.state = str(state)
        self.event = str(event)


S = TypeVar("S", bound=enum.StrEnum)
E = TypeVar("E", bound=enum.StrEnum)


def advance(table: dict[S, dict[E, S]], what: str, state: S, event: E) -> S:
    """The next state, or :class:`IllegalTransition` if the table has no such cell."""
    try:
        return table[state][event]
    except KeyError:
        raise IllegalTransition(what, state, event) from None


def allowed(table: dict[S, dict[E, S]], state: S, event: E) -> bool:
    return event in table[state]


STEPS.update(
    {
        (type(member), member.value): word
        for member, word in (
            (VisitEvent.QUEUE, _p("lifecycle", "memasukkan ke antrean")),
            (VisitEvent.ADMIT, _p("lifecycle", "mengizinkan masuk")),
            (VisitEvent.UNQUEUE, _p("lifecycle", "mengeluarkan dari antrean")),
            (VisitEvent.RETURN, _p("lifecycle", "menerima kartu kembali")),
            (VisitEvent.FORCE_CLOSE, _p("lifecycle", "menutup paksa")),
            (BadgeEvent.ISSUE, _p("lifecycle", "menyerahkan kartu")),
            (BadgeEvent.RETURN, _p("lifecycle", "menerima kembali")),
            (BadgeEvent.REPORT_LOST, _p("lifecycle", "melaporkan hilang")),
            (BadgeEvent.FOUND, _p("lifecycle", "menandai ditemukan")),
            (BadgeEvent.RETIRE, _p("lifecycle", "menarik dari pemakaian")),
            (TicketEvent.CALL, _p("lifecycle", "memanggil")),
            (TicketEvent.SERVE, _p("lifecycle", "melayani")),
            (TicketEvent.SKIP, _p("lifecycle", "melewati")),
            (TicketEvent.CANCEL, _p("lifecycle", "membatalkan")),
            (HelpEvent.CLAIM, _p("lifecycle", "mengambil")),
            (HelpEvent.RESOLVE, _p("lifecycle", "menyelesaikan")),
            (HelpEvent.CANCEL, _p("lifecycle", "membatalkan")),
            (DayEvent.CLOSE, _p("lifecycle", "menutup")),
            (DayEvent.REOPEN, _p("lifecycle", "membuka kembali")),
            (DayEvent.SIGN, _p("lifecycle", "mengesahkan")),
        )
    }
)
STATES.update(
    {
        (type(member), member.value): word
        for member, word in (
            (VisitState.REGISTERED, _p("lifecycle", "baru terdaftar")),
            (VisitState.QUEUED, _p("lifecycle", "sedang mengantre")),
            (VisitState.ADMITTED, _p("lifecycle", "sudah diizinkan masuk")),
            (VisitState.CLOSED, _p("lifecycle", "sudah ditutup")),
            (BadgeState.AVAILABLE, _p("lifecycle", "tersedia")),
            (BadgeState.ISSUED, _p("lifecycle", "sedang dipakai pengunjung")),
            (BadgeState.LOST, _p("lifecycle", "tercatat hilang")),
            (BadgeState.RETIRED, _p("lifecycle", "tidak dipakai lagi")),
            (TicketState.WAITING, _p("lifecycle", "masih menunggu")),
            (TicketState.CALLED, _p("lifecycle", "sudah dipanggil")),
            (TicketState.SERVED, _p("lifecycle", "sudah dilayani")),
            (TicketState.SKIPPED, _p("lifecycle", "sudah dilewati")),
            (TicketState.CANCELLED, _p("lifecycle", "sudah dibatalkan")),
            (HelpState.OPEN, _p("lifecycle", "masih terbuka")),
            (HelpState.CLAIMED, _p("lifecycle", "sudah diambil petugas")),
            (HelpState.RESOLVED, _p("lifecycle", "sudah diselesaikan")),
            (HelpState.CANCELLED, _p("lifecycle", "sudah dibatalkan")),
            (DayState.OPEN, _p("lifecycle", "masih berjalan")),
            (DayState.CLOSED, _p("lifecycle", "sudah ditutup")),
            (DayState.SIGNED, _p("lifecycle", "sudah disahkan")),
        )
    }
)
