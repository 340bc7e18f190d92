"""Login throttling: a growing delay, then a lock that an admin lifts.

Failed logins in a row are counted per **subject** in the database (table
``login_throttle``, shared by every daemon on it):

- ``account:<username>`` (any username typed, known or not, so a lock tells nothing
  about which accounts exist): after ``login_delay_after`` failures each further
  attempt waits 1 s, 2 s, 4 s … up to ``login_max_delay_s`` after the last failure;
  after ``login_lockout_after`` failures the account is locked until an admin lifts it;
- ``address:<client address>``: the same with three times the free attempts (an
  office behind one NAT address mistypes too) and a lock after
  ``login_address_lockout_after`` failures;
- ``device:<id>``: a browser that logged in as this user before carries a signed
  *known-device cookie* (OWASP's "device cookies"). Its attempts for that user count
  only against its own subject, never against the account's or the address's. So
  nobody can lock the administrator out by failing logins as ``admin`` from anywhere,
  or from the office's own address: the administrator's own browser still gets in
  (with its own delay and lock, should it be the one guessing).

Each attempt is checked, its password verified and its outcome counted inside the
daemon's login gate, one attempt at a time (Argon2 runs one at a time anyway), so
attempts sent at the same instant cannot all slip under a limit; a success clears
the account's and the device's counts. The counts of a subject that is not locked
are forgotten after a day of quiet. Locks are lifted by ``bidroom user unlock`` on the
server (which needs no login, so the last admin can never be locked out for good),
or by an admin through ``POST /api/v1/login-locks/lift``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.config import SecurityConfig
from service.errors import BidroomError
from service.i18n import Text, _
from service.store.tables import LoginThrottleRow, table_of
from service.store.write_gate import write_tx

FORGET_AFTER = timedelta(days=1)
ADDRESS_FACTOR = 3  # an address gets this many times the free attempts of an account
DEVICE_COOKIE_DAYS = 180


class TooManyAttempts(BidroomError):
    """429: wait (``retry_after_s``) or ask an admin to lift a lock."""

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, text: Text, message_en: str | None = None, *, retry_after_s: int) -> None:
        super().__init__(text, message_en)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Subject:
    key: str  # "account:admin", "address:10.0.0.5", "device:<id>"
    delay_after: int
    lock_after: int

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


def subjects(
    limits: SecurityConfig, username: str, address: str, device: str | None
) -> list[Subject]:
    """Whom an attempt counts against: the known device alone, else account and address."""
    if device is not None:
        return [Subject(f"device:{device}", limits.login_delay_after, limits.login_lockout_after)]
    return [
        Subject(f"account:{username}", limits.login_delay_after, limits.login_lockout_after),
        Subject(
            f"address:{address}",
            limits.login_delay_after * ADDRESS_FACTOR,
            limits.login_address_lockout_after,
        ),
    ]


def delay_s(failures: int, subject: Subject, limits: SecurityConfig) -> int:
    """Seconds the next attempt waits after ``failures`` failures in a row."""
    over = failures - subject.delay_after
    return 0 if over < 0 else min(2 ** min(over, 30), limits.login_max_delay_s)


_LOCKED: dict[str, Text] = {
    "account": _(
        "Akun ini dikunci karena terlalu banyak percobaan masuk yang gagal; minta administrator membukanya."
    ),
    "address": _(
        "Percobaan masuk dari komputer ini dikunci karena terlalu banyak kegagalan; minta administrator membukanya."
    ),
    "device": _(
        "Peramban ini dikunci karena terlalu banyak percobaan masuk yang gagal; minta administrator membukanya."
    ),
}


async def is_locked(engine: AsyncEngine, key: str) -> bool:
    async with engine.connect() as conn:
        locked = await conn.execute(
            select(LoginThrottleRow.locked_at).where(LoginThrottleRow.subject == key)
        )
        return locked.scalar() is not None


async def admit(
    engine: AsyncEngine, found: list[Subject], now: datetime, limits: SecurityConfig
) -> None:
    """Refuse the attempt (429) while a subject is locked or must still wait."""
    keys = [s.key for s in found]
    cutoff = now - FORGET_AFTER
    async with engine.connect() as conn:
        rows = {
            r.subject: r
            for r in await conn.execute(
                select(LoginThrottleRow).where(LoginThrottleRow.subject.in_(keys))
            )
        }
        wait = 0
        for subject in found:
            row = rows.get(subject.key)
            if row is None:
                continue
            if row.locked_at is not None:
                raise TooManyAttempts(_LOCKED[subject.kind], retry_after_s=limits.login_max_delay_s)
            if row.last_failure_at < cutoff:
                continue
            until = row.last_failure_at + timedelta(seconds=delay_s(row.failures, subject, limits))
            wait = max(wait, int((until - now).total_seconds() + 0.999))
        if wait > 0:
            raise TooManyAttempts(
                _(
                    "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {wait} detik.",
                    wait=wait,
                ),
                retry_after_s=wait,
            )


async def _count(conn: AsyncConnection, key: str, now: datetime, cutoff: datetime) -> None:
    table = table_of(LoginThrottleRow)
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(subject=key, failures=1, last_failure_at=now)
    stale = and_(table.c.last_failure_at < cutoff, table.c.locked_at.is_(None))
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.subject],
            set_={
                "failures": case((stale, 1), else_=table.c.failures + 1),
                "last_failure_at": now,
            },
        )
    )


async def failed(engine: AsyncEngine, found: list[Subject], now: datetime) -> None:
    """The password was wrong: count it, and lock each subject that reached its limit."""
    async with write_tx(engine) as conn:
        for subject in found:
            await _count(conn, subject.key, now, now - FORGET_AFTER)
        for subject in found:
            await conn.execute(
                update(LoginThrottleRow)
                .where(
                    LoginThrottleRow.subject == subject.key,
                    LoginThrottleRow.failures >= subject.lock_after,
                    LoginThrottleRow.locked_at.is_(None),
                )
                .values(locked_at=now)
            )
        await conn.execute(
            delete(LoginThrottleRow).where(
                LoginThrottleRow.locked_at.is_(None),
                LoginThrottleRow.last_failure_at < now - FORGET_AFTER,
            )
        )


async def succeeded(engine: AsyncEngine, found: list[Subject]) -> None:
    """The password was right: the account's and the device's counts start again (an
    address keeps its count: one good login there says nothing about the others)."""
    keys = [s.key for s in found if s.kind != "address"]
    async with write_tx(engine) as conn:
        await conn.execute(
            delete(LoginThrottleRow).where(
                LoginThrottleRow.locked_at.is_(None), LoginThrottleRow.subject.in_(keys)
            )
        )


async def locks(engine: AsyncEngine, now: datetime) -> list[dict[str, Any]]:
    """Locked subjects and those counting failures now, most recent first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(LoginThrottleRow)
            .where(
                or_(
                    LoginThrottleRow.locked_at.is_not(None),
                    LoginThrottleRow.last_failure_at >= now - FORGET_AFTER,
                )
            )
            .order_by(LoginThrottleRow.last_failure_at.desc())
        )
        return [
            {
                "kind": r.subject.split(":", 1)[0],
                "value": r.subject.split(":", 1)[1],
                "failures": r.failures,
                "last_failure_at": r.last_failure_at.isoformat(),
                "locked": r.locked_at is not None,
                "locked_at": r.locked_at.isoformat() if r.locked_at else None,
            }
            for r in rows
        ]


async def lift(engine: AsyncEngine, keys: list[str]) -> int:
    """Lift the locks (and clear the counts) of these subjects; how many there were."""
    async with write_tx(engine) as conn:
        result = await conn.execute(
            delete(LoginThrottleRow).where(LoginThrottleRow.subject.in_(keys))
        )
    return int(result.rowcount or 0)


# -- known-device cookies ------------------------------------------------------------------
def device_cookie(key: bytes, username: str, device: str | None = None) -> str:
    """A cookie value naming a browser that logged in as ``username`` (signed)."""
    ident = device or secrets.token_hex(16)
    return f"{ident}.{_mac(key, ident, username)}"


def device_of(key: bytes, cookie: str | None, username: str) -> str | None:
    """The device id of a cookie signed for ``username``, else None."""
    if not cookie or cookie.count(".") != 1:
        return None
    ident, mac = cookie.split(".")
    if len(ident) != 32 or not hmac.compare_digest(mac, _mac(key, ident, username)):
        return None
    return ident


def _mac(key: bytes, ident: str, username: str) -> str:
    return hmac.new(key, f"{ident}|{username}".encode(), hashlib.sha256).hexdigest()[:32]
