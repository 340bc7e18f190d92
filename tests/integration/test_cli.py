"""The `bidroom` command, as a newcomer runs it: in one folder, every command finds
the same configuration and data, also while the daemon is running."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from service.demo import DEMO_PASSWORD, demo_uid


def bidroom(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=folder,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(url: str, seconds: float = 20) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(int(seconds * 10)):
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.mark.timeout(90)
async def test_demo_folder_shares_data_with_every_command(tmp_path: Path) -> None:
    port = free_port()
    daemon = subprocess.Popen(  # noqa: ASYNC220 - the daemon under test runs beside the loop
        [sys.executable, "-m", "service.cli", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_for(f"{base}/api/v1/openapi.json")
        assert (tmp_path / "bidroom.toml").exists() and (tmp_path / "bidroom.db").exists()
        assert (tmp_path / "bidroom.key").stat().st_mode & 0o777 == 0o600
        # A CLI command in the same folder, while the daemon runs.
        enrolled = bidroom(
            tmp_path, "badge", "enroll", "--uid", "04:11:22:33:44:55:66", "--label", "K-777"
        )
        assert "K-777" in enrolled.stdout
        denied = bidroom(
            tmp_path,
            "simulate",
            "tap",
            "--reader",
            "pintu-masuk",
            "--uid",
            demo_uid(1),
            check=False,
        )
        assert denied.returncode == 3 and "Badge not issued" in denied.stdout
        # An IP-address host: the cookie jar must be told to keep its cookies.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            login = await session.post(
                f"{base}/api/v1/login", json={"username": "frontoffice", "password": DEMO_PASSWORD}
            )
            assert login.status == 200
            labels: list[str] = []
            for _ in range(60):  # the daemon notices the other writer within ~2 s
                async with session.get(f"{base}/api/v1/badges") as response:
                    labels = [b["label"] for b in await response.json()]
                if "K-777" in labels:
                    break
                await asyncio.sleep(0.1)
            assert "K-777" in labels and "K-001" in labels
            async with session.get(f"{base}/api/v1/access-events") as response:
                events = await response.json()
            assert [e["reason"] for e in events] == ["badge_not_issued"]
    finally:
        daemon.send_signal(signal.SIGINT)
        _, err = daemon.communicate(timeout=20)
    assert daemon.returncode == 0, err
    assert "frontoffice" in err and "bidroom-demo" in err and f"127.0.0.1:{port}" in err


def test_init_users_tokens_and_upgrade(tmp_path: Path) -> None:
    init = bidroom(tmp_path, "init", "--password", "rahasia-kantor-1")
    assert "admin" in init.stdout and (tmp_path / "bidroom.toml").exists()
    (tmp_path / "pw").write_text("rahasia-loket-1\n")
    bidroom(
        tmp_path,
        "user",
        "add",
        "rina",
        "--role",
        "front_office",
        "--name",
        "Rina",
        "--password-file",
        "pw",
    )
    listed = bidroom(tmp_path, "user", "list").stdout
    assert "rina" in listed and "front_office" in listed and "admin" in listed
    duplicate = bidroom(
        tmp_path, "user", "add", "rina", "--role", "helpdesk", "--password-file", "pw", check=False
    )
    assert duplicate.returncode == 2 and "sudah ada" in duplicate.stderr
    bidroom(
        tmp_path,
        *("token", "add", "--name", "agent-pc-01", "--reader", "meja-pc-01"),
        *("--output", "agent.token"),
    )
    token = (tmp_path / "agent.token").read_text().strip()
    assert token.startswith("brt_") and (tmp_path / "agent.token").stat().st_mode & 0o077 == 0
    assert "upgraded" in bidroom(tmp_path, "db", "upgrade").stdout
    bad = bidroom(tmp_path, "--config", "missing.toml", "user", "list", check=False)
    assert bad.returncode == 2 and "not found" in bad.stderr
