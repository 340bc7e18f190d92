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


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, what: str, state: str, event: str) -> None:
        super().__init__(
            f"Tidak dapat '{event}' pada {what} berstatus '{state}'.",
            f"Cannot '{event}' a {what} that is '{state}'.",
        )
        self.state = state
        self.event = event


S = TypeVar("S", bound=enum.StrEnum)
E = TypeVar("E", bound=enum.StrEnum)


def advance(table: dict[S, dict[E, S]], what: str, state: S, event: E) -> S:
    """The next state, or :class:`IllegalTransition` if the table has no such cell."""
    try:
        return table[state][event]
    except KeyError:
        raise IllegalTransition(what, state.value, event.value) from None


def allowed(table: dict[S, dict[E, S]], state: S, event: E) -> bool:
    return event in table[state]
