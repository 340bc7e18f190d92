"""``bidroom backup`` and ``bidroom restore``: a round trip while the daemon runs and
taps go on (the restored database verifies and holds every tap answered before the
backup started), the refusals (each one line in both languages, exit code 2), and
PostgreSQL's own tools, ``pg_dump`` and ``pg_restore``, as the README describes them."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from service.cli import main
from service.keyfile import KeyFile
from service.privacy import PersonalData
from service.reports.verify import verify_archive
from service.store.backup import serving
from service.store.engine import make_engine
from tests.support.daemon import Daemon, free_port, run_cli
from tests.support.room import DoorStorm, finish, open_room, prepare, stored_taps
from tests.support.site import running_site, site_config

BADGES = 8


def one_line_refusal(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bidroom: ") and " / " in lines[0], err
    return lines[0]


async def test_backup_while_tapping_then_restore(tmp_path: Path) -> None:
    config = await prepare(tmp_path)
    database = tmp_path / "bidroom.db"
    copy = tmp_path / "backups" / "bidroom-2026-11-25.db"
    daemon = Daemon(config, free_port(), tmp_path / "daemon.log")
    try:
        await daemon.start()
        storm = DoorStorm(daemon, await open_room(daemon, BADGES), BADGES, clients=2)
        tasks = storm.start()
        await asyncio.sleep(0.3)
        before = dict(storm.answered)  # answered, so committed, before the backup started
        made = await run_cli(config, "backup", "--to", str(copy))
        during = len(storm.answered) - len(before)
        refused = await run_cli(config, "restore", "--from", str(copy))
        storm.stop.set()
        await finish(tasks)
        assert await daemon.terminate() == 0
    finally:
        await daemon.close()
    assert made.returncode == 0, made.stderr
    assert "backup written" in made.stdout and "key file" in made.stdout
    assert during > 0, "no tap was answered while the backup ran"
    assert refused.returncode == 2
    assert "bidroom serve" in one_line_refusal(refused.stderr)
    assert not copy.with_name(copy.name + "-wal").exists()  # one self-contained file

    restored = await run_cli(config, "restore", "--from", str(copy))
    assert restored.returncode == 0, restored.stderr
    (aside,) = tmp_path.glob("bidroom.db.before-restore-*")
    assert aside.name in restored.stdout
    in_backup = stored_taps(database)
    assert {e: in_backup.get(e) for e in before} == before, "a tap answered before is missing"
    assert set(in_backup) <= set(storm.answered)
    assert set(stored_taps(aside)) == set(storm.answered)  # the old file, whole, kept aside
    verified = await run_cli(config, "archive", "verify")
    assert verified.returncode == 0 and "arsip utuh" in verified.stdout, verified.stdout


def cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_refusals_are_one_line_and_leave_files_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bidroom.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "b.db"}"\n')
    assert cli(capsys, config, "db", "upgrade")[0] == 0
    good = tmp_path / "good.db"
    assert cli(capsys, config, "backup", "--to", str(good))[0] == 0

    code, _, err = cli(capsys, config, "backup", "--to", str(good))
    assert code == 2 and "already exists" in one_line_refusal(err)

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    future = tmp_path / "future.db"
    shutil.copyfile(good, future)
    with sqlite3.connect(future) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    before = (tmp_path / "b.db").read_bytes()
    for source, why in (
        (garbage, "not a SQLite database"),
        (other, "not a bidroom database"),
        (future, "migration 9999 is unknown"),
        (tmp_path / "missing.db", "does not exist"),
    ):
        code, _, err = cli(capsys, config, "restore", "--from", str(source))
        assert code == 2 and why in one_line_refusal(err), err
    with serving(tmp_path / "b.db"):  # a daemon holds the database
        code, _, err = cli(capsys, config, "restore", "--from", str(good))
        assert code == 2 and "stop it first" in one_line_refusal(err)
    assert (tmp_path / "b.db").read_bytes() == before
    assert not list(tmp_path.glob("*.before-restore-*")) and not list(tmp_path.glob(".b.db*"))

    missing = tmp_path / "nowhere" / "pw.txt"  # any file error is one line, exit code 2
    code, _, err = cli(
        capsys, config, "user", "add", "x", "--role", "admin", "--password-file", str(missing)
    )
    assert code == 2 and "No such file" in one_line_refusal(err)

    pg = tmp_path / "pg.toml"
    pg.write_text('[database]\nurl = "postgresql+asyncpg://postgres@127.0.0.1:5432/x"\n')
    assert "pg_dump" in one_line_refusal(cli(capsys, pg, "backup", "--to", "x.db")[2])
    assert "pg_restore" in one_line_refusal(cli(capsys, pg, "restore", "--from", str(good))[2])


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (PostgreSQL's client tools)")
    return found


@pytest.mark.postgres
async def test_pg_dump_and_pg_restore_round_trip(tmp_path: Path, pg_url: str) -> None:
    """What the README tells a technician to run on PostgreSQL."""
    pg_dump, pg_restore = tool("pg_dump"), tool("pg_restore")
    config = site_config(tmp_path, pg_url)
    async with running_site(config) as site:
        for n in range(1, 6):
            await site["fo"].tap("pintu-masuk", n)
    plain = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    dump = tmp_path / "bidroom.dump"
    await run(pg_dump, "--format=custom", f"--file={dump}", plain)
    copy_name = plain.rsplit("/", 1)[1] + "_restored"
    admin: Any = await asyncpg.connect(host="127.0.0.1", user="postgres", database="test")
    await admin.execute(f'CREATE DATABASE "{copy_name}"')
    try:
        copy_url = plain.rsplit("/", 1)[0] + "/" + copy_name
        await run(pg_restore, "--no-owner", f"--dbname={copy_url}", str(dump))
        engine = make_engine(copy_url)
        try:
            personal = PersonalData(KeyFile.open(config.security.key_file))
            assert await verify_archive(engine, personal) == []
            async with engine.connect() as conn:
                count = await conn.scalar(text("SELECT count(*) FROM access_events"))
            assert count == 5
        finally:
            await engine.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{copy_name}" WITH (FORCE)')
        await admin.close()


async def run(*command: str) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )
    assert result.returncode == 0, result.stderr
