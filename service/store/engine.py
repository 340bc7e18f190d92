"""Opening the database: SQLite (WAL) by default, PostgreSQL by URL; migrations.

Engines never put statement parameters into their errors (``hide_parameters``), nor
PostgreSQL's echo of the refused row, so a failed write's log line carries no names
or numbers. On SQLite every connection gets WAL, ``foreign_keys=ON``,
``synchronous=FULL`` and a busy timeout; there is one writer task in the daemon, so
writes never fight each other. Before the migrations, service/store/integrity.py
waits for a file another process holds locked and moves aside only a corrupt one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

_LOGGER = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_PREFIX = "sqlite+aiosqlite:///"
# How long a SQLite statement waits for another connection's lock before "locked".
BUSY_TIMEOUT_S = 5
# The single writer waits far less: a door tap must be refused (entry) or opened and
# spooled (exit) within 250 ms when another process holds the database.
WRITER_BUSY_TIMEOUT_S = 0.15


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cursor.close()
    # SQLite's LIKE and lower() fold ASCII only: visit search folds "Ñandú" as Python does.
    dbapi_connection.create_function(FOLD, 1, fold_text, deterministic=True)


FOLD = "bidroom_fold"


def fold_text(value: str | None) -> str | None:
    """Text folded for a case-insensitive search in any script (SQLite's ``bidroom_fold``)."""
    return None if value is None else value.casefold()


def sqlite_path(url: str) -> Path | None:
    if url.startswith(SQLITE_PREFIX):
        path = url[len(SQLITE_PREFIX) :]
        if path and path != ":memory:":
            return Path(path)
    return None


SQLITE_READERS = 6


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        # aiosqlite runs each connection in a thread of its own: a fixed pool of them, never
        # overflow connections opened and closed under load (threads started and stopped).
        engine = create_async_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_S},
            hide_parameters=True,
            pool_size=SQLITE_READERS,
            max_overflow=0,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        url, pool_size=5, max_overflow=5, pool_pre_ping=True, hide_parameters=True
    )
    event.listen(engine.sync_engine, "handle_error", _hide_server_detail)
    return engine


def _hide_server_detail(context: ExceptionContext) -> None:
    """Drop PostgreSQL's DETAIL from a failed statement's error.

    The server echoes the refused values there ("Failing row contains (…)",
    "Key (uid)=(…) already exists"), and asyncpg prints it in every traceback, which
    would undo ``hide_parameters``. The message and the constraint's name stay.
    """
    asyncpg = sys.modules.get("asyncpg")  # imported by the dialect when PostgreSQL is used
    if asyncpg is None:
        return
    error: BaseException | None = context.original_exception
    while error is not None:
        if isinstance(error, asyncpg.PostgresError):
            error.detail = None
        error = error.__cause__


def _writer_pragmas(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(WRITER_BUSY_TIMEOUT_S * 1000)}")
    # The writer never checkpoints inside a tap's commit; checkpoint() does it between.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    # When the WAL starts over after a checkpoint, a file grown past this is cut back.
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    cursor.close()


def sync_engine_for(engine: AsyncEngine) -> Engine | None:
    """For SQLite, a synchronous engine on the same file for the single writer's thread."""
    if engine.dialect.name != "sqlite":
        return None
    url = engine.url.set(drivername="sqlite")
    sync = create_engine(
        url,
        connect_args={"timeout": WRITER_BUSY_TIMEOUT_S, "check_same_thread": False},
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        hide_parameters=True,
        # Every use is ``with engine.begin()``: committed or rolled back before the
        # connection goes back, so the pool's own rollback on return is a wasted call.
        pool_reset_on_return=None,
    )
    event.listen(sync, "connect", _writer_pragmas)
    return sync


WAL_SIZE_LIMIT = 64 * 1024 * 1024


def checkpoint(path: Path) -> None:
    """Fold the WAL back into the database file (PASSIVE: never waits for a reader).

    Runs on its own connection on the writer's thread between two commits
    (``Writer.between_commits``): under a steady storm of taps a checkpoint beside the
    writer never caught up with the frames appended meanwhile, and the WAL grew
    without end (232 to 422 MB in one memory bench run).
    """
    with contextlib.closing(sqlite3.connect(path, timeout=1)) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


# The newest migration in MIGRATIONS (a test holds the two equal). A database already
# there starts without Alembic: importing it and reading its scripts took ~0.3 s of
# every start.
HEAD_REVISION = "0009_dayops"


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _at_head(connection: Connection) -> bool:
    if not inspect(connection).has_table("alembic_version"):
        return False
    found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return found == [HEAD_REVISION]


def _upgrade(connection: Connection) -> None:
    if _at_head(connection):
        return
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every migration up to head (the same code for SQLite and PostgreSQL)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


def _sqlite_writable(path: Path, timeout_s: float) -> None:
    """Take the write lock for an instant and give it back (raises what SQLite says)."""
    with contextlib.closing(sqlite3.connect(path, timeout=timeout_s, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")


async def _postgres_problem(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT pg_is_in_recovery(), "
                    "current_setting('default_transaction_read_only') = 'on'"
                )
            )
        ).one()
    if row[0]:
        return "standby in recovery"
    return "read-only" if row[1] else None


async def write_problem(engine: AsyncEngine, url: str, timeout_s: float) -> str | None:
    """None when the database takes writes now, else what is wrong (for people and logs)."""
    path = sqlite_path(url)
    try:
        if path is not None:
            await asyncio.wait_for(
                asyncio.to_thread(_sqlite_writable, path, timeout_s / 2), timeout_s
            )
            return None
        return await asyncio.wait_for(_postgres_problem(engine), timeout_s)
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except Exception as exc:  # any driver error is "not writable", with its kind
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
