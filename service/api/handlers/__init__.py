"""Importing this package registers every API route (see service.api.routing)."""

from service.api.handlers import (  # noqa: F401
    accounts,
    days,
    health,
    identity,
    notices,
    ops,
    reports,
    roll_call,
    scan,
    session,
    status,
    taps,
    visit_actions,
    visits,
)
