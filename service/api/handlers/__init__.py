"""Importing this package registers every API route (see service.api.routing)."""

from service.api.handlers import (  # noqa: F401
    accounts,
    days,
    desk,
    enrolment,
    events,
    health,
    helpdesk,
    identity,
    notices,
    ops,
    queue_speech,
    reports,
    roll_call,
    scan,
    session,
    status,
    taps,
    visit_actions,
    visit_history,
    visits,
)
