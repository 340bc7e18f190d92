"""Bearer tokens for devices (reader agents) and API clients: made, listed, revoked.

A token is shown once, when it is made, and stored only as its SHA-256. A ``device``
token names the readers it may tap and send heartbeats for (``--reader``, one or
more); any other reader refuses it with 403. A staff-role token may name readers too,
else it may use any. Names are unique among the tokens in force, so ``bidroom token
revoke NAME`` says which one goes. A revocation made in this daemon takes effect at
once; in another daemon on the same database within a second (the
:class:`~service.credentials.Credentials` cache).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.auth import Role, digest
from service.credentials import Credentials
from service.errors import Conflict, NotFound, ValidationError
from service.i18n import _
from service.store.tables import ApiTokenRow
from service.store.write_gate import write_tx

MAX_READERS = 50


def check_readers(role: Role, readers: Iterable[str], known: Collection[str]) -> list[str]:
    """The readers a new token names, each a configured reader; a device needs one."""
    names = sorted(set(readers))
    if len(names) > MAX_READERS:
        raise ValidationError(
            _("Paling banyak {MAX_READERS} pembaca kartu per token.", MAX_READERS=MAX_READERS),
            field="readers",
        )
    unknown = [n for n in names if n not in known]
    if unknown:  # 404: like a tap at a reader that is not configured
        listed = ", ".join(unknown)
        raise NotFound(
            _("Pembaca kartu ini tidak ada dalam konfigurasi: {listed}.", listed=listed),
            field="readers",
        )
    if role is Role.DEVICE and not names:
        # 409: well formed, but at odds with the rule that binds a device to its readers
        # (a rule across two fields, which the request's schema cannot say).
        raise Conflict(
            _("Token perangkat harus menyebut pembaca kartu yang boleh dipakainya."),
            field="readers",
        )
    return names


async def create_token(
    engine: AsyncEngine,
    name: str,
    role: Role,
    now: datetime,
    staff_id: int | None = None,
    readers: list[str] | None = None,
) -> str:
    """A new token (returned once); ``readers`` must have been checked by the caller."""
    if role is Role.DEVICE and not readers:
        raise ValidationError(
            _("Token perangkat harus menyebut pembaca kartu yang boleh dipakainya."),
            field="readers",
        )
    token = "brt_" + secrets.token_urlsafe(32)
    async with write_tx(engine) as conn:
        taken = await conn.execute(
            select(ApiTokenRow.id).where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_(None))
        )
        if taken.first() is not None:
            raise Conflict(
                _(
                    "Sudah ada token berlaku bernama {name}; cabut dulu atau pakai nama lain.",
                    name=name,
                ),
                field="name",
            )
        await conn.execute(
            insert(ApiTokenRow).values(
                token_hash=digest(token),
                name=name,
                role=role.value,
                staff_id=staff_id,
                created_at=now,
                readers=readers or None,
            )
        )
    return token


async def list_tokens(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every token, in force first, without its secret or its hash."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(ApiTokenRow).order_by(
                    ApiTokenRow.revoked_at.is_not(None), ApiTokenRow.name, ApiTokenRow.id
                )
            )
        ).all()
    return [
        {
            "id": r.id,
            "name": r.name,
            "role": r.role,
            "readers": r.readers if r.readers is not None or r.role != "device" else [],
            "created_at": r.created_at.isoformat(),
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            "revoked_by": r.revoked_by,
            "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
        }
        for r in rows
    ]


async def revoke_token(
    engine: AsyncEngine, credentials: Credentials, name: str, now: datetime, actor: str
) -> int:
    """Revoke the token in force named ``name`` (404 when there is none)."""
    async with write_tx(engine) as conn:
        hashes = (
            await conn.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=now, revoked_by=actor)
                .returning(ApiTokenRow.token_hash)
            )
        ).scalars()
        revoked = list(hashes)
    if not revoked:
        raise NotFound(_("Tidak ada token berlaku bernama {name}.", name=name))
    for token_hash in revoked:
        credentials.forget_hash(token_hash)
    return len(revoked)
