"""Staff accounts, roles, logins and sessions (who a request is, from memory:
:class:`service.credentials.Credentials`).

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
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service import throttle
from service.config import SecurityConfig
from service.errors import Conflict, Forbidden, Unauthorized
from service.i18n import Text, _
from service.passwords import check_password_policy, hash_password, verify_password
from service.store.tables import SessionRow, StaffRow
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
    gate: asyncio.Lock,
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
    async with gate:  # check, verify and count: one attempt at a time (Credentials.login_gate)
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
    gate: asyncio.Lock,
    who: Principal,
    password: str,
    address: str,
    now: datetime,
    limits: SecurityConfig,
) -> None:
    """The signed-in user's own password again before a sensitive change (ASVS V3.7.1);
    a wrong one counts as a failed login of the account and the address."""
    counted = throttle.subjects(limits, who.username, address, None)
    async with gate:
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
