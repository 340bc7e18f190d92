"""Staff accounts, roles, logins and sessions; who a request is (:class:`Credentials`).

Passwords are Argon2id hashes (:mod:`service.passwords`). A login is throttled
(:mod:`service.throttle`) and starts a **new** session: a random 256-bit token in an
HttpOnly, SameSite=Strict cookie, stored only as its SHA-256, with a CSRF token that
unsafe requests must echo. A session ends at logout, ``security.session_hours``
after it began (absolute timeout), ``security.session_idle_minutes`` after its last
request (idle timeout), and when its user's password, role or account state
changes (:mod:`service.accounts`). API clients and devices use bearer tokens
(:mod:`service.tokens`), also stored as SHA-256.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from service import throttle
from service.config import SecurityConfig
from service.errors import Conflict, Forbidden, Unauthorized, Unavailable
from service.i18n import Text, _
from service.passwords import check_password_policy, hash_password, verify_password
from service.store.tables import ApiTokenRow, SessionRow, StaffRow
from service.store.write_gate import write_tx

_LOGGER = logging.getLogger(__name__)
# A session's last request is written at most this often (the idle timeout's grain).
TOUCH_EVERY = timedelta(seconds=60)


class Role(enum.StrEnum):
    FRONT_OFFICE = "front_office"
    HELPDESK = "helpdesk"
    HEAD = "head"
    ADMIN = "admin"
    DEVICE = "device"


STAFF_ROLES = (Role.FRONT_OFFICE, Role.HELPDESK, Role.HEAD, Role.ADMIN)
ROLE_LABELS: dict[Role, Text] = {
    Role.FRONT_OFFICE: _("Petugas Front Office"),
    Role.HELPDESK: _("Petugas Helpdesk"),
    Role.HEAD: _("Kepala LPSE"),
    Role.ADMIN: _("Administrator"),
    Role.DEVICE: _("Perangkat"),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a staff member (by session or token) or a device."""

    staff_id: int | None
    username: str
    name: str
    role: Role
    csrf: str | None = None  # set for cookie sessions only
    # The readers a bearer token may tap for; None: any (staff sessions and tokens).
    readers: frozenset[str] | None = None

    @property
    def actor(self) -> str:
        return self.username

    def may_use_reader(self, reader: str) -> bool:
        return self.readers is None or reader in self.readers


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def add_staff(
    engine: AsyncEngine, username: str, name: str, role: Role, password: str, now: datetime
) -> int:
    check_password_policy(password, username)
    hashed = await hash_password(password)
    async with write_tx(engine) as conn:
        exists = (
            await conn.execute(select(StaffRow.id).where(StaffRow.username == username))
        ).first()
        if exists:
            raise Conflict(_("Pengguna {username} sudah ada.", username=username))
        result = await conn.execute(
            insert(StaffRow)
            .values(
                username=username,
                name=name,
                role=role.value,
                password_hash=hashed,
                active=True,
                created_at=now,
            )
            .returning(StaffRow.id)
        )
        return int(result.scalar_one())


async def list_staff(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    StaffRow.id, StaffRow.username, StaffRow.name, StaffRow.role, StaffRow.active
                ).order_by(StaffRow.username)
            )
        ).all()
    return [dict(r._mapping) for r in rows]


WRONG_LOGIN = _("Nama pengguna atau kata sandi salah.")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One login attempt: what was typed, from where, and the browser's device cookie."""

    username: str
    password: str
    address: str
    device_cookie: str | None = None


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    principal: Principal
    device_cookie: str  # the known-device cookie to (re)set in this browser


async def login(
    engine: AsyncEngine,
    credentials: Credentials,
    attempt: Attempt,
    now: datetime,
    limits: SecurityConfig,
    device_key: bytes,
) -> LoginResult:
    """Check the password under the throttle; start a new session."""
    device = throttle.device_of(device_key, attempt.device_cookie, attempt.username)
    counted = throttle.subjects(limits, attempt.username, attempt.address, device)
    if device is not None and await throttle.is_locked(engine, counted[0].key):
        device = None  # a locked known device is a stranger again
        counted = throttle.subjects(limits, attempt.username, attempt.address, None)
    async with credentials.login_gate:  # check, verify and count: one attempt at a time
        await throttle.admit(engine, counted, now, limits)
        async with engine.connect() as conn:
            row = (
                await conn.execute(select(StaffRow).where(StaffRow.username == attempt.username))
            ).first()
        stored = row.password_hash if row is not None and row.active else None
        if not await verify_password(stored, attempt.password) or row is None:
            await throttle.failed(engine, counted, now)
            known = "known device" if device else "account and address"
            _LOGGER.info("login refused (%s)", known)
            raise Unauthorized(WRONG_LOGIN)
        await throttle.succeeded(engine, counted)
    token, who = await start_session(engine, row.id, now, limits)
    cookie = throttle.device_cookie(device_key, attempt.username, device)
    return LoginResult(token, who, cookie)


async def reauthenticate(
    engine: AsyncEngine,
    credentials: Credentials,
    who: Principal,
    password: str,
    address: str,
    now: datetime,
    limits: SecurityConfig,
) -> None:
    """The signed-in user's own password again before a sensitive change (ASVS V3.7.1);
    a wrong one counts as a failed login of the account and the address."""
    counted = throttle.subjects(limits, who.username, address, None)
    async with credentials.login_gate:
        await throttle.admit(engine, counted, now, limits)
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    select(StaffRow.password_hash).where(
                        StaffRow.id == who.staff_id, StaffRow.active.is_(True)
                    )
                )
            ).scalar()
        if not await verify_password(stored, password):
            await throttle.failed(engine, counted, now)
            raise Forbidden(_("Kata sandi Anda salah."), field="current_password")
        await throttle.succeeded(engine, counted)


async def start_session(
    engine: AsyncEngine, staff_id: int, now: datetime, limits: SecurityConfig
) -> tuple[str, Principal]:
    """A new session token (never one the client chose) for a checked staff member."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    idle = timedelta(minutes=limits.session_idle_minutes)
    async with write_tx(engine) as conn:
        await conn.execute(
            delete(SessionRow).where(
                or_(SessionRow.expires_at < now, SessionRow.last_seen_at < now - idle)
            )
        )
        await conn.execute(
            insert(SessionRow).values(
                token_hash=digest(token),
                staff_id=staff_id,
                csrf=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=limits.session_hours),
                last_seen_at=now,
            )
        )
        row = (await conn.execute(select(StaffRow).where(StaffRow.id == staff_id))).one()
    return token, Principal(row.id, row.username, row.name, Role(row.role), csrf)


async def logout(engine: AsyncEngine, token: str) -> None:
    async with write_tx(engine) as conn:
        await conn.execute(delete(SessionRow).where(SessionRow.token_hash == digest(token)))


async def end_sessions(engine: AsyncEngine, credentials: Credentials, staff_id: int) -> int:
    """End every session of one staff member, here at once and elsewhere within a second."""
    async with write_tx(engine) as conn:
        result = await conn.execute(delete(SessionRow).where(SessionRow.staff_id == staff_id))
    credentials.forget_staff(staff_id)
    return int(result.rowcount or 0)


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
