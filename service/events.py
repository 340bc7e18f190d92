"""Fan-out of changes to live clients (Server-Sent Events), one queue per client.

A slow client never stalls the others: each has its own bounded queue, and a
client whose queue is full is told to resynchronise instead of being waited on.
Bursts are coalesced: the snapshot is built once per burst, not once per client
or per fact.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_LOGGER = logging.getLogger(__name__)
QUEUE_SIZE = 64


@dataclass(eq=False, slots=True)
class Client:
    channel: str
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


class EventHub:
    """``publish()`` after each commit; each channel renders its payload once per burst."""

    def __init__(self, renderers: dict[str, Callable[[], dict[str, Any]]]) -> None:
        self._renderers = renderers
        self._clients: set[Client] = set()
        self._scheduled = False
        self._kinds: list[str] = []
        self.sequence = 0
        self.closed = False  # the daemon is stopping: every stream ends

    def subscribe(self, channel: str) -> Client:
        if channel not in self._renderers:
            raise KeyError(channel)
        client = Client(channel)
        self._clients.add(client)
        return client

    def close(self) -> None:
        """End every live stream (the daemon stops): each client wakes up and sees ``closed``."""
        self.closed = True
        for client in list(self._clients):
            client.overflowed = False
            while not client.queue.empty():
                client.queue.get_nowait()
            client.queue.put_nowait("")

    def unsubscribe(self, client: Client) -> None:
        self._clients.discard(client)

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def render(self, channel: str) -> dict[str, Any]:
        return self._renderers[channel]()

    def publish(self, kinds: list[str]) -> None:
        self._kinds.extend(kinds)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        kinds, self._kinds = self._kinds, []
        self.sequence += 1
        rendered: dict[str, str] = {}
        for client in list(self._clients):
            if client.channel not in rendered:
                try:
                    body = self._renderers[client.channel]()
                except Exception:
                    _LOGGER.exception("rendering %s failed", client.channel)
                    continue
                body["changes"] = sorted(set(kinds))
                body["sequence"] = self.sequence
                rendered[client.channel] = json.dumps(body, default=str)
            try:
                client.queue.put_nowait(rendered[client.channel])
            except asyncio.QueueFull:
                client.overflowed = True
                _LOGGER.info("SSE client too slow; it will resynchronise")
