"""Exits opened while the database was unavailable, kept on local disk until recorded.

An exit door always opens (a person must never be locked in because a database is
down), but an exit that is not recorded would leave the visitor "inside" on the
board, the roll call and the books. So when the writer cannot commit, a door-out
tap is granted and its tap written here first, durably (SQLite, ``synchronous=FULL``,
one small file beside the key file, independent of the main database, which may be
another machine's PostgreSQL or a SQLite file another process holds locked). Once
the database takes writes again every spooled exit goes through the one tap path,
decided at the time the daemon received it, and only then leaves the spool: a crash
in between replays it at the next start, idempotent by its ``event_id``.

Nothing personal is stored: a reader name, a badge UID and its signed token (a badge
of the pool, not a person) and times.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from service.domain.taps import Tap

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled_exit (
    event_id TEXT PRIMARY KEY,
    reader TEXT NOT NULL,
    uid TEXT NOT NULL,
    token TEXT,
    at TEXT NOT NULL,
    received TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class SpooledExit:
    tap: Tap
    received: datetime  # the daemon's clock when the door was opened


class ExitSpool:
    """The durable list of exits still to record (blocking calls: run them in a thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(_SCHEMA)
        self.count: int = self._conn.execute("SELECT count(*) FROM spooled_exit").fetchone()[0]

    def add(self, tap: Tap, received: datetime) -> None:
        """Durable when it returns (the door is opened after this)."""
        with self._lock:
            cursor = self._conn.execute(
                "INSERT OR IGNORE INTO spooled_exit VALUES (?, ?, ?, ?, ?, ?)",
                (
                    tap.event_id,
                    tap.reader,
                    tap.uid,
                    tap.token,
                    tap.at.isoformat(),
                    received.isoformat(),
                ),
            )
            self.count += cursor.rowcount

    def pending(self) -> list[SpooledExit]:
        """Oldest first, as they happened."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT event_id, reader, uid, token, at, received FROM spooled_exit "
                "ORDER BY received"
            ).fetchall()
        return [
            SpooledExit(
                Tap(reader, uid, datetime.fromisoformat(at), event_id, token),
                datetime.fromisoformat(received),
            )
            for event_id, reader, uid, token, at, received in rows
        ]

    def remove(self, event_id: str) -> None:
        with self._lock:
            cursor = self._conn.execute("DELETE FROM spooled_exit WHERE event_id = ?", (event_id,))
            self.count -= cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()
