"""Structured one-line logs to stderr (journald adds time and unit), and the one way a
badge UID is shortened wherever it is logged or shown."""

from __future__ import annotations

import logging
import sys

UID_TAIL = 4
# Libraries held above the daemon's level. aiosqlite logs every call with its
# arguments at DEBUG, statement parameters included, so even --log-level DEBUG
# keeps it at INFO.
LIBRARY_LEVELS = {
    "aiohttp.access": logging.WARNING,
    "alembic": logging.WARNING,
    "aiosqlite": logging.INFO,
}


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        return message.replace("\n", " | ")


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name, floor in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(floor)


def uid_tail(uid: str) -> str:
    """The last four hex digits of a badge UID: enough to tell badges apart on a page.

    A UID of four characters or fewer has no tail to show without showing it whole.
    """
    return uid[-UID_TAIL:] if len(uid) > UID_TAIL else ""


def redact_uid(uid: str) -> str:
    """A badge UID as logs at INFO and above carry it: ``04A1B2C3D4E5F6`` -> ``…E5F6``."""
    return "…" + uid_tail(uid)
