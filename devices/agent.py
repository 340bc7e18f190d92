"""The remote reader agent: a workstation's USB reader, sending its taps to the daemon.

``bidroom agent --reader URL --server URL --token FILE --name READER [--outbox FILE]``
runs :func:`run_agent` on a PC with a local reader (any URL the registry knows:
``nfc:usb:...``, ``serial:///dev/ttyUSB0``, ``pcsc:...``, ``sim:``). The local
adapter runs under the usual :class:`~devices.supervisor.Supervisor`, with this
module's ``submit``:

1. the tap (its own ``event_id`` and the time the card was seen) is written to a
   local SQLite outbox first (:mod:`devices.outbox`), so a crash or power cut
   after the card beeped loses nothing;
2. one sender task posts the outbox to ``POST /api/v1/taps`` strictly in order,
   one at a time, with backoff while the daemon is unreachable. A replay carries
   the same ``event_id`` and original time, and the daemon answers it with the
   first decision, so a response lost on the way changes nothing;
3. the local reader gets the daemon's decision when it arrives within
   ``answer_timeout_s``; otherwise an amber "offline, tap stored" feedback.

HTTP 200 marks a row sent. Any other 4xx (401 bad token, 404 unknown reader, 422
malformed) is final: logged, the row is kept marked ``failed`` and never retried.
408, 429, 5xx and connection errors keep the row pending. A heartbeat
``POST /api/v1/readers/{name}/heartbeat`` every 20 s keeps the reader online on
the status page and wakes the sender as soon as the daemon is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from devices.base import ReaderHealth
from devices.context import DeviceContext
from devices.outbox import Outbox, OutboxRow
from devices.registry import build_adapters
from devices.supervisor import Supervisor
from service.config import ReaderConfig
from service.domain.taps import DENY, Decision, Feedback, Led, ReaderRole, Reason, Tap
from service.keyfile import KeyFile
from service.logs import redact_uid

_LOGGER = logging.getLogger(__name__)

OFFLINE_FEEDBACK = Feedback(Led.AMBER, beeps=2)
# "offline, tap stored" — Reason.OFFLINE_STORED once the domain defines it.
_OFFLINE_REASON: Reason = getattr(Reason, "OFFLINE_STORED", Reason.UNKNOWN_READER)
_RETRYABLE_4XX = (408, 429)


def offline_decision() -> Decision:
    return Decision(granted=False, reason=_OFFLINE_REASON, feedback=OFFLINE_FEEDBACK)


def decision_from_json(text: str) -> Decision:
    """The daemon's tap response; raises ValueError/KeyError/TypeError if malformed."""
    data = json.loads(text)
    fb = data["feedback"]
    return Decision(
        granted=bool(data["granted"]),
        reason=Reason(data["reason"]),
        feedback=Feedback(Led(fb["led"]), int(fb["beeps"]), float(fb["open_door_s"])),
        visit_id=data.get("visit_id"),
        slot=data.get("slot"),
    )


@dataclass(frozen=True, slots=True)
class AgentTimings:
    heartbeat_s: float = 20.0
    # How long the local reader waits for the daemon's decision before amber.
    answer_timeout_s: float = 3.0
    min_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    request_timeout_s: float = 10.0


@dataclass(slots=True)
class Agent:
    """The agent's ``submit`` and its sender and heartbeat tasks."""

    name: str
    outbox: Outbox
    session: aiohttp.ClientSession
    server: str
    timings: AgentTimings = field(default_factory=AgentTimings)
    online: bool | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _waiters: dict[str, asyncio.Future[Decision | None]] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._send_loop(), name=f"agent-sender:{self.name}"),
            asyncio.create_task(self._heartbeat_loop(), name=f"agent-heartbeat:{self.name}"),
        ]
        for task in self._tasks:
            task.add_done_callback(self._log_crash)

    def _log_crash(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("%s: %s stopped", self.name, task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):  # logged already
                await task
        self._resolve_all(None)

    async def submit(self, tap: Tap) -> Decision:
        """Store the tap, then give the reader the daemon's decision or amber."""
        row = self.outbox.add(tap)
        if row.state == "sent" and row.response is not None:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                return decision_from_json(row.response)
        if row.state == "failed":
            return Decision(False, Reason.UNKNOWN_READER, DENY)
        fut = self._waiters.get(tap.event_id)
        if fut is None or fut.done():
            fut = self._waiters[tap.event_id] = asyncio.get_running_loop().create_future()
        self._wake.set()
        try:
            async with asyncio.timeout(self.timings.answer_timeout_s):
                decision = await asyncio.shield(fut)
        except TimeoutError:
            decision = None
        if decision is None:
            _LOGGER.info("%s: offline, tap %s stored", self.name, tap.event_id)
            return offline_decision()
        return decision

    async def _send_loop(self) -> None:
        delay = self.timings.min_backoff_s
        while True:
            self._wake.clear()
            rows = self.outbox.pending()
            if not rows:
                await self._wake.wait()
                continue
            for row in rows:
                if not await self._send(row):
                    break
            else:
                delay = self.timings.min_backoff_s
                continue
            self._resolve_all(None)  # readers waiting now get amber at once
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            delay = min(self.timings.max_backoff_s, delay * 2)

    async def _send(self, row: OutboxRow) -> bool:
        """Post one row; True when it is done with (sent or refused for good)."""
        tap = row.tap
        body = {
            "reader": tap.reader,
            "uid": tap.uid,
            "at": tap.at.isoformat(),
            "event_id": tap.event_id,
            "token": tap.token,
        }
        timeout = aiohttp.ClientTimeout(total=self.timings.request_timeout_s)
        try:
            async with self.session.post(
                f"{self.server}/api/v1/taps", json=body, timeout=timeout
            ) as resp:
                status, text = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.outbox.note_attempt(tap.event_id, f"{type(exc).__name__}: {exc}")
            self._set_online(False, f"{type(exc).__name__}: {exc}")
            return False
        if status == 200:
            self._accepted(tap, text)
            return True
        if 400 <= status < 500 and status not in _RETRYABLE_4XX:
            why = f"HTTP {status}: {text[:200]}"
            _LOGGER.warning("%s: daemon refused tap %s (%s); dropped", self.name, tap.event_id, why)
            self.outbox.mark_failed(tap.event_id, why)
            self._resolve(tap.event_id, Decision(False, Reason.UNKNOWN_READER, DENY))
            return True
        self.outbox.note_attempt(tap.event_id, f"HTTP {status}")
        self._set_online(False, f"HTTP {status}")
        return False

    def _accepted(self, tap: Tap, text: str) -> None:
        """HTTP 200: the daemon committed the tap (or had already)."""
        self.outbox.mark_sent(tap.event_id, text)
        self._set_online(True)
        try:
            decision = decision_from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            _LOGGER.warning("%s: unreadable decision for %s: %s", self.name, tap.event_id, exc)
            self._resolve(tap.event_id, None)
            return
        verdict = "granted" if decision.granted else "denied"
        _LOGGER.info(
            "%s: badge %s %s (%s)", self.name, redact_uid(tap.uid), verdict, decision.reason
        )
        self._resolve(tap.event_id, decision)

    async def _heartbeat_loop(self) -> None:
        url = f"{self.server}/api/v1/readers/{self.name}/heartbeat"
        timeout = aiohttp.ClientTimeout(total=self.timings.request_timeout_s)
        while True:
            try:
                async with self.session.post(url, timeout=timeout) as resp:
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                self._set_online(False, f"{type(exc).__name__}: {exc}")
            else:
                if status < 300:
                    self._set_online(True)
                    self._wake.set()  # daemon is back: replay the outbox now
                else:
                    _LOGGER.warning("%s: heartbeat refused (HTTP %d)", self.name, status)
            await asyncio.sleep(self.timings.heartbeat_s)

    def _set_online(self, online: bool, why: str = "") -> None:
        if online is self.online:
            return
        self.online = online
        if online:
            _LOGGER.info("%s: daemon reachable; %d tap(s) to send", self.name, self.outbox.count())
        else:
            _LOGGER.warning("%s: daemon unreachable (%s); taps are kept", self.name, why)

    def _resolve(self, event_id: str, decision: Decision | None) -> None:
        fut = self._waiters.pop(event_id, None)
        if fut is not None and not fut.done():
            fut.set_result(decision)

    def _resolve_all(self, decision: Decision | None) -> None:
        for event_id in list(self._waiters):
            self._resolve(event_id, decision)


def _local_context() -> DeviceContext:
    """The agent has no site key file: an ephemeral one (no token checks, no OSDP keys)."""
    keys = KeyFile(Path("/nonexistent/bidroom-agent.key"), secrets.token_bytes(32), {})
    return DeviceContext(keys=keys, token_key=keys.derive("badge-token"))


async def run_agent(
    reader_url: str,
    server: str,
    token: str,
    name: str,
    outbox: Path,
    *,
    stop: asyncio.Event | None = None,
    timings: AgentTimings | None = None,
) -> None:
    """Run the local reader and forward its taps until ``stop`` is set (or cancelled)."""
    store = Outbox(outbox)
    pruned = store.prune()
    _LOGGER.info(
        "%s: agent for %s -> %s; outbox %s (%d pending, %d old rows pruned)",
        name,
        reader_url,
        server,
        outbox,
        store.count(),
        pruned,
    )
    reader = ReaderConfig(name=name, role=ReaderRole.DESK, url=reader_url)
    headers = {"Authorization": f"Bearer {token.strip()}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            agent = Agent(name, store, session, server.rstrip("/"), timings or AgentTimings())
            health: dict[str, ReaderHealth] = {}
            adapters = build_adapters([reader], _local_context())
            supervisors = [Supervisor(a, agent.submit, health) for a in adapters]
            agent.start()
            for sup in supervisors:
                sup.start()
            try:
                await (stop or asyncio.Event()).wait()
            finally:
                for sup in supervisors:
                    await sup.stop()
                await agent.stop()
    finally:
        store.close()
