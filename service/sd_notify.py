"""systemd's service notification protocol (``sd_notify(3)``), in the few lines it takes.

systemd passes a datagram socket in ``NOTIFY_SOCKET`` (a path, or ``@name`` for
Linux's abstract namespace) and, with ``WatchdogSec=``, the watchdog period in
``WATCHDOG_USEC`` (for the process ``WATCHDOG_PID``). The service sends
newline-separated ``KEY=VALUE`` assignments as one datagram: ``READY=1``,
``STOPPING=1``, ``WATCHDOG=1``, ``STATUS=<one line>``. systemd documents this
protocol as stable and meant to be reimplemented; ``systemd-python`` would need
libsystemd's headers and a compiler on the box, and ``sdnotify`` has had no
release since 2017.

Without ``NOTIFY_SOCKET`` (a terminal, the tests, ``make demo``) every call does
nothing. A send never blocks and never raises: the daemon must not stop because
its service manager is slow or gone.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

_LOGGER = logging.getLogger(__name__)
# systemd shows STATUS= in `systemctl status`; a long line is of no use to anyone.
STATUS_CHARS = 400


def _address(value: str) -> str | bytes | None:
    """``NOTIFY_SOCKET`` as a socket address: a path, or ``@name`` -> abstract ``\\0name``."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock:… and other schemes are not used by systemd on a Debian box


def one_line(text: str) -> str:
    """A STATUS value: one line, bounded (systemd shows it as it is)."""
    return " ".join(text.split())[:STATUS_CHARS]


class Notifier:
    """Talks to the service manager, or to nobody when there is none."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = _address(env.get("NOTIFY_SOCKET", ""))
        self._sock: socket.socket | None = None
        if self._address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)
        self.watchdog_s = _watchdog_s(env)
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, **fields: str) -> bool:
        """One datagram of ``KEY=VALUE`` lines; ``False`` when it could not be sent."""
        if self._sock is None or self._address is None:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items())
        try:
            self._sock.sendto(message.encode(), self._address)
        except OSError as exc:  # full queue, manager gone: say so once, never raise
            if not self._warned:
                self._warned = True
                _LOGGER.warning("cannot notify the service manager: %s", exc)
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send(READY="1", STATUS=one_line(status))

    def status(self, status: str) -> bool:
        return self.send(STATUS=one_line(status))

    def watchdog(self) -> bool:
        return self.send(WATCHDOG="1")

    def stopping(self, status: str) -> bool:
        return self.send(STOPPING="1", STATUS=one_line(status))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_s(env: Mapping[str, str]) -> float | None:
    """The watchdog period in seconds when it is meant for this process, else None."""
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None
