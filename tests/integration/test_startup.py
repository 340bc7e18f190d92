"""Start-up and the database file, with real files and real processes.

A file another process holds locked is waited for (one WARNING line), used when it
is released, and left exactly as it was when it is not: every command then exits
with one line and code 2. Only a file SQLite reports as corrupt is moved aside; that
is logged at CRITICAL and stays on ``/api/v1/status`` until an admin acknowledges it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from service.config import Config, parse_config
from service.errors import ConfigError
from service.notices import DATABASE_MOVED_ASIDE
from service.runtime import Runtime
from service.store.engine import alembic_config, sqlite_path
from service.store.integrity import DatabaseUnusable, check_sqlite_file, is_corrupt, is_locked
from service.store.tables import Base
from tests.integration.test_cli import free_port, wait_for
from tests.support.site import FakeClock, running_site, site_config

ENV = {**os.environ, "PYTHONPATH": str(Path.cwd())}
PASSWORD = "kata-sandi-uji"
# Holds the file with BEGIN EXCLUSIVE until a line arrives on stdin. With "readers"
# it also shuts out readers (locking_mode=EXCLUSIVE and a write), which WAL lets in.
LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2:] == ["readers"]:
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
if sys.argv[2:] == ["readers"]:
    conn.execute("CREATE TABLE held_by_the_test (x)")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def bidroom(folder: Path, *args: str) -> tuple[int, str]:
    """Run a ``bidroom`` command in ``folder``; its exit code and stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service.cli",
        *args,
        cwd=folder,
        env=ENV,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def a_site_with_data(folder: Path, wait_s: float) -> Path:
    """A folder with a config, an admin and a badge, all written by the real commands."""
    (folder / "bidroom.toml").write_text(f"[database]\nstartup_wait_s = {wait_s}\n")
    (folder / "password").write_text(PASSWORD)
    for args in (
        ("user", "add", "alice", "--role", "admin", "--password-file", "password"),
        ("badge", "enroll", "--uid", "04A1B2C3D4E5F6", "--label", "K-001"),
    ):
        code, err = await bidroom(folder, *args)
        assert code == 0, err
    return folder / "bidroom.db"


@asynccontextmanager
async def locked(path: Path, *mode: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """Another process holding ``path`` locked; it lets go when a line is written to it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LOCKER,
        str(path),
        *mode,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert await asyncio.wait_for(proc.stdout.readline(), 20) == b"locked\n"
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.stdin.write(b"\n")
            await proc.stdin.drain()
            await asyncio.wait_for(proc.wait(), 20)


async def release(locker: asyncio.subprocess.Process) -> None:
    assert locker.stdin is not None
    locker.stdin.write(b"\n")
    await locker.stdin.drain()
    assert await asyncio.wait_for(locker.wait(), 20) == 0


async def line_containing(stream: asyncio.StreamReader, text: str, seconds: float = 30) -> str:
    async def read() -> str:
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"stream ended before {text!r}")
            if text in line:
                return line

    return await asyncio.wait_for(read(), seconds)


@pytest.mark.timeout(120)
async def test_a_locked_file_is_waited_for_then_served_with_its_data(tmp_path: Path) -> None:
    db = await a_site_with_data(tmp_path, wait_s=60)
    port = free_port()
    async with locked(db) as locker:
        daemon = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "service.cli", "serve", "--port", str(port)),
            cwd=tmp_path,
            env=ENV,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert daemon.stderr is not None
        try:
            waiting = await line_containing(daemon.stderr, "locked by another process")
            assert waiting.startswith("WARNING") and "startup_wait_s" in waiting
            await asyncio.sleep(1.0)
            assert daemon.returncode is None, "the daemon gave up instead of waiting"
            await release(locker)
            await line_containing(daemon.stderr, "is free again after")
            base = f"http://127.0.0.1:{port}"
            await wait_for(f"{base}/api/v1/openapi.json")
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                login = {"username": "alice", "password": PASSWORD}
                async with session.post(f"{base}/api/v1/login", json=login) as response:
                    assert response.status == 200, await response.text()
                async with session.get(f"{base}/api/v1/badges") as response:
                    assert response.status == 200, await response.text()
                    badges = await response.json()
            assert [b["label"] for b in badges] == ["K-001"]
        finally:
            if daemon.returncode is None:
                daemon.send_signal(signal.SIGINT)
            await asyncio.wait_for(daemon.communicate(), 30)
    assert not list(tmp_path.glob("*.corrupt-*"))


@pytest.mark.timeout(120)
async def test_a_file_locked_beyond_the_bound_is_left_as_it_was(tmp_path: Path) -> None:
    db = await a_site_with_data(tmp_path, wait_s=1.5)
    before = digest(db)
    async with locked(db):
        for command in (("serve", "--port", str(free_port())), ("user", "list")):
            code, err = await bidroom(tmp_path, *command)
            assert code == 2, (command, err)
            assert "Traceback" not in err, err
            errors = [line for line in err.splitlines() if line.startswith("bidroom: Basis data")]
            assert len(errors) == 1, err
            assert "dikunci proses lain selama 1.5 detik" in errors[0]
            assert "stayed locked by another process for 1.5 s" in errors[0]
            assert err.splitlines()[-1] == errors[0]
    assert digest(db) == before  # same bytes, same place: nothing moved, nothing written
    assert not list(tmp_path.glob("*.corrupt-*"))


@pytest.mark.timeout(120)
async def test_a_read_only_command_shut_out_by_a_lock_says_so_in_one_line(tmp_path: Path) -> None:
    """A report reads without the start-up check; a lock that outlives SQLite's busy
    timeout is the same one line and code 2, not a traceback."""
    db = await a_site_with_data(tmp_path, wait_s=1)
    before = digest(db)
    async with locked(db, "readers"):
        code, err = await bidroom(
            tmp_path,
            *("report", "books", "--date", "2026-11-25", "--format", "csv"),
            *("--output", str(tmp_path / "books.csv")),
        )
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("bidroom: Basis data dikunci proses lain") and "stayed locked" in err
    assert digest(db) == before and not (tmp_path / "books.csv").exists()


async def status_notices(site: object, who: str) -> list[dict[str, str]]:
    status = await site[who].call("GET", "/api/v1/status")  # type: ignore[index]
    return list(status["notices"])


async def test_a_garbage_file_is_moved_aside_and_shown_until_an_admin_acknowledges(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = site_config(tmp_path)
    db = sqlite_path(config.database_url)
    assert db is not None
    garbage = b"bukan basis data / not a database " * 200
    db.write_bytes(garbage)
    caplog.set_level(logging.INFO)
    async with running_site(config) as site:
        critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
        assert len(critical) == 1 and "moved aside" in critical[0].getMessage()
        (aside,) = tmp_path.glob("bidroom.db.corrupt-*")
        assert aside.read_bytes() == garbage
        (notice,) = await status_notices(site, "hd")
        assert notice["kind"] == DATABASE_MOVED_ASIDE
        assert notice["path"] == str(db) and notice["aside"] == str(aside)
        assert "not a database" in notice["reason"] and notice["at"]
        for role in ("fo", "hd", "head"):
            refused = await site[role].call(
                "POST", f"/api/v1/notices/{notice['id']}/ack", expect=403
            )
            assert refused["error"] == "forbidden"
        assert len(await status_notices(site, "fo")) == 1

    # Restarted: the notice is in the new database, so it is still there.
    async with running_site(config) as site:
        assert [n["id"] for n in await status_notices(site, "fo")] == [notice["id"]]
        assert len(list(tmp_path.glob("bidroom.db.corrupt-*"))) == 1
        done = await site["admin"].call("POST", f"/api/v1/notices/{notice['id']}/ack")
        assert done == {"id": notice["id"], "acknowledged": True}
        assert await status_notices(site, "fo") == []
        again = await site["admin"].call("POST", f"/api/v1/notices/{notice['id']}/ack", expect=404)
        assert again["error"] == "not_found"

    async with running_site(config) as site:
        assert await status_notices(site, "admin") == []


async def closed_runtime_file(config: Config) -> Path:
    """A real database written by the runtime, closed (its WAL folded back in)."""
    runtime = Runtime(config, clock=FakeClock(), start_readers=False)
    await runtime.start()
    await runtime.stop()
    path = sqlite_path(config.database_url)
    assert path is not None and not path.with_name(path.name + "-wal").exists()
    return path


async def test_a_truncated_page_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = site_config(tmp_path)
    path = await closed_runtime_file(config)
    page = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    pages = path.stat().st_size // page
    with path.open("r+b") as handle:  # cut the file in the middle of its middle page
        handle.truncate((pages // 2) * page + page // 2)
    cut = path.read_bytes()
    runtime = Runtime(config, clock=FakeClock(), start_readers=False)
    await runtime.start()
    try:
        (notice,) = runtime.status()["notices"]
        assert notice["kind"] == DATABASE_MOVED_ASIDE and notice["reason"]
    finally:
        await runtime.stop()
    (aside,) = tmp_path.glob("bidroom.db.corrupt-*")
    assert aside.read_bytes() == cut
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)


def table_file(path: Path) -> int:
    """A file of 4 KiB pages with one table of 200 rows; its size."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,) for _ in range(200)])
    return path.stat().st_size


def test_a_short_last_page_is_reported_by_quick_check(tmp_path: Path) -> None:
    path = tmp_path / "short.db"
    size = table_file(path)
    with path.open("r+b") as handle:
        handle.truncate(size - 4096 + 10)
    moved = check_sqlite_file(path, wait_s=1)
    assert moved is not None and moved.reason.startswith("quick_check: ")
    assert "\n" not in moved.reason and not path.exists() and moved.aside.exists()


def test_a_zeroed_page_is_sqlite_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "zeroed.db"
    table_file(path)
    with path.open("r+b") as handle:
        handle.seek(4096 * 3)
        handle.write(bytes(4096))
    moved = check_sqlite_file(path, wait_s=1)
    assert moved is not None and moved.reason == "database disk image is malformed"


def test_a_sound_file_and_no_file_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "sound.db"
    sqlite3.connect(path).close()
    assert check_sqlite_file(path, wait_s=1) is None and path.exists()
    assert check_sqlite_file(tmp_path / "absent.db", wait_s=1) is None
    assert check_sqlite_file(None, wait_s=1) is None


def test_sqlite_errors_are_told_apart(tmp_path: Path) -> None:
    """The classification reads SQLite's own result codes, from real failures."""
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x01" * 8192)
    with pytest.raises(sqlite3.DatabaseError) as notadb:
        sqlite3.connect(garbage).execute("SELECT 1 FROM sqlite_master")
    assert is_corrupt(notadb.value) and not is_locked(notadb.value)

    held = tmp_path / "held.db"
    holder = sqlite3.connect(held, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError) as busy:
            sqlite3.connect(held, timeout=0).execute("SELECT * FROM t")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert is_locked(busy.value) and not is_corrupt(busy.value)


def test_a_file_sqlite_cannot_open_is_an_error_and_is_not_moved(tmp_path: Path) -> None:
    """SQLITE_CANTOPEN is not corruption: a one-line error, the path stays as it is."""
    target = tmp_path / "folder.db"  # a folder where the file should be (root reads all files)
    target.mkdir()
    with pytest.raises(DatabaseUnusable, match="cannot be opened"):
        check_sqlite_file(target, wait_s=1)
    assert target.is_dir() and not list(tmp_path.glob("*.corrupt-*"))


def test_the_wait_is_configured_and_checked(tmp_path: Path) -> None:
    assert parse_config({}).database_startup_wait_s == 30
    config = parse_config({"database": {"startup_wait_s": 2.5}}, tmp_path / "bidroom.toml")
    assert config.database_startup_wait_s == 2.5
    for bad in (-1, "30", True):
        with pytest.raises(ConfigError, match="startup_wait_s"):
            parse_config({"database": {"startup_wait_s": bad}})
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config({"database": {"startup_wait": 5}})


def test_the_migrations_at_head_create_the_tables_the_code_declares(tmp_path: Path) -> None:
    """Migrations 0003 (notices), 0004 (abuse), 0005 (visits), 0006 (events), 0007 (admin),
    0008 (forms) and 0009 (dayops) included: nothing the models declare is missing."""
    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            assert MigrationContext.configure(conn).get_current_revision() == "0009_dayops"
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


async def test_a_database_at_head_starts_without_alembic_and_an_older_one_is_upgraded(
    tmp_path: Path,
) -> None:
    """HEAD_REVISION is the scripts' head; a file at an older revision is brought up to
    it by ``migrate`` (the shortcut only skips a file already there)."""
    from alembic.script import ScriptDirectory

    from service.store.engine import HEAD_REVISION, make_engine, migrate

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION
    path = tmp_path / "older.db"
    sync = create_engine(f"sqlite:///{path}")
    try:
        with sync.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0008_forms")
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate(engine)
            await migrate(engine)  # at head: nothing to do
        finally:
            await engine.dispose()
        with sync.begin() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == HEAD_REVISION
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        sync.dispose()


async def test_after_a_clean_stop_quick_check_is_skipped_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A graceful stop leaves a marker of the file as closed: the next start skips
    quick_check (seconds on a year's file) and uses the marker up, so a crash after it
    is checked again; a file changed since (here a zeroed page) is checked and moved."""
    config = site_config(tmp_path)
    path = await closed_runtime_file(config)
    marker = path.with_name(path.name + ".clean")
    assert marker.exists()
    caplog.set_level(logging.INFO, logger="service.store.integrity")
    assert check_sqlite_file(path, wait_s=1) is None
    assert "quick_check skipped" in caplog.text and not marker.exists()
    caplog.clear()
    assert check_sqlite_file(path, wait_s=1) is None  # no marker: checked
    assert "quick_check skipped" not in caplog.text
    runtime = Runtime(config, clock=FakeClock(), start_readers=False)
    await runtime.start()
    await runtime.stop()
    assert marker.exists()
    with path.open("r+b") as handle:  # changed after the clean stop
        handle.seek(4096 * 3)
        handle.write(bytes(4096))
    moved = check_sqlite_file(path, wait_s=1)
    assert moved is not None and moved.aside.exists()
