"""Changing staff accounts: disable and enable, reset or change a password, change a
role, lift a login lock. Each change that touches who may do what ends every session
of the account concerned, here at once and in other daemons within a second.

The last active administrator can be neither disabled nor given another role (from
the API or the CLI), so the site always keeps someone who can run it.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service import throttle
from service.auth import STAFF_ROLES, Role
from service.credentials import Credentials, end_sessions
from service.errors import Conflict, NotFound, ValidationError
from service.i18n import _
from service.passwords import check_password_policy, hash_password
from service.store.tables import StaffRow
from service.store.write_gate import write_tx


def staff_role(value: str) -> Role:
    """A staff role by name (422 otherwise; ``device`` is a token's role, not a person's)."""
    try:
        role = Role(value)
    except ValueError:
        role = Role.DEVICE
    if role not in STAFF_ROLES:
        raise ValidationError(_("Peran tidak dikenal."), field="role")
    return role


async def _staff(engine: AsyncEngine, username: str) -> tuple[int, Role, bool]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(StaffRow.id, StaffRow.role, StaffRow.active).where(
                    StaffRow.username == username
                )
            )
        ).first()
    if row is None:
        raise NotFound(_("Pengguna {username} tidak ada.", username=username))
    return int(row.id), Role(row.role), bool(row.active)


async def _keep_an_admin(engine: AsyncEngine, staff_id: int) -> None:
    async with engine.connect() as conn:
        others = (
            await conn.execute(
                select(func.count())
                .select_from(StaffRow)
                .where(
                    StaffRow.role == Role.ADMIN.value,
                    StaffRow.active.is_(True),
                    StaffRow.id != staff_id,
                )
            )
        ).scalar_one()
    if not others:
        raise Conflict(
            _("Ini administrator aktif terakhir; tambahkan administrator lain lebih dahulu."),
        )


async def set_active(
    engine: AsyncEngine, credentials: Credentials, username: str, active: bool
) -> int:
    """Disable (ending every session) or enable an account; returns the sessions ended."""
    staff_id, role, was_active = await _staff(engine, username)
    if not active and role is Role.ADMIN and was_active:
        await _keep_an_admin(engine, staff_id)
    async with write_tx(engine) as conn:
        await conn.execute(update(StaffRow).where(StaffRow.id == staff_id).values(active=active))
    return await end_sessions(engine, credentials, staff_id)


async def set_role(engine: AsyncEngine, credentials: Credentials, username: str, role: Role) -> int:
    """Give an account another role, ending its sessions; returns the sessions ended."""
    staff_id, old, active = await _staff(engine, username)
    if old is Role.ADMIN and role is not Role.ADMIN and active:
        await _keep_an_admin(engine, staff_id)
    async with write_tx(engine) as conn:
        await conn.execute(update(StaffRow).where(StaffRow.id == staff_id).values(role=role.value))
    return await end_sessions(engine, credentials, staff_id)


async def set_password(
    engine: AsyncEngine,
    credentials: Credentials,
    username: str,
    password: str,
    field: str = "password",
) -> int:
    """A new password (checked against the policy), ending every session of the account."""
    check_password_policy(password, username, field)
    staff_id, _role, _active = await _staff(engine, username)
    hashed = await hash_password(password)
    async with write_tx(engine) as conn:
        await conn.execute(
            update(StaffRow).where(StaffRow.id == staff_id).values(password_hash=hashed)
        )
    return await end_sessions(engine, credentials, staff_id)


async def unlock(
    engine: AsyncEngine, account: str | None, address: str | None, device: str | None = None
) -> int:
    """Lift the login locks of an account, a client address and/or a known browser."""
    keys = [
        f"{kind}:{value}"
        for kind, value in (("account", account), ("address", address), ("device", device))
        if value
    ]
    if not keys:
        raise ValidationError(
            _("Sebutkan akun, alamat atau peramban yang dibuka."),
        )
    return await throttle.lift(engine, keys)
