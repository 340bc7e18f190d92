"""schemathesis hooks (``SCHEMATHESIS_HOOKS``): the formats whose span is relative to today.

A day, a month or a time in bidroom lies between 2000-01-01 and one year after
today (the fields' descriptions in the OpenAPI document say so); JSON Schema cannot
say "one year after today", so the values schemathesis generates for these formats
are drawn from that span. Everything outside it is still refused with a 422 naming
the field (``tests/unit/test_params.py`` walks those bounds).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import schemathesis
from hypothesis import strategies as st

_FIRST = date(2000, 1, 1)
_LAST = date.today() + timedelta(days=360)

schemathesis.openapi.format("date", st.dates(min_value=_FIRST, max_value=_LAST).map(str))
schemathesis.openapi.format(
    "year-month",
    st.dates(min_value=_FIRST, max_value=_LAST).map(lambda d: d.isoformat()[:7]),
)
schemathesis.openapi.format(
    "date-time",
    st.datetimes(
        min_value=datetime(2000, 1, 2),
        max_value=datetime.combine(_LAST, datetime.min.time()),
        timezones=st.just(UTC),
    ).map(lambda t: t.isoformat()),
)
