"""``bidroom user`` and ``bidroom token`` as a technician runs them on the server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from service import throttle
from service.config import SecurityConfig, load_config
from service.store.engine import make_engine
from tests.integration.test_cli import bidroom


def lock_account(folder: Path, username: str) -> None:
    """Ten failed logins of ``username``, as the daemon would count them."""

    async def fail() -> None:
        engine = make_engine(load_config(folder / "bidroom.toml").database_url)
        limits = SecurityConfig(login_delay_after=100)
        counted = throttle.subjects(limits, username, "10.0.0.7", None)
        try:
            for _ in range(limits.login_lockout_after):
                await throttle.admit(engine, counted, datetime.now(UTC), limits)
                await throttle.failed(engine, counted, datetime.now(UTC))
        finally:
            await engine.dispose()

    asyncio.run(fail())


def test_tokens_are_made_for_readers_listed_and_revoked(tmp_path: Path) -> None:
    bidroom(tmp_path, "init", "--password", "rahasia-kantor-1")
    no_reader = bidroom(tmp_path, "token", "add", "--name", "agent-pc-01", check=False)
    assert no_reader.returncode == 2 and "pembaca" in no_reader.stderr
    unknown = bidroom(
        tmp_path, "token", "add", "--name", "agent-pc-01", "--reader", "nope", check=False
    )
    assert unknown.returncode == 2 and "nope" in unknown.stderr
    made = bidroom(
        tmp_path,
        *("token", "add", "--name", "agent-pc-01"),
        *("--reader", "meja-pc-01", "--reader", "pintu-masuk"),
    )
    secret = made.stdout.strip()
    listed = bidroom(tmp_path, "token", "list").stdout
    assert "agent-pc-01" in listed and "meja-pc-01,pintu-masuk" in listed
    assert secret not in listed and "berlaku" in listed
    bidroom(tmp_path, "token", "revoke", "agent-pc-01")
    assert "dicabut" in bidroom(tmp_path, "token", "list").stdout
    again = bidroom(tmp_path, "token", "revoke", "agent-pc-01", check=False)
    assert again.returncode == 2 and "agent-pc-01" in again.stderr


def test_accounts_are_disabled_reset_given_a_role_and_unlocked(tmp_path: Path) -> None:
    bidroom(tmp_path, "init", "--password", "rahasia-kantor-1")
    (tmp_path / "pw").write_text("rahasia-loket-1\n")
    bidroom(tmp_path, "user", "add", "rina", "--role", "front_office", "--password-file", "pw")
    (tmp_path / "weak").write_text("password\n")
    weak = bidroom(tmp_path, "user", "password", "rina", "--password-file", "weak", check=False)
    assert weak.returncode == 2 and "12" in weak.stderr
    (tmp_path / "new").write_text("sandi loket yang baru\n")
    bidroom(tmp_path, "user", "password", "rina", "--password-file", "new")
    bidroom(tmp_path, "user", "role", "rina", "helpdesk")
    bidroom(tmp_path, "user", "disable", "rina")
    assert (
        "rina                 helpdesk       nonaktif" in bidroom(tmp_path, "user", "list").stdout
    )
    bidroom(tmp_path, "user", "enable", "rina")
    last = bidroom(tmp_path, "user", "disable", "admin", check=False)
    assert last.returncode == 2 and "terakhir" in last.stderr
    lock_account(tmp_path, "admin")
    assert "terkunci / locked" in bidroom(tmp_path, "user", "list").stdout
    assert "TERKUNCI" in bidroom(tmp_path, "user", "locks").stdout
    assert "1 kunci" in bidroom(tmp_path, "user", "unlock", "admin").stdout
    assert "terkunci" not in bidroom(tmp_path, "user", "list").stdout
