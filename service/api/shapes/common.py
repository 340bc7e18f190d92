"""Field types the replies of several handlers share."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

# A time as the replies have always written it (``datetime.isoformat()``, with its offset).
Time = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
# A day as ``YYYY-MM-DD``.
DayText = Annotated[str, Meta(extra_json_schema={"format": "date"})]
