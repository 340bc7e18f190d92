"""``bidroom serve`` under a service manager: ready, watchdog, status, graceful stop.

The life of the daemon, as systemd (``Type=notify``) sees it:

1. ``STATUS=`` starting; the application starts: the database is checked and
   migrated, the state loaded, the writer and the readers started (the runtime's
   ``cleanup_ctx``), then the HTTP site listens;
2. ``READY=1`` only then: the API answers from that moment;
3. a heartbeat every quarter of ``WatchdogSec=`` runs a no-op rule through the
   single writer with a deadline of half of it, and only when the writer has
   answered sends ``WATCHDOG=1`` (with a fresh ``STATUS=`` line). A stuck event
   loop sends nothing, and neither does a loop whose writer is stuck: systemd kills
   the daemon with SIGABRT after ``WatchdogSec=`` (``faulthandler`` writes every
   thread's stack to the journal first) and ``Restart=on-failure`` starts it again;
4. SIGTERM (``systemctl stop``) or SIGINT: ``STOPPING=1``; the listening socket
   closes; new taps are refused with 503 and live streams end; requests in flight
   finish; the writer commits what it was given; the readers close; exit code 0.

Without a service manager (a terminal, ``make demo``) the same happens, silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import gc
import logging
import signal
import time

from aiohttp import web

from service import health
from service.api.app import RUNTIME
from service.config import Config
from service.errors import BidroomError
from service.i18n import _
from service.logs import flush_logs, log_off_the_loop
from service.runtime import Runtime
from service.sd_notify import Notifier
from service.store.backup import serving
from service.store.engine import sqlite_path

_LOGGER = logging.getLogger(__name__)
# How long requests in flight may take to finish at stop before they are cancelled.
SHUTDOWN_S = 5.0
# Without a watchdog, the STATUS= line is refreshed this often.
STATUS_EVERY_S = 10.0


class Heartbeat:
    """Proves to systemd that the event loop and the single writer both still work."""

    def __init__(self, runtime: Runtime, notifier: Notifier) -> None:
        self._runtime = runtime
        self._notifier = notifier
        period = notifier.watchdog_s
        self.every_s = period / 4 if period else STATUS_EVERY_S
        self.deadline_s = period / 2 if period else STATUS_EVERY_S / 2
        self._stuck_since: float | None = None

    async def writer_answers(self) -> bool:
        """A no-op rule through the writer within the deadline (an error is an answer too)."""
        with contextlib.suppress(BidroomError):
            try:
                await asyncio.wait_for(self._runtime.execute(lambda tx: None), self.deadline_s)
            except TimeoutError:
                return False
        return True

    async def beat(self) -> bool:
        alive = await self.writer_answers()
        problems = []
        if alive:
            if self._stuck_since is not None:
                _LOGGER.warning("the writer answers again")
            self._stuck_since = None
            if self._notifier.watchdog_s:
                self._notifier.watchdog()
        else:
            now = time.monotonic()
            if self._stuck_since is None:
                self._stuck_since = now - self.deadline_s
            stuck = now - self._stuck_since
            _LOGGER.error("the writer has not answered for %.0f s; no watchdog ping", stuck)
            problems.append(f"penulis tidak menjawab / writer not answering {stuck:.0f} s")
        self._notifier.status(health.status_line(self._runtime, problems))
        return alive

    async def run(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception:  # the heartbeat must go on; a bug here is logged
                _LOGGER.exception("heartbeat failed")
            await asyncio.sleep(self.every_s)


async def _listen(runner: web.AppRunner, host: str, port: int) -> None:
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:  # the port is taken, the address is not this machine's
        reason = exc.strerror or str(exc)
        raise BidroomError(
            _(
                "Tidak dapat menerima koneksi di {host}:{port}: {reason} (server.host, server.port)",
                host=host,
                port=port,
                reason=reason,
            ),
        ) from exc


async def serve(app: web.Application, config: Config, host: str, port: int) -> int:
    """Run the application until SIGTERM or SIGINT; 0 after a graceful stop."""
    notifier = Notifier()
    # When the watchdog fires, systemd sends SIGABRT: the stacks of every thread go to
    # stderr (the journal) first, so the log shows where the writer or the loop was stuck.
    faulthandler.enable()
    log_off_the_loop()  # one line per tap: never a blocking write() on the loop
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(
        app, access_log=None, handler_cancellation=True, shutdown_timeout=SHUTDOWN_S
    )
    heartbeat: asyncio.Task[None] | None = None
    try:
        with serving(sqlite_path(config.database_url)):
            notifier.status(
                "mulai: memeriksa basis data, migrasi, memuat data, pembaca / "
                "starting: database check, migrations, state, readers"
            )
            try:
                await runner.setup()  # the runtime starts: migrations, state, writer, readers
                settle_memory()
                await _listen(runner, host, port)
                runtime = app[RUNTIME]
                beat = Heartbeat(runtime, notifier)
                notifier.ready(health.status_line(runtime, []))
                _LOGGER.info(
                    "ready on %s:%s%s",
                    host,
                    port,
                    f" (watchdog {notifier.watchdog_s:g} s)" if notifier.watchdog_s else "",
                )
                heartbeat = asyncio.create_task(beat.run(), name="heartbeat")
                await stop.wait()
                _LOGGER.info("stopping: no new taps, finishing what is in flight")
                notifier.stopping(
                    "berhenti: menyelesaikan transaksi, menutup pembaca / "
                    "stopping: finishing transactions, closing readers"
                )
            finally:
                if heartbeat is not None:
                    heartbeat.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await heartbeat
                await runner.cleanup()  # sockets, in-flight requests, drain, readers, database
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        notifier.close()
    _LOGGER.info("stopped")
    flush_logs()
    return 0


def settle_memory() -> None:
    """After the start (modules, migrations, the loaded state): move every object alive
    now out of the garbage collector's sight (``gc.freeze``).

    They live as long as the daemon, and a full collection would otherwise walk them all
    on the loop that answers the doors (a month's state: 100-230 ms, measured in the
    daemon); objects freed later by their reference count still are, and only cyclic
    garbage among what was frozen is never collected.
    """
    gc.collect()
    gc.freeze()
    _LOGGER.debug("gc: %d objects frozen after the start", gc.get_freeze_count())
