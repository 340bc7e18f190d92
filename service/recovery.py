"""The database back after an outage: taps resume, spooled exits recorded, banner gone.

While the writer finds the database unavailable (see :mod:`service.intake`), entries
are refused and exits spooled. This loop, one per daemon, tries the database twice a
second: spooled exits are recorded through the one tap path first (their commit is
the proof it is back); with nothing spooled a probe write (``BEGIN IMMEDIATE`` on
SQLite, a read-only check on PostgreSQL) decides. Every change of availability is
published, so the boards' banner comes and goes within a second.
"""

from __future__ import annotations

import asyncio
import logging

from service.events import EventHub
from service.intake import TapIntake
from service.spool import ExitSpool
from service.store.engine import write_problem
from service.store.writer import Writer

_LOGGER = logging.getLogger(__name__)
# How often a database found unavailable is tried again.
RECOVER_S = 0.5


async def recover_database(
    intake: TapIntake, writer: Writer, spool: ExitSpool, database_url: str, hub: EventHub
) -> None:
    shown = True  # what the boards last heard: the database available
    while True:
        try:
            if spool.count:
                await intake.drain()
            elif writer.unavailable_since is not None:
                problem = await write_problem(writer.engine, database_url, RECOVER_S)
                if problem is None:
                    writer.mark_available()
            available = writer.unavailable_since is None
            if available is not shown:
                shown = available
                hub.publish([])
        except Exception:
            _LOGGER.exception("database recovery check failed")
        await asyncio.sleep(RECOVER_S)
