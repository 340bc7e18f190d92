"""Networked readers on ESP32-class boards, talking MQTT through one broker.

Reader URL: ``mqtt://127.0.0.1:1883/bidroom/readers/meja-01`` (or ``mqtts://``).
The path's last segment is the board's id, the rest is the topic *base*. One
adapter (one broker connection) serves every reader on the same broker; reader
options ``username``, ``password``, ``client_id``, ``ca_file`` (mqtts) and
``persistent_session`` (default true) apply to the connection and are read from
the first reader of that broker.

Topic contract (``<base>/<id>``, e.g. ``bidroom/readers/meja-01``):

``<base>/<id>/tap`` — board → bidroom, QoS 1, not retained::

    {"uid": "04A23B11223344", "event_id": "meja-01-000123",
     "at": "2026-11-25T03:05:00+00:00", "token": null}

  ``event_id`` (1-64 characters, unique per tap, reused when the board resends)
  is required; ``at`` (ISO 8601 with offset) and ``token`` (the badge's signed
  NDEF token) are optional. A malformed payload is logged and ignored. A board
  that gets no decision within a few seconds resends the same payload (same
  ``event_id``): bidroom answers a replay with the first decision.

``<base>/<id>/decision`` — bidroom → board, QoS 1, not retained::

    {"event_id": "meja-01-000123", "granted": true, "reason": "usage_started",
     "message": "Penggunaan fasilitas dimulai", "led": "green", "beeps": 1,
     "open_door_s": 0.0}

``<base>/<id>/status`` — board → bidroom, retained: ``online`` when the board
connects, ``offline`` as its MQTT last will. Reader health follows it (ONLINE /
BACKOFF); a reader that never published a status turns ONLINE at its first tap.

bidroom keeps a persistent MQTT session (fixed client id, clean session off), so
taps a board publishes while the daemon restarts are delivered when it is back,
each with its own ``at``. Losing the broker raises :class:`DeviceError` and the
supervisor reconnects.

Latency: bidroom sets TCP_NODELAY on its connection. Mosquitto does not by
default, and Nagle's algorithm then holds each tap ~40 ms in the broker; set
``set_tcp_nodelay true`` in ``mosquitto.conf`` (and TCP_NODELAY in the board's
firmware) for a sub-millisecond tap -> decision path on the LAN.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiomqtt

from devices.base import DeviceError, ReaderAdapter, ReaderHealth, ReaderState, TapSubmit
from devices.context import DeviceContext
from service.config import ReaderConfig
from service.domain.taps import Decision, InvalidTap, Tap
from service.logs import redact_uid

_LOGGER = logging.getLogger(__name__)

QUEUE_PER_READER = 100


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    ca_file: str | None = None
    persistent: bool = True


@dataclass(frozen=True, slots=True)
class Board:
    reader: str  # configured reader name
    topic: str  # <base>/<id>


def parse_url(reader: ReaderConfig) -> tuple[Broker, Board]:
    parts = urlsplit(reader.url)
    path = parts.path.strip("/")
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or "/" not in path:
        raise DeviceError(f"{reader.name}: MQTT URL must be mqtt://HOST:PORT/BASE/ID")
    if any(c in path for c in "+#"):
        raise DeviceError(f"{reader.name}: MQTT topic may not contain wildcards")
    opts = reader.options
    broker = Broker(
        host=parts.hostname,
        port=parts.port or (8883 if parts.scheme == "mqtts" else 1883),
        tls=parts.scheme == "mqtts",
        username=opts.get("username"),
        password=opts.get("password"),
        client_id=opts.get("client_id"),
        ca_file=opts.get("ca_file"),
        persistent=bool(opts.get("persistent_session", True)),
    )
    return broker, Board(reader.name, path)


def parse_tap(board: Board, payload: bytes) -> Tap:
    """A tap payload from a board; raises ValueError/InvalidTap on anything malformed."""
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("tap payload must be a JSON object")
    uid, event_id = data.get("uid"), data.get("event_id")
    if not isinstance(uid, str) or not isinstance(event_id, str):
        raise ValueError("tap needs string uid and event_id")
    raw_at, token = data.get("at"), data.get("token")
    at = datetime.fromisoformat(raw_at) if isinstance(raw_at, str) else datetime.now(UTC)
    if at.tzinfo is None:
        raise InvalidTap("tap time needs a UTC offset")
    if token is not None and not isinstance(token, str):
        raise ValueError("token must be a string")
    return Tap(board.reader, uid, at.astimezone(UTC), event_id, token)


def decision_payload(event_id: str, decision: Decision) -> bytes:
    fb = decision.feedback
    return json.dumps(
        {
            "event_id": event_id,
            "granted": decision.granted,
            "reason": decision.reason.value,
            "message": decision.message,
            "led": fb.led.value,
            "beeps": fb.beeps,
            "open_door_s": fb.open_door_s,
        }
    ).encode()


class MqttReaders:
    """One broker connection serving every MQTT reader on it."""

    def __init__(self, broker: Broker, boards: Sequence[Board]) -> None:
        self.broker = broker
        self.boards = {b.topic: b for b in boards}
        self.readers: tuple[str, ...] = tuple(b.reader for b in boards)
        self.name = f"mqtt://{broker.host}:{broker.port}"
        digest = hashlib.sha256(",".join(sorted(self.boards)).encode()).hexdigest()[:10]
        self.client_id = broker.client_id or f"bidroom-{socket.gethostname()}-{digest}"

    def _client(self) -> aiomqtt.Client:
        tls: ssl.SSLContext | None = None
        if self.broker.tls:
            tls = ssl.create_default_context(cafile=self.broker.ca_file)
        return aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            username=self.broker.username,
            password=self.broker.password,
            identifier=self.client_id,
            clean_session=not self.broker.persistent,
            keepalive=30,
            timeout=10,
            tls_context=tls,
            # A decision is one small packet: send it now, not after Nagle's 40 ms.
            socket_options=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
        )

    async def run(self, submit: TapSubmit, health: Mapping[str, ReaderHealth]) -> None:
        try:
            async with self._client() as client:
                for topic in self.boards:
                    await client.subscribe(f"{topic}/tap", qos=1)
                    await client.subscribe(f"{topic}/status", qos=1)
                _raise_if_cancelling()
                _LOGGER.info("%s: connected, %d reader(s)", self.name, len(self.boards))
                await self._serve(client, submit, health)
        except aiomqtt.MqttError as exc:
            raise DeviceError(f"MQTT broker: {exc}") from exc

    async def _serve(
        self, client: aiomqtt.Client, submit: TapSubmit, health: Mapping[str, ReaderHealth]
    ) -> None:
        queues = {t: asyncio.Queue[Tap](QUEUE_PER_READER) for t in self.boards}
        workers = [
            asyncio.create_task(
                self._worker(client, self.boards[t], q, submit, health[self.boards[t].reader]),
                name=f"mqtt-reader:{self.boards[t].reader}",
            )
            for t, q in queues.items()
        ]
        try:
            async for message in client.messages:
                watcher = next((w for w in workers if w.done()), None)
                if watcher is not None:
                    watcher.result()  # a worker lost the broker: surface its error
                self._dispatch(message.topic.value, message.payload, queues, health)
        finally:
            for w in workers:
                w.cancel()
            for w in workers:
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await w
        raise DeviceError("MQTT broker connection closed")

    def _dispatch(
        self,
        topic: str,
        payload: Any,
        queues: Mapping[str, asyncio.Queue[Tap]],
        health: Mapping[str, ReaderHealth],
    ) -> None:
        base, _, leaf = topic.rpartition("/")
        board = self.boards.get(base)
        if board is None or not isinstance(payload, bytes | bytearray):
            return
        h = health[board.reader]
        if leaf == "status":
            self._status(board, bytes(payload), h)
            return
        try:
            tap = parse_tap(board, bytes(payload))
        except (ValueError, InvalidTap) as exc:
            _LOGGER.warning("%s: ignored malformed tap payload: %s", board.reader, exc)
            return
        if h.state is not ReaderState.ONLINE:
            h.set_state(ReaderState.ONLINE)
        h.seen()
        try:
            queues[board.topic].put_nowait(tap)
        except asyncio.QueueFull:
            _LOGGER.warning("%s: too many taps waiting, dropped %s", board.reader, tap.event_id)

    def _status(self, board: Board, payload: bytes, h: ReaderHealth) -> None:
        status = payload.decode(errors="replace").strip().lower()
        if status == "online":
            h.set_state(ReaderState.ONLINE)
            _LOGGER.info("%s: board online", board.reader)
        elif status == "offline":
            h.set_state(ReaderState.BACKOFF, "reader offline (MQTT last will)")
            _LOGGER.warning("%s: board offline", board.reader)
        else:
            _LOGGER.warning("%s: ignored status %r", board.reader, status[:32])

    async def _worker(
        self,
        client: aiomqtt.Client,
        board: Board,
        queue: asyncio.Queue[Tap],
        submit: TapSubmit,
        health: ReaderHealth,
    ) -> None:
        """Taps of one board, in order: submit, then publish the decision."""
        while True:
            tap = await queue.get()
            try:
                decision = await submit(tap)
            except Exception:  # the next tap must still be served
                _LOGGER.exception("%s: tap %s could not be decided", board.reader, tap.event_id)
                continue
            _LOGGER.debug(
                "%s: badge %s -> %s (%s)",
                board.reader,
                redact_uid(tap.uid),
                "granted" if decision.granted else "denied",
                decision.reason.value,
            )
            await client.publish(
                f"{board.topic}/decision", decision_payload(tap.event_id, decision), qos=1
            )
            _raise_if_cancelling()
            health.seen()


def _raise_if_cancelling() -> None:
    """Re-raise a cancellation that aiomqtt's ``asyncio.wait_for`` swallowed.

    On Python 3.11, ``wait_for`` drops a cancel that arrives as the awaited
    future completes (gh-86296); the task would then wait forever for a tap.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def build(readers: Sequence[ReaderConfig], ctx: DeviceContext) -> list[ReaderAdapter]:
    """One adapter per broker connection (host, port, TLS, credentials)."""
    groups: dict[tuple[str, int, bool, str | None], tuple[Broker, list[Board]]] = {}
    for reader in readers:
        broker, board = parse_url(reader)
        key = (broker.host, broker.port, broker.tls, broker.username)
        groups.setdefault(key, (broker, []))[1].append(board)
    return [MqttReaders(broker, boards) for broker, boards in groups.values()]
