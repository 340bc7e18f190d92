"""A day's events for the operator's list: every tap and every door or reader event.

Taps come from ``access_events`` (granted or denied, with the reason in words);
door and reader events, manual unlocks and alarm acknowledgements from the journal
(they carry no personal data). Newest first, filtered by reader and kind.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.taps import Reason, reason_text
from service.logs import redact_uid
from service.store.tables import AccessEventRow, JournalRow, table_of

_TAPS = table_of(AccessEventRow)

# The kinds the list can be filtered by: taps, then what readers report, then staff.
TAP_KINDS = ("granted", "denied")
DEVICE_KINDS = ("forced_open", "held_open", "tamper", "power_fail", "offline", "online", "closed")
STAFF_KINDS = ("unlocked", "acknowledged")
KINDS = (*TAP_KINDS, *DEVICE_KINDS, *STAFF_KINDS)
JOURNAL_KINDS = ("device.event", "door.unlocked", "alarm.acknowledged")
LIMIT = 2000


def _reason(code: str, lang: str) -> str:
    try:
        return reason_text(Reason(code), lang)
    except ValueError:
        return code


def _from_journal(kind: str, actor: str, fact: dict[str, Any], state: RoomState) -> dict[str, Any]:
    if kind == "device.event":
        return {"reader": fact["reader"], "kind": fact["event"], "actor": actor}
    if kind == "door.unlocked":
        return {
            "reader": fact["reader"],
            "kind": "unlocked",
            "actor": actor,
            "note": fact["reason"],
            "seconds": fact["seconds"],
        }
    alarm = state.alarms.get(fact["alarm_id"])
    return {
        "reader": fact["reader"],
        "kind": "acknowledged",
        "actor": actor,
        "note": fact["note"],
        "alarm": {"id": fact["alarm_id"], "kind": alarm.kind if alarm else None},
    }


async def day_log(
    engine: AsyncEngine,
    policy: Policy,
    state: RoomState,
    day: date,
    lang: str,
    *,
    reader: str | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    start, end = policy.day_bounds(day)
    items: list[dict[str, Any]] = []
    async with engine.connect() as conn:
        if kind is None or kind in TAP_KINDS:
            taps = select(_TAPS).where(_TAPS.c.at >= start, _TAPS.c.at < end)
            if reader:
                taps = taps.where(_TAPS.c.reader == reader)
            if kind:
                taps = taps.where(_TAPS.c.granted.is_(kind == "granted"))
            taps = taps.order_by(_TAPS.c.at.desc()).limit(LIMIT)
            for row in (await conn.execute(taps)).all():
                badge = state.badges.get(row.badge_id) if row.badge_id else None
                items.append(
                    {
                        "at": row.at.isoformat(),
                        "reader": row.reader,
                        "kind": "granted" if row.granted else "denied",
                        "reason": row.reason,
                        "message": _reason(row.reason, lang),
                        "badge": badge.label if badge else redact_uid(row.uid),
                        "visit_id": row.visit_id,
                    }
                )
        if kind is None or kind not in TAP_KINDS:
            journal = (
                select(JournalRow.at, JournalRow.kind, JournalRow.actor, JournalRow.payload)
                .where(JournalRow.at >= start, JournalRow.at < end)
                .where(JournalRow.kind.in_(JOURNAL_KINDS))
                .order_by(JournalRow.seq.desc())
                .limit(LIMIT)
            )
            for at, jkind, actor, payload in (await conn.execute(journal)).all():
                fact = msgspec.json.decode(payload)["fact"]
                item = _from_journal(jkind, actor, fact, state)
                if (reader and item["reader"] != reader) or (kind and item["kind"] != kind):
                    continue
                items.append({"at": at.isoformat(), **item})
    items.sort(key=lambda i: i["at"], reverse=True)
    return items[:LIMIT]
