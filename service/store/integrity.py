"""The SQLite file at start: wait while it is locked, move it aside only when corrupt.

Before the migrations run, :func:`check_sqlite_file` opens the file on a connection
of its own and asks SQLite two things: may I write (``BEGIN IMMEDIATE``, rolled back
at once), and is the file sound (``PRAGMA quick_check``)? What SQLite answers decides:

* ``SQLITE_BUSY`` / ``SQLITE_LOCKED`` ("database is locked"): another process holds
  the file (a backup, a ``sqlite3`` shell left in a transaction). One WARNING line,
  then we keep asking until ``database.startup_wait_s`` has passed; still locked,
  :class:`DatabaseLocked` (a one-line error, exit code 2), and the file is untouched.
* ``SQLITE_CORRUPT`` / ``SQLITE_NOTADB``, or a quick_check that reports anything but
  ``ok``: the file (with its -wal and -shm) is renamed ``<name>.corrupt-<time>``, a
  CRITICAL line says so, and the caller records a notice in the new, empty database.
* anything else (no permission, an I/O error, a full disk): :class:`DatabaseUnusable`;
  nothing is moved, because nothing says the file is bad.

The write lock is taken only for an instant and quick_check runs outside it: a CLI
command started beside the running daemon never holds up the daemon's commits.
:func:`prepare_database` runs the check in a worker thread, then the migrations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from service.config import Config
from service.errors import BidroomError, Unavailable
from service.store.engine import BUSY_TIMEOUT_S, migrate, sqlite_path

_LOGGER = logging.getLogger(__name__)

# Primary result codes (https://sqlite.org/rescode.html); extended codes keep them in
# their low byte (SQLITE_BUSY_SNAPSHOT = 5 | 2 << 8).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26
# One attempt's share of the wait: SQLite's busy handler retries inside it.
ATTEMPT_S = 1.0
# A corruption report is kept to this many characters in the log and the notice.
REASON_CHARS = 200
# Pause after an attempt that failed at once (some BUSY answers skip the handler).
PAUSE_S = 0.1


class DatabaseLocked(Unavailable):
    code = "database_locked"

    def __init__(self, path: Path | None, waited_s: float) -> None:
        name = f" {path}" if path is not None else ""
        super().__init__(
            f"Basis data{name} dikunci proses lain selama {waited_s:g} detik; "
            "bidroom tidak dijalankan, berkas tidak diubah.",
            f"Database{name} stayed locked by another process for {waited_s:g} s; "
            "bidroom did not start, the file is untouched.",
        )


class DatabaseUnusable(BidroomError):
    code = "database_unusable"
    http_status = 503

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"Basis data {path} tidak dapat dibuka: {reason}",
            f"Database {path} cannot be opened: {reason}",
        )


class _Corrupt(Exception):
    """SQLite said the file is corrupt; the message says how."""


@dataclass(frozen=True, slots=True)
class MovedAside:
    """A corrupt database file that was renamed; the new one starts empty."""

    path: Path
    aside: Path
    reason: str
    at: datetime


def primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_locked(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: someone else holds the file; waiting may help."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = primary_code(exc)
    if code is not None:
        return code in (SQLITE_BUSY, SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def locked_error(exc: OperationalError) -> DatabaseLocked:
    """A statement that gave up on another process's lock, as the one-line error;
    any other database error is raised again as it was."""
    if exc.orig is None or not is_locked(exc.orig):
        raise exc
    return DatabaseLocked(None, BUSY_TIMEOUT_S)


def is_corrupt(exc: BaseException) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB: the file itself is bad."""
    return isinstance(exc, sqlite3.DatabaseError) and primary_code(exc) in (
        SQLITE_CORRUPT,
        SQLITE_NOTADB,
    )


def _clean_marker(path: Path) -> Path:
    return path.with_name(path.name + ".clean")


def _fingerprint(path: Path) -> str:
    wal = path.with_name(path.name + "-wal")
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns} {wal.stat().st_size if wal.exists() else 0}"


def mark_clean(path: Path | None) -> None:
    """After a graceful stop: the file as we closed it, so that the next start can skip
    quick_check (2.2 s on a busy year's 1 GB file) unless something changed it since."""
    if path is not None and path.exists():
        with contextlib.suppress(OSError):
            _clean_marker(path).write_text(_fingerprint(path), encoding="ascii")


def _closed_cleanly(path: Path) -> bool:
    """Whether the last daemon stopped gracefully and nothing touched the file since.
    The marker is used once: a crash after this start leaves none, so the next start
    checks the file again (a power cut is when a file goes bad)."""
    marker = _clean_marker(path)
    try:
        saved = marker.read_text(encoding="ascii")
    except OSError:
        return False
    with contextlib.suppress(OSError):
        marker.unlink()
    try:
        return saved == _fingerprint(path)
    except OSError:
        return False


def _probe(path: Path, timeout_s: float, *, check: bool = True) -> None:
    """One look: take the write lock for an instant, then quick_check outside it."""
    with contextlib.closing(sqlite3.connect(path, timeout=timeout_s, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        if not check:
            # Still read the header and the schema: a file that is not a database fails here.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return
        rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        found = " ".join(" ".join(rows).split())  # one line: rows hold newlines
        raise _Corrupt(f"quick_check: {found[:REASON_CHARS]}")


def _wait_until_free(path: Path, wait_s: float, *, check: bool = True) -> None:
    """Probe until the file is free and sound; raise what SQLite said otherwise."""
    started = time.monotonic()
    deadline = started + wait_s
    warned = False
    while True:
        remaining = deadline - time.monotonic()
        try:
            _probe(path, max(0.0, min(ATTEMPT_S, remaining)), check=check)
        except sqlite3.OperationalError as exc:
            if not is_locked(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseLocked(path, wait_s) from exc
            if not warned:
                warned = True
                _LOGGER.warning(
                    "database %s is locked by another process (%s); waiting up to %g s "
                    "(database.startup_wait_s)",
                    path,
                    exc,
                    wait_s,
                )
            time.sleep(min(PAUSE_S, max(0.0, deadline - time.monotonic())))
            continue
        if warned:
            _LOGGER.info("database %s is free again after %.1f s", path, time.monotonic() - started)
        return


def move_aside(path: Path, reason: str, now: datetime) -> MovedAside:
    """Rename the file and its -wal/-shm to ``<name>.corrupt-<UTC time>``."""
    aside = path.with_name(f"{path.name}.corrupt-{now.strftime('%Y%m%dT%H%M%S')}")
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.rename(aside.with_name(aside.name + suffix))
    _LOGGER.critical(
        "database %s is corrupt (%s): moved aside to %s; bidroom starts with an EMPTY "
        "database until it is restored",
        path,
        reason,
        aside,
    )
    return MovedAside(path, aside, reason, now)


def check_sqlite_file(path: Path | None, wait_s: float) -> MovedAside | None:
    """Wait out a lock, move a corrupt file aside; ``None`` when the file is fine.

    Blocking: run it in a thread (see :func:`check_database`).
    """
    if path is None or not path.exists():
        return None
    check = not _closed_cleanly(path)
    if not check:
        _LOGGER.info("database %s was closed cleanly and is unchanged: quick_check skipped", path)
    try:
        _wait_until_free(path, wait_s, check=check)
    except _Corrupt as exc:
        return move_aside(path, str(exc), datetime.now(UTC))
    except sqlite3.DatabaseError as exc:
        if is_corrupt(exc):
            return move_aside(path, str(exc), datetime.now(UTC))
        raise DatabaseUnusable(path, str(exc)) from exc
    except OSError as exc:
        raise DatabaseUnusable(path, str(exc)) from exc
    return None


async def prepare_database(engine: AsyncEngine, config: Config) -> MovedAside | None:
    """Check the SQLite file (in a worker thread), then apply the migrations.

    Returns the move when a corrupt file was moved aside, for the caller's notice.
    A lock taken again between the check and the migrations is the same one-line
    :class:`DatabaseLocked`, never a traceback.
    """
    path = sqlite_path(config.database_url)
    moved = await asyncio.to_thread(check_sqlite_file, path, config.database_startup_wait_s)
    try:
        await migrate(engine)
    except OperationalError as exc:
        if path is not None and exc.orig is not None and is_locked(exc.orig):
            raise DatabaseLocked(path, BUSY_TIMEOUT_S) from exc
        raise
    return moved
