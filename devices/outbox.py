"""The agent's outbox: taps a workstation's reader saw, kept in a local SQLite file
(WAL, ``synchronous=FULL``) until the daemon has acknowledged them.

Written first, sent after (see :mod:`devices.agent`): a crash or a power cut after
the badge beeped loses nothing, and a replay carries the same ``event_id``.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from service.domain.taps import Tap

KEEP_SENT = timedelta(days=7)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    reader TEXT NOT NULL,
    uid TEXT NOT NULL,
    at TEXT NOT NULL,
    token TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    stored_at TEXT NOT NULL,
    done_at TEXT,
    response TEXT
)
"""


def default_outbox_path(name: str) -> Path:
    """``$XDG_STATE_HOME/bidroom/agent-<name>.sqlite3`` (``~/.local/state/...``)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "bidroom" / f"agent-{name}.sqlite3"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    tap: Tap
    state: str
    attempts: int
    response: str | None


class Outbox:
    """Taps not yet acknowledged by the daemon, in a local SQLite file (WAL).

    Short synchronous calls from the event loop's thread: one row per tap.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def add(self, tap: Tap) -> OutboxRow:
        """Store a tap (once per event_id) and return its row."""
        self._db.execute(
            "INSERT OR IGNORE INTO outbox (event_id, reader, uid, at, token, stored_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (tap.event_id, tap.reader, tap.uid, tap.at.isoformat(), tap.token, _now()),
        )
        rows = self._select("WHERE event_id = ?", (tap.event_id,))
        return rows[0]

    def pending(self, limit: int = 100) -> list[OutboxRow]:
        return self._select("WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,))

    def rows(self) -> list[OutboxRow]:
        return self._select("ORDER BY seq", ())

    def count(self, state: str = "pending") -> int:
        (n,) = self._db.execute("SELECT count(*) FROM outbox WHERE state = ?", (state,)).fetchone()
        return int(n)

    def mark_sent(self, event_id: str, response: str) -> None:
        self._finish(event_id, "sent", None, response)

    def mark_failed(self, event_id: str, error: str) -> None:
        self._finish(event_id, "failed", error, None)

    def note_attempt(self, event_id: str, error: str) -> None:
        self._db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE event_id = ?",
            (error, event_id),
        )

    def prune(self, keep: timedelta = KEEP_SENT) -> int:
        """Forget sent rows older than ``keep``; failed rows stay for the admin."""
        cutoff = (datetime.now(UTC) - keep).isoformat()
        cur = self._db.execute("DELETE FROM outbox WHERE state = 'sent' AND done_at < ?", (cutoff,))
        return cur.rowcount

    def close(self) -> None:
        self._db.close()

    def _finish(self, event_id: str, state: str, error: str | None, response: str | None) -> None:
        self._db.execute(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, "
            "done_at = ?, response = ? WHERE event_id = ?",
            (state, error, _now(), response, event_id),
        )

    def _select(self, where: str, args: tuple[Any, ...]) -> list[OutboxRow]:
        cur = self._db.execute(
            "SELECT seq, event_id, reader, uid, at, token, state, attempts, response "
            f"FROM outbox {where}",
            args,
        )
        return [
            OutboxRow(
                seq,
                Tap(reader, uid, datetime.fromisoformat(at), event_id, token),
                state,
                attempts,
                response,
            )
            for seq, event_id, reader, uid, at, token, state, attempts, response in cur
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat()
