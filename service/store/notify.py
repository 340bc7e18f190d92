"""PostgreSQL: hear other daemons' commits (each sends ``NOTIFY bidroom_journal``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

_LOGGER = logging.getLogger(__name__)
CHANNEL = "bidroom_journal"
RECONNECT_S = 5.0


async def listen_for_commits(url: URL, on_commit: Callable[[], Awaitable[None]]) -> None:
    """Call ``on_commit`` after each notification, reconnecting until cancelled."""
    wake = asyncio.Event()

    def notified(*_args: Any) -> None:
        wake.set()

    while True:
        try:
            conn = await asyncpg.connect(
                user=url.username,
                password=url.password,
                host=url.host,
                port=url.port or 5432,
                database=url.database,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            _LOGGER.warning("LISTEN connection failed (%s); polling only for now", exc)
            await asyncio.sleep(RECONNECT_S)
            continue
        try:
            await conn.add_listener(CHANNEL, notified)
            while not conn.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), RECONNECT_S)
                if wake.is_set():
                    wake.clear()
                    try:
                        await on_commit()
                    except Exception:  # the database away meanwhile: the next one retries
                        _LOGGER.warning("could not pick up another daemon's commit yet")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _LOGGER.warning("LISTEN connection lost (%s); reconnecting", exc)
        finally:
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await conn.close(timeout=1)
