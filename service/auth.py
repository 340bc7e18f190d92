"""Staff accounts, roles, sessions and API tokens.

Passwords are Argon2id hashes (19 MiB, t=2, the OWASP minimum). Browser sessions
are random tokens in an HttpOnly, SameSite=Strict cookie, stored only as their
SHA-256, each with a CSRF token that unsafe requests must echo. API clients and
devices (remote reader agents) use bearer tokens, also stored as SHA-256.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.errors import Conflict, Unauthorized, ValidationError
from service.store.tables import ApiTokenRow, SessionRow, StaffRow
from service.workers import in_password_thread

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A hash to verify against when the user does not exist, so timing does not tell.
_DUMMY_HASH = HASHER.hash("bidroom-no-such-user")


class Role(enum.StrEnum):
    FRONT_OFFICE = "front_office"
    HELPDESK = "helpdesk"
    HEAD = "head"
    ADMIN = "admin"
    DEVICE = "device"


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.FRONT_OFFICE: ("Petugas Front Office", "Front-office officer"),
    Role.HELPDESK: ("Petugas Helpdesk", "Help-desk officer"),
    Role.HEAD: ("Kepala LPSE", "Head of LPSE"),
    Role.ADMIN: ("Administrator", "Administrator"),
    Role.DEVICE: ("Perangkat", "Device"),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a staff member (by session or token) or a device."""

    staff_id: int | None
    username: str
    name: str
    role: Role
    csrf: str | None = None  # set for cookie sessions only

    @property
    def actor(self) -> str:
        return self.username


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_policy(password: str) -> None:
    if len(password) < 8:
        raise ValidationError(
            "Kata sandi minimal 8 karakter.",
            "The password must have at least 8 characters.",
            field="password",
        )


async def add_staff(
    engine: AsyncEngine, username: str, name: str, role: Role, password: str, now: datetime
) -> int:
    check_password_policy(password)
    async with engine.begin() as conn:
        exists = (
            await conn.execute(select(StaffRow.id).where(StaffRow.username == username))
        ).first()
        if exists:
            raise Conflict(f"Pengguna {username} sudah ada.", f"User {username} exists.")
        result = await conn.execute(
            insert(StaffRow)
            .values(
                username=username,
                name=name,
                role=role.value,
                password_hash=await in_password_thread(HASHER.hash, password),
                active=True,
                created_at=now,
            )
            .returning(StaffRow.id)
        )
        return int(result.scalar_one())


async def set_password(engine: AsyncEngine, username: str, password: str) -> None:
    check_password_policy(password)
    hashed = await in_password_thread(HASHER.hash, password)
    async with engine.begin() as conn:
        await conn.execute(
            update(StaffRow).where(StaffRow.username == username).values(password_hash=hashed)
        )


async def list_staff(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    StaffRow.id, StaffRow.username, StaffRow.name, StaffRow.role, StaffRow.active
                )
            )
        ).all()
    return [dict(r._mapping) for r in rows]


async def login(
    engine: AsyncEngine, username: str, password: str, now: datetime, hours: int
) -> tuple[str, Principal]:
    """Check the password; return a new session token and the principal."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(StaffRow).where(StaffRow.username == username))).first()
    stored = row.password_hash if row is not None and row.active else _DUMMY_HASH
    try:
        # Argon2 takes tens of milliseconds of CPU (it releases the GIL): never on the loop
        # that answers the door readers.
        await in_password_thread(HASHER.verify, stored, password)
    except (VerificationError, InvalidHashError):
        row = None
    if row is None or not row.active:
        raise Unauthorized("Nama pengguna atau kata sandi salah.", "Wrong username or password.")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    async with engine.begin() as conn:
        await conn.execute(delete(SessionRow).where(SessionRow.expires_at < now))
        await conn.execute(
            insert(SessionRow).values(
                token_hash=_digest(token),
                staff_id=row.id,
                csrf=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return token, Principal(row.id, row.username, row.name, Role(row.role), csrf)


async def logout(engine: AsyncEngine, token: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(SessionRow).where(SessionRow.token_hash == _digest(token)))


async def from_session(engine: AsyncEngine, token: str, now: datetime) -> Principal | None:
    who, expires = await _session_and_expiry(engine, token)
    return who if who is not None and expires is not None and expires > now else None


async def create_token(
    engine: AsyncEngine, name: str, role: Role, now: datetime, staff_id: int | None = None
) -> str:
    token = "brt_" + secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(
            insert(ApiTokenRow).values(
                token_hash=_digest(token),
                name=name,
                role=role.value,
                staff_id=staff_id,
                created_at=now,
            )
        )
    return token


async def from_token(engine: AsyncEngine, token: str) -> Principal | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(ApiTokenRow).where(
                    ApiTokenRow.token_hash == _digest(token), ApiTokenRow.revoked_at.is_(None)
                )
            )
        ).first()
    if row is None:
        return None
    return Principal(row.staff_id, row.name, row.name, Role(row.role))


class Credentials:
    """Who a bearer token or a session cookie is, remembered for a second.

    Every request is authenticated, and a door reader's agent taps many times a
    second: the answer comes from memory, read from the database at most once a
    second per token (and per unknown token, so a flood of bad ones costs no more).
    A token revoked, a session ended or an account disabled (here, by another
    process or another daemon on the same database) is refused within that second;
    a logout here is forgotten at once.
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
        self._known: OrderedDict[str, tuple[float, Principal | None, datetime | None]] = (
            OrderedDict()
        )

    async def token(self, token: str) -> Principal | None:
        return await self._get(
            "t:" + _digest(token), lambda: _token_and_expiry(self._engine, token)
        )

    async def session(self, token: str, now: datetime) -> Principal | None:
        who = await self._get(
            "s:" + _digest(token), lambda: _session_and_expiry(self._engine, token)
        )
        expires = self._known.get("s:" + _digest(token), (0.0, None, None))[2]
        return who if who is not None and (expires is None or expires > now) else None

    def forget(self, token: str) -> None:
        """A logout or a revocation made here: take effect at once."""
        digest = _digest(token)
        self._known.pop("t:" + digest, None)
        self._known.pop("s:" + digest, None)

    def forget_all(self) -> None:
        self._known.clear()

    async def _get(
        self,
        key: str,
        fetch: Callable[[], Awaitable[tuple[Principal | None, datetime | None]]],
    ) -> Principal | None:
        now = self._clock()
        hit = self._known.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            self._known.move_to_end(key)
            return hit[1]
        who, expires = await fetch()
        self._known[key] = (now, who, expires)
        self._known.move_to_end(key)
        while len(self._known) > self._size:
            self._known.popitem(last=False)
        return who


async def _token_and_expiry(engine: AsyncEngine, token: str) -> tuple[Principal | None, None]:
    return await from_token(engine, token), None


async def _session_and_expiry(
    engine: AsyncEngine, token: str
) -> tuple[Principal | None, datetime | None]:
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
                )
                .join(SessionRow, SessionRow.staff_id == StaffRow.id)
                .where(SessionRow.token_hash == _digest(token))
            )
        ).first()
    if row is None or not row.active:
        return None, None
    return Principal(row.id, row.username, row.name, Role(row.role), row.csrf), row.expires_at
