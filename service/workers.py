"""CPU-heavy work away from the loop that answers the doors.

A month's books as PDF or XLSX, the visit report, sealing a signed day and a full
``archive verify`` each take from a fraction of a second to seconds of pure-Python
CPU. In a thread they would still hold the GIL against the event loop, so they run
in a separate process (one worker, started on first use and kept): the loop only
awaits its answer. At most :data:`MAX_PENDING` jobs wait at once; one more is
refused at once with "busy, try again" (503 with ``Retry-After``) rather than
queued behind a pile of reports while a tap waits.

Each job is a plain module-level function of picklable arguments (the site's
:class:`~service.config.Config`, dates, strings) that opens its own database
engine in the worker, so nothing of the daemon's state crosses the boundary.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import functools
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from service.errors import Busy
from service.i18n import _

_LOGGER = logging.getLogger(__name__)
MAX_PENDING = 4
P = ParamSpec("P")
T = TypeVar("T")


class Workers:
    """One worker process for the CPU-heavy jobs of this daemon (shared in a process)."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._max = max_pending
        self._pending = 0
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": a fresh interpreter, never a fork of a process with threads and a loop;
            # at the lowest priority, so on a busy machine the doors' loop goes first.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_worker_start,
                initargs=(os.getpid(),),
            )
            atexit.register(self.close)
        return self._pool

    @property
    def pending(self) -> int:
        return self._pending

    async def run(self, job: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``job`` in the worker process; refuse at once when too many wait."""
        if self._pending >= self._max:
            raise Busy(
                _("Server sedang sibuk membuat laporan; coba lagi sebentar lagi."),
                retry_after_s=5,
            )
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor(), _call, job, args, kwargs)
        finally:
            self._pending -= 1

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _call(job: Callable[..., T], args: tuple[object, ...], kwargs: dict[str, object]) -> T:
    return job(*args, **kwargs)


def _worker_start(parent: int) -> None:
    """The worker process: lowest priority, and it ends with the daemon.

    A daemon killed outright (SIGKILL, OOM) runs no shutdown, and its worker would wait
    on its pipe forever (seen after the benches' kills: orphans piling up). Linux sends
    the worker SIGTERM when the daemon dies (``PR_SET_PDEATHSIG``)."""
    _low_priority()
    with contextlib.suppress(AttributeError, OSError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the daemon died before the line above
        os._exit(0)


PR_SET_PDEATHSIG = 1


def _low_priority() -> None:
    """The calling thread (Linux schedules threads one by one) at nice 19."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


# One per process: the daemon has one runtime, and tests that start many reuse it.
WORKERS = Workers()
# Argon2 releases the GIL but not the CPU: one password at a time, at the lowest
# priority, so ten logins at once never starve the loop that answers the doors.
PASSWORDS = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="argon2", initializer=_low_priority
)


async def in_password_thread(job: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(PASSWORDS, functools.partial(job, *args, **kwargs))
