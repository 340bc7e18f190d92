"""Structured one-line logs to stderr (journald adds time and unit), and the one way a
badge UID is shortened wherever it is logged or shown."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
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


class _MalformedRequest(logging.Filter):
    """aiohttp logs a request it cannot parse (a NUL in a header, a broken request
    line) at ERROR with its traceback, after answering it 400 itself. It is the
    client's mistake, not ours: one WARNING line naming it, without the trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and type(error).__name__ in ("BadHttpMessage", "BadStatusLine"):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "malformed request refused (400): %s", (error,)
            record.exc_info = record.exc_text = None
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name, floor in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(floor)
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _MalformedRequest) for f in server.filters):
        server.addFilter(_MalformedRequest())


_LISTENERS: list[logging.handlers.QueueListener] = []  # the one log thread, when started


class _LineQueue(logging.handlers.QueueHandler):
    """Queues a record with its message merged (later changes to its arguments do not
    show), and leaves the rest of the formatting (the time, a traceback's text) to the
    log thread: the stock ``prepare`` formats the whole line on the loop, once per tap."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.msg = record.getMessage()
        record.args = None
        return record


def log_off_the_loop() -> None:
    """The daemon's log lines are written by a thread of their own, not by the event loop.

    A line's ``write()`` to stderr is a system call that can block for milliseconds (a
    log file on a disk busy with the taps' fsyncs, journald's pipe full), and the loop
    that answers the doors logs one line per tap. The loop now only queues the record
    (its message already formatted, so later changes to its arguments do not show);
    one thread writes the lines, in order, with the handlers :func:`setup_logging` set.
    Everything queued is written at exit (``atexit``), and :func:`flush_logs` waits for it.
    """
    if _LISTENERS:
        return
    root = logging.getLogger()
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(lines, *root.handlers, respect_handler_level=True)
    root.handlers[:] = [_LineQueue(lines)]
    listener.start()
    _LISTENERS.append(listener)
    atexit.register(flush_logs)


def flush_logs() -> None:
    """Write every queued line and stop the log thread (handlers go back to the root)."""
    if not _LISTENERS:
        return
    listener = _LISTENERS.pop()
    listener.stop()
    logging.getLogger().handlers[:] = list(listener.handlers)


def uid_tail(uid: str) -> str:
    """The last four hex digits of a badge UID: enough to tell badges apart on a page.

    A UID of four characters or fewer has no tail to show without showing it whole.
    """
    return uid[-UID_TAIL:] if len(uid) > UID_TAIL else ""


def redact_uid(uid: str) -> str:
    """A badge UID as logs at INFO and above carry it: ``04A1B2C3D4E5F6`` -> ``…E5F6``."""
    return "…" + uid_tail(uid)
