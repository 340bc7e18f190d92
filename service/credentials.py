"""Who a request is, from memory: bearer tokens and session cookies (:class:`Credentials`).

Split from :mod:`service.auth` (accounts, logins, sessions), which writes what this
reads; the tap path asks here on every request and must not wait on the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from service.auth import TOUCH_EVERY, Principal, Role, digest
from service.errors import Unavailable
from service.i18n import _
from service.store.tables import ApiTokenRow, SessionRow, StaffRow
from service.store.write_gate import write_tx

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class _Known:
    fetched: float  # monotonic time of the database read
    who: Principal | None
    expires: datetime | None = None
    seen: datetime | None = None


class Credentials:
    """Who a bearer token or a session cookie is, remembered for a second.

    Every request is authenticated, and a door reader's agent taps many times a
    second: the answer comes from memory, read from the database at most once a
    second per token (and per unknown token, so a flood of bad ones costs no more).
    A token revoked, a session ended or an account disabled (here, by another
    process or another daemon on the same database) is refused within that second;
    one ended here is forgotten at once.

    A busy token (a door's agent) never waits for that read: once its answer is half a
    second old, the next request starts the read beside it and is answered from
    memory; only an answer a full second old is waited for (a token idle that long).
    A read that began before a revocation made here is dropped.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        ttl_s: float = 1.0,
        size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl_s
        self._size = size
        self._clock = clock
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._forgotten = 0  # how many forgets so far: a read begun before one is dropped
        self.login_gate = asyncio.Lock()  # one login (check, verify, count) at a time

    async def token(self, token: str, now: datetime | None = None) -> Principal | None:
        """The token's principal; its last use is recorded (at most once a minute)."""
        known = await self._get("t:" + digest(token), lambda: _token(self._engine, token))
        due = now is not None and (known.seen is None or now - known.seen >= TOUCH_EVERY)
        if known.who is not None and now is not None and due:
            known.seen = now
            await self._touch_token(token, now)
        return known.who

    async def _touch_token(self, token: str, now: datetime) -> None:
        try:
            async with write_tx(self._engine) as conn:
                await conn.execute(
                    update(ApiTokenRow)
                    .where(ApiTokenRow.token_hash == digest(token))
                    .values(last_used_at=now)
                )
        except SQLAlchemyError:  # the database briefly gone: the token still works
            _LOGGER.warning("could not record a token's last use")

    async def session(
        self, token: str, now: datetime, idle: timedelta | None = None
    ) -> Principal | None:
        """The session's staff member, unless it ended (absolute or ``idle`` timeout)."""
        known = await self._get("s:" + digest(token), lambda: _session(self._engine, token))
        if known.who is None or known.expires is None or known.expires <= now:
            return None
        seen = known.seen or now
        if idle is not None and seen + idle <= now:
            return None
        if now - seen >= TOUCH_EVERY:
            known.seen = now
            await self._touch(token, now)
        return known.who

    async def _touch(self, token: str, now: datetime) -> None:
        try:
            async with write_tx(self._engine) as conn:
                await conn.execute(
                    update(SessionRow)
                    .where(SessionRow.token_hash == digest(token))
                    .values(last_seen_at=now)
                )
        except SQLAlchemyError:  # the database briefly gone: the session lives on in memory
            _LOGGER.warning("could not record a session's last request")

    def forget(self, token: str) -> None:
        """A logout or a revocation made here: take effect at once."""
        self.forget_hash(digest(token))

    def forget_hash(self, token_hash: str) -> None:
        self._forgotten += 1
        self._known.pop("t:" + token_hash, None)
        self._known.pop("s:" + token_hash, None)

    def forget_staff(self, staff_id: int) -> None:
        """Every session and token of one staff member (password, role or state changed)."""
        self._forgotten += 1
        for key in [k for k, v in self._known.items() if v.who and v.who.staff_id == staff_id]:
            del self._known[key]

    def forget_all(self) -> None:
        self._forgotten += 1
        self._known.clear()

    async def _get(self, key: str, fetch: Callable[[], Awaitable[_Known]]) -> _Known:
        now = self._clock()
        hit = self._known.get(key)
        if hit is not None and now - hit.fetched < self._ttl:
            self._known.move_to_end(key)
            if now - hit.fetched >= self._ttl / 2 and key not in self._refreshing:
                task = asyncio.get_running_loop().create_task(self._refresh(key, fetch))
                self._refreshing[key] = task
            return hit
        try:
            known = await fetch()
        except (SQLAlchemyError, OSError) as exc:
            if hit is None:
                raise Unavailable(
                    _("Basis data sedang tidak dapat dihubungi; coba lagi sebentar lagi."),
                ) from exc
            # The database is away: who we knew a moment ago is still who they are (a
            # revocation made meanwhile elsewhere takes effect once it is back).
            _LOGGER.warning("database unavailable; a credential is checked from memory")
            hit.fetched = now
            return hit
        self._keep(key, known, now)
        return known

    def _keep(self, key: str, known: _Known, fetched: float) -> None:
        known.fetched = fetched
        self._known[key] = known
        self._known.move_to_end(key)
        while len(self._known) > self._size:
            self._known.popitem(last=False)

    async def _refresh(self, key: str, fetch: Callable[[], Awaitable[_Known]]) -> None:
        """Read a credential again beside the request that asked (see the class)."""
        started, forgotten = self._clock(), self._forgotten
        try:
            known = await fetch()
        except (SQLAlchemyError, OSError):
            return  # the next request past the second reads it (and says what is wrong)
        finally:
            self._refreshing.pop(key, None)
        hit = self._known.get(key)
        if forgotten == self._forgotten and hit is not None:
            if known.who is not None and hit.seen is not None:
                known.seen = max(hit.seen, known.seen or hit.seen)  # a touch kept in memory
            self._keep(key, known, started)


async def _token(engine: AsyncEngine, token: str) -> _Known:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(ApiTokenRow, StaffRow.active)
                .outerjoin(StaffRow, StaffRow.id == ApiTokenRow.staff_id)
                .where(ApiTokenRow.token_hash == digest(token), ApiTokenRow.revoked_at.is_(None))
            )
        ).first()
    if row is None or row.active is False:
        return _Known(0.0, None)
    role = Role(row.role)
    # A device token made before tokens named their readers may use none.
    readers = row.readers if row.readers is not None or role is not Role.DEVICE else []
    allowed = None if readers is None else frozenset(str(r) for r in readers)
    who = Principal(row.staff_id, row.name, row.name, role, readers=allowed)
    return _Known(0.0, who, seen=row.last_used_at)


async def _session(engine: AsyncEngine, token: str) -> _Known:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    StaffRow.id,
                    StaffRow.username,
                    StaffRow.name,
                    StaffRow.role,
                    StaffRow.active,
                    SessionRow.csrf,
                    SessionRow.expires_at,
                    SessionRow.last_seen_at,
                )
                .join(SessionRow, SessionRow.staff_id == StaffRow.id)
                .where(SessionRow.token_hash == digest(token))
            )
        ).first()
    if row is None or not row.active:
        return _Known(0.0, None)
    who = Principal(row.id, row.username, row.name, Role(row.role), row.csrf)
    return _Known(0.0, who, row.expires_at, row.last_seen_at)


async def end_sessions(engine: AsyncEngine, credentials: Credentials, staff_id: int) -> int:
    """End every session of one staff member, here at once and elsewhere within a second."""
    async with write_tx(engine) as conn:
        result = await conn.execute(delete(SessionRow).where(SessionRow.staff_id == staff_id))
    credentials.forget_staff(staff_id)
    return int(result.rowcount or 0)
