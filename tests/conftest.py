"""Shared fixtures: a site config in a temp folder, PostgreSQL when there is one,
and a guard that fails any async test leaving a task running (aioesphomeapi's habit).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

IN_CI = bool(os.environ.get("CI"))
PG_HOST, PG_PORT = "127.0.0.1", 5432


def need_service(reachable: bool, what: str) -> None:
    """Fail in CI when a service is missing, skip with the reason elsewhere."""
    if reachable:
        return
    if IN_CI:
        pytest.fail(f"{what} is not reachable, and CI must run these tests")
    pytest.skip(f"{what} is not reachable on this machine")


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> AsyncIterator[None]:
    before = set(asyncio.all_tasks())
    yield
    for _ in range(5):
        leaked = [
            t
            for t in asyncio.all_tasks() - before
            if not t.done() and t is not asyncio.current_task()
        ]
        if not leaked:
            return
        await asyncio.sleep(0.01)
    names = ", ".join(sorted(t.get_name() for t in leaked))
    for task in leaked:
        task.cancel()
    pytest.fail(f"test left tasks running: {names}")


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test (dropped afterwards)."""
    need_service(port_open(PG_HOST, PG_PORT), f"PostgreSQL on {PG_HOST}:{PG_PORT}")
    import asyncpg

    name = f"bidroom_t{os.getpid()}_{id(object()) % 100000}"
    admin: Any = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
