"""Backup and restore of the SQLite file, consistent while the daemon runs.

**Backup** copies the database with SQLite's online backup API in one step: the
copy is one read transaction, so it is the database exactly as of one commit, and
in WAL mode the daemon goes on writing meanwhile. The copy is written beside the
target under a temporary name, switched to a single self-contained file (no -wal),
checked (``quick_check``, a known migration, the journal head) and only then renamed
to the target: a backup file either is complete and sound or does not exist.

**Restore** refuses while ``bidroom serve`` holds the database (:func:`serving`, an
advisory lock beside the file that the daemon keeps for its whole life, released by
the kernel even when the daemon is killed), copies the backup beside the database,
checks it is a bidroom database of a migration this version knows, moves the old
file (with its -wal and -shm) aside as ``<name>.before-restore-<UTC time>`` and
renames the copy into place. Migrations of an older backup run at the next start
(or ``bidroom db upgrade``).

PostgreSQL is backed up with ``pg_dump`` and restored with ``pg_restore`` (README).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from service.errors import BidroomError
from service.i18n import Text, _, as_msg, message

_LOGGER = logging.getLogger(__name__)
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 5.0


class BackupError(BidroomError):
    code = "backup"


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """What a checked bidroom database file holds."""

    revision: str
    journal_seq: int
    size: int


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def _lock(database: Path, mode: int) -> int | None:
    """The lock file's descriptor with ``mode`` taken, None if it cannot be opened."""
    try:
        fd = os.open(lock_path(database), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        _LOGGER.warning(
            "cannot open %s (%s): restore cannot see this daemon", lock_path(database), exc
        )
        return None
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def serving(database: Path | None) -> Iterator[None]:
    """Held by ``bidroom serve`` for its life (shared: several daemons may hold it)."""
    if database is None:
        yield
        return
    try:
        fd = _lock(database, fcntl.LOCK_SH)
    except BlockingIOError:
        raise BackupError(
            _(
                "Basis data {database} sedang dipulihkan (bidroom restore); coba lagi nanti.",
                database=database,
            ),
        ) from None
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


def known_revisions() -> set[str]:
    """Every migration this version of bidroom has."""
    from alembic.script import ScriptDirectory

    from service.store.engine import alembic_config

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def inspect(path: Path) -> DatabaseInfo:
    """Check that ``path`` is a sound bidroom database of a known migration."""
    _need_sqlite_header(path)
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as db:
            checked = [str(row[0]) for row in db.execute("PRAGMA quick_check").fetchall()]
            tables = {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master")}
            if not {"alembic_version", "journal"} <= tables:
                raise _refused(path, _("bukan basis data bidroom"))
            revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
            seq = db.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise _refused(path, _("tidak terbaca ({exc})", exc=exc)) from exc
    if checked != ["ok"]:
        found = " ".join(" ".join(checked).split())[:160]
        raise _refused(path, _("rusak: {found}", found=found))
    if revision is None or str(revision[0]) not in known_revisions():
        name = "?" if revision is None else str(revision[0])
        raise _refused(
            path,
            _("migrasi {name} tidak dikenal versi bidroom ini", name=name),
        )
    return DatabaseInfo(str(revision[0]), int(seq), path.stat().st_size)


def _refused(path: Path, why: Text, why_en: str | None = None) -> BackupError:
    reason = message(why, why_en) if isinstance(why, str) else as_msg(why)
    return BackupError(_("{path}: {why}.", path=str(path), why=reason))


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup in one step (one read transaction), as one self-contained file."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    _fsync(target)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary(beside: Path, what: str) -> Path:
    return beside.with_name(f".{beside.name}.{what}-{os.getpid()}")


def _remove(path: Path) -> None:
    for extra in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        extra.unlink(missing_ok=True)


def _need_sqlite_file(path: Path) -> None:
    if not path.is_file():
        raise BackupError(_("Berkas {path} tidak ada.", path=path))


def _need_sqlite_header(path: Path) -> None:
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise _refused(path, _("bukan basis data SQLite"))


def backup(database: Path, target: Path) -> DatabaseInfo:
    """Copy the database to ``target`` (which must not exist yet) and check the copy."""
    _need_sqlite_file(database)
    if target.exists():
        raise BackupError(
            _("{target} sudah ada; tidak ditimpa. Pilih nama lain.", target=target),
        )
    partial = _temporary(target, "partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(database, partial)
        info = inspect(partial)
        partial.replace(target)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(_("Cadangan gagal: {exc}", exc=exc)) from exc
    finally:
        _remove(partial)
    _fsync(target.parent)
    return info


def restore(
    source: Path, database: Path, now: datetime | None = None
) -> tuple[DatabaseInfo, Path | None]:
    """Put the backup ``source`` in place of ``database``; the old file is kept aside."""
    _need_sqlite_file(source)
    _need_sqlite_header(source)
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = _lock(database, fcntl.LOCK_EX)
    except BlockingIOError:
        raise BackupError(
            _(
                "bidroom serve sedang memakai {database}; hentikan dulu (systemctl stop bidroom).",
                database=database,
            ),
        ) from None
    incoming = _temporary(database, "restore")
    try:
        _copy(source, incoming)
        info = inspect(incoming)
        aside = _move_aside(database, now or datetime.now(UTC))
        if aside is not None:
            _same_owner(aside, incoming)
        incoming.replace(database)
        _fsync(database.parent)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(_("Pemulihan gagal: {exc}", exc=exc)) from exc
    finally:
        _remove(incoming)
        if fd is not None:
            os.close(fd)
    return info, aside


def _move_aside(database: Path, now: datetime) -> Path | None:
    """The current file (after folding its WAL in) and its -wal/-shm, renamed; None if none."""
    if not database.exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(database, timeout=0.5, isolation_level=None)) as db:
            db.execute("BEGIN EXCLUSIVE")  # nobody else is in the middle of a write
            db.execute("ROLLBACK")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError(
                _("{database} sedang dipakai proses lain; hentikan dulu.", database=database),
            ) from exc
    except sqlite3.DatabaseError:
        pass  # a damaged file is moved aside as it is
    aside = database.with_name(f"{database.name}.before-restore-{now.strftime('%Y%m%dT%H%M%S')}")
    database.rename(aside)
    for suffix in ("-wal", "-shm"):
        extra = database.with_name(database.name + suffix)
        if extra.exists():
            extra.rename(aside.with_name(aside.name + suffix))
    return aside


def _same_owner(old: Path, new: Path) -> None:
    """Run as root, the restored file keeps the old one's owner (the daemon's user)."""
    if os.geteuid() != 0:
        return
    stat = old.stat()
    os.chown(new, stat.st_uid, stat.st_gid)
