"""The hand-off between a blocking reader library's worker thread and the event loop.

nfcpy and pyscard block; each reader gets ONE dedicated thread (never a second
event loop). The thread posts taps with ``loop.call_soon_threadsafe`` and waits,
bounded, for the decision so the reader can show it. Shared by devices.nfc and
devices.pcsc.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devices.base import ReaderHealth, ReaderState, TapSubmit
from service.domain.taps import Decision, Tap
from service.logs import redact_uid

_LOGGER = logging.getLogger(__name__)
STOP_TIMEOUT_S = 5.0


@dataclass(slots=True)
class _TapItem:
    tap: Tap
    reply: concurrent.futures.Future[Decision]


OPENED = "opened"
# What a worker posts to the loop: OPENED, a tap, or None when it has ended.
_Event = str | _TapItem | None


class TapBridge:
    """The hand-off between a blocking reader's worker thread and the event loop.

    Made on the loop. The worker calls :meth:`post` (OPENED once the device is
    open) and :meth:`ask` (blocks until the decision, bounded); :func:`run_worker`
    serves both on the loop. Shared by every adapter of a blocking library.
    """

    def __init__(self, name: str, decision_timeout_s: float) -> None:
        self.name = name
        self.stopped = threading.Event()
        self._timeout = decision_timeout_s
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[_Event] = asyncio.Queue()
        self._reply: concurrent.futures.Future[Decision] | None = None

    def stop(self) -> None:
        """On the loop: tell the worker to end and stop waiting for a decision."""
        self.stopped.set()
        reply = self._reply
        if reply is not None:
            reply.cancel()

    def post(self, event: _Event) -> None:
        with contextlib.suppress(RuntimeError):  # loop already closed
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    def ask(self, tap: Tap) -> Decision | None:
        """In the worker: submit ``tap`` on the loop, wait for the decision (or None)."""
        reply: concurrent.futures.Future[Decision] = concurrent.futures.Future()
        self._reply = reply  # set before checking `stopped`: stop() sets it, then cancels
        if self.stopped.is_set():
            return None
        self.post(_TapItem(tap, reply))
        try:
            return reply.result(timeout=self._timeout)
        except TimeoutError:
            _LOGGER.warning(
                "%s: no decision for badge %s within %.1f s; no feedback shown",
                self.name,
                redact_uid(tap.uid),
                self._timeout,
            )
        except concurrent.futures.CancelledError:
            _LOGGER.debug("%s: stopped while waiting for a decision", self.name)
        except Exception as exc:  # submit failed; the loop side logged it
            _LOGGER.warning("%s: badge %s not decided: %s", self.name, redact_uid(tap.uid), exc)
        finally:
            self._reply = None
        return None

    async def serve(
        self, worker: asyncio.Future[None], submit: TapSubmit, health: ReaderHealth
    ) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                await worker  # raises the worker's DeviceError
                return
            if item == OPENED:
                health.set_state(ReaderState.ONLINE)
            elif isinstance(item, _TapItem):
                health.seen()
                await self._decide(item, submit)

    async def _decide(self, item: _TapItem, submit: TapSubmit) -> None:
        try:
            decision = await submit(item.tap)
        except Exception as exc:  # the reader must survive a failing submit
            _LOGGER.exception("%s: tap %s not decided", self.name, item.tap.event_id)
            if not item.reply.done():
                item.reply.set_exception(exc)
            return
        if not item.reply.done():
            item.reply.set_result(decision)


async def run_worker(
    bridge: TapBridge, work: Callable[[], None], submit: TapSubmit, health: ReaderHealth
) -> None:
    """Run ``work`` in ONE dedicated thread, serve its taps; stop it when cancelled."""
    loop = asyncio.get_running_loop()
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"reader-{bridge.name}")

    def guarded() -> None:
        try:
            work()
        finally:
            bridge.post(None)

    worker = loop.run_in_executor(executor, guarded)
    try:
        await bridge.serve(worker, submit, health)
    finally:
        bridge.stop()
        await join_worker(worker, executor, bridge.name)


async def join_worker(
    job: asyncio.Future[Any], executor: concurrent.futures.ThreadPoolExecutor, name: str
) -> None:
    """Wait (bounded) for the worker thread to finish, then let its thread go."""
    done, _ = await asyncio.wait({job}, timeout=STOP_TIMEOUT_S)
    if not done:
        _LOGGER.error("%s: worker thread did not stop within %.0f s", name, STOP_TIMEOUT_S)
    executor.shutdown(wait=bool(done))  # an idle thread ends at once
