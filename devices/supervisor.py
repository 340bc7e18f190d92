"""Keeps every reader adapter running: reconnect with backoff, never crash the daemon.

Modelled on aioesphomeapi's ``reconnect_logic``: the device class knows how to
talk to its hardware; this class knows when to try again. The state of each
reader (see :class:`~devices.base.ReaderState`) is what the status page shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from devices.base import DeviceError, ReaderAdapter, ReaderHealth, ReaderState, TapSubmit

_LOGGER = logging.getLogger(__name__)

MIN_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0


class Supervisor:
    """Runs one adapter under supervision until :meth:`stop`."""

    def __init__(
        self,
        adapter: ReaderAdapter,
        submit: TapSubmit,
        health: dict[str, ReaderHealth],
        *,
        min_backoff_s: float = MIN_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        self.adapter = adapter
        self._submit = submit
        self.health = {
            name: health.setdefault(name, ReaderHealth(name)) for name in adapter.readers
        }
        self._min = min_backoff_s
        self._max = max_backoff_s
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"reader:{self.adapter.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_all(ReaderState.STOPPED)

    def _set_all(self, state: ReaderState, error: str | None = None) -> None:
        for h in self.health.values():
            h.set_state(state, error)

    async def _loop(self) -> None:
        delay = self._min
        while True:
            self._set_all(ReaderState.CONNECTING)
            try:
                await self.adapter.run(self._submit, self.health)
                error = "device closed"
            except DeviceError as exc:
                error = str(exc) or type(exc).__name__
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in an adapter must not stop the others
                _LOGGER.exception("%s: adapter crashed", self.adapter.name)
                error = f"{type(exc).__name__}: {exc}"
            was_online = any(h.state is ReaderState.ONLINE for h in self.health.values())
            for h in self.health.values():
                h.failures += 1
            self._set_all(ReaderState.BACKOFF, error)
            if was_online:
                delay = self._min
            _LOGGER.warning("%s: offline (%s); retrying in %.1f s", self.adapter.name, error, delay)
            await asyncio.sleep(delay * (0.8 + 0.4 * self._rng.random()))
            delay = min(self._max, delay * 2)
