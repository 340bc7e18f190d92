"""schemathesis hooks (``SCHEMATHESIS_HOOKS``): the formats whose span is relative to today.

A day, a month or a time in bidroom lies between 2000-01-01 and one year after
today (the fields' descriptions in the OpenAPI document say so); JSON Schema cannot
say "one year after today", so the values schemathesis generates for these formats
are drawn from that span. Everything outside it is still refused with a 422 naming
the field (``tests/unit/test_params.py`` walks those bounds).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import schemathesis
from hypothesis import strategies as st

_FIRST = date(2000, 1, 1)
_KEY = re.compile(r'" *(?:[!#-\[\]-~]|\\["\\])(?:[ !#-\[\]-~]|\\["\\]){0,254}"')
_LAST = datetime.now(UTC).date() + timedelta(days=360)

schemathesis.openapi.format("date", st.dates(min_value=_FIRST, max_value=_LAST).map(str))
schemathesis.openapi.format(
    "year-month",
    st.dates(min_value=_FIRST, max_value=_LAST).map(lambda d: d.isoformat()[:7]),
)
schemathesis.openapi.format(
    "date-time",
    st.datetimes(
        min_value=datetime(2000, 1, 2),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=datetime.combine(_LAST, datetime.min.time()),
        timezones=st.just(UTC),
    ).map(lambda t: t.isoformat()),
)
# An Idempotency-Key: an RFC 8941 String (the header's pattern, which the coverage
# phase does not draw from on its own).
schemathesis.openapi.format(
    "sf-string",
    st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64
    ).map(lambda v: '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'),
)


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    """A client sends a new Idempotency-Key for each action (reusing one for another
    request is refused with 422 by design, draft-ietf-httpapi-idempotency-key-header)."""
    headers = case.headers or {}
    if "Idempotency-Key" in headers and _KEY.fullmatch(str(headers["Idempotency-Key"])):
        headers["Idempotency-Key"] = f'"{uuid.uuid4()}"'
