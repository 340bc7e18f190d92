"""``bidroom user`` and ``bidroom token``: staff accounts, login locks, bearer tokens.

``service.cli.build_parser`` adds them with ``add_commands(sub)``. They work on the
database directly, also while the daemon runs: a session ended or a token revoked
here is refused by every daemon within a second. They need no login, so whoever
runs the server can always lift a lock, even the last administrator's.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from service import accounts, auth, throttle, tokens
from service.auth import STAFF_ROLES, Role
from service.config import Config
from service.credentials import Credentials
from service.notices import Notices
from service.store.engine import make_engine
from service.store.integrity import prepare_database

ROLES = [r.value for r in STAFF_ROLES]


@contextlib.asynccontextmanager
async def _engine(config: Config) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(config.database_url)
    try:
        await Notices(engine).start(await prepare_database(engine, config))  # migrations
        yield engine
    finally:
        await engine.dispose()


def _read_password(args: argparse.Namespace) -> str:
    if args.password_file:
        return Path(args.password_file).read_text(encoding="utf-8").strip()
    first = getpass.getpass("Kata sandi / password: ")
    if first != getpass.getpass("Ulangi / repeat: "):
        raise SystemExit("kata sandi tidak sama / passwords differ")
    return first


def _write_secret(path: Path, secret: str) -> None:
    """A file only its owner can read, from the moment it exists."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")


def _now() -> datetime:
    return datetime.now(UTC)


# -- users ------------------------------------------------------------------------------
async def cmd_user_add(args: argparse.Namespace, config: Config) -> int:
    password = _read_password(args)
    async with _engine(config) as engine:
        name = args.name or args.username
        await auth.add_staff(engine, args.username, name, Role(args.role), password, _now())
    print(f"pengguna {args.username} ({args.role}) ditambahkan / added")
    return 0


async def cmd_user_list(args: argparse.Namespace, config: Config) -> int:
    async with _engine(config) as engine:
        staff = await auth.list_staff(engine)
        locked = {
            lock["value"]
            for lock in await throttle.locks(engine, _now())
            if lock["kind"] == "account" and lock["locked"]
        }
    for s in staff:
        state = "aktif / active" if s["active"] else "nonaktif / disabled"
        if s["username"] in locked:
            state += ", terkunci / locked"
        print(f"{s['username']:<20} {s['role']:<14} {state:<36} {s['name']}")
    return 0


async def cmd_user_disable(args: argparse.Namespace, config: Config) -> int:
    async with _engine(config) as engine:
        ended = await accounts.set_active(engine, Credentials(engine), args.username, False)
    print(f"{args.username} dinonaktifkan / disabled; {ended} sesi berakhir / sessions ended")
    return 0


async def cmd_user_enable(args: argparse.Namespace, config: Config) -> int:
    async with _engine(config) as engine:
        await accounts.set_active(engine, Credentials(engine), args.username, True)
    print(f"{args.username} diaktifkan / enabled")
    return 0


async def cmd_user_password(args: argparse.Namespace, config: Config) -> int:
    password = _read_password(args)
    async with _engine(config) as engine:
        ended = await accounts.set_password(engine, Credentials(engine), args.username, password)
    print(f"kata sandi {args.username} diganti / changed; {ended} sesi berakhir / sessions ended")
    return 0


async def cmd_user_role(args: argparse.Namespace, config: Config) -> int:
    async with _engine(config) as engine:
        role = Role(args.role)
        ended = await accounts.set_role(engine, Credentials(engine), args.username, role)
    print(f"{args.username}: peran / role {args.role}; {ended} sesi berakhir / sessions ended")
    return 0


async def cmd_user_unlock(args: argparse.Namespace, config: Config) -> int:
    async with _engine(config) as engine:
        lifted = await accounts.unlock(engine, args.username, args.address, args.device)
    print(f"{lifted} kunci dibuka / locks lifted")
    return 0


async def cmd_user_locks(args: argparse.Namespace, config: Config) -> int:
    async with _engine(config) as engine:
        found = await throttle.locks(engine, _now())
    for lock in found:
        state = "TERKUNCI / LOCKED" if lock["locked"] else "menghitung / counting"
        print(
            f"{lock['kind']:<8} {lock['value']:<34} {lock['failures']:>3} gagal / failed  "
            f"{state}  {lock['last_failure_at']}"
        )
    return 0


# -- tokens -----------------------------------------------------------------------------
async def cmd_token_add(args: argparse.Namespace, config: Config) -> int:
    role = Role(args.role)
    readers = tokens.check_readers(role, args.reader or [], [r.name for r in config.readers])
    async with _engine(config) as engine:
        token = await tokens.create_token(engine, args.name, role, _now(), readers=readers or None)
    if args.output:
        _write_secret(Path(args.output), token)
        print(f"token ditulis ke / written to {args.output}")
    else:
        print(token)
    return 0


async def cmd_token_list(args: argparse.Namespace, config: Config) -> int:
    async with _engine(config) as engine:
        found = await tokens.list_tokens(engine)
    for t in found:
        state = f"dicabut / revoked {t['revoked_at']}" if t["revoked_at"] else "berlaku / in force"
        readers = ",".join(t["readers"]) if t["readers"] is not None else "*"
        print(f"{t['name']:<24} {t['role']:<13} {readers:<30} {state}")
    return 0


async def cmd_token_revoke(args: argparse.Namespace, config: Config) -> int:
    async with _engine(config) as engine:
        await tokens.revoke_token(engine, Credentials(engine), args.name, _now(), "cli")
    print(f"token {args.name} dicabut / revoked")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="staff accounts").add_subparsers(dest="sub", required=True)
    p = user.add_parser("add", help="add a staff account")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--name")
    p.add_argument("--password-file", help="read the password from a file (else prompt)")
    p.set_defaults(run=cmd_user_add)
    user.add_parser("list", help="list staff accounts").set_defaults(run=cmd_user_list)
    for name, run, what in (
        ("disable", cmd_user_disable, "disable an account (its sessions end)"),
        ("enable", cmd_user_enable, "enable an account"),
    ):
        p = user.add_parser(name, help=what)
        p.add_argument("username")
        p.set_defaults(run=run)
    p = user.add_parser("password", help="set a new password (the account's sessions end)")
    p.add_argument("username")
    p.add_argument("--password-file", help="read the password from a file (else prompt)")
    p.set_defaults(run=cmd_user_password)
    p = user.add_parser("role", help="change an account's role (its sessions end)")
    p.add_argument("username")
    p.add_argument("role", choices=ROLES)
    p.set_defaults(run=cmd_user_role)
    p = user.add_parser("unlock", help="lift the login lock of an account, address or browser")
    p.add_argument("username", nargs="?")
    p.add_argument("--address", help="a client address locked out")
    p.add_argument("--device", help="a browser's id, as `bidroom user locks` shows it")
    p.set_defaults(run=cmd_user_unlock)
    user.add_parser("locks", help="locked and counting logins").set_defaults(run=cmd_user_locks)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="sub", required=True)
    p = token.add_parser("add", help="create a bearer token (e.g. for a reader agent)")
    p.add_argument("--name", required=True)
    p.add_argument("--role", default="device", choices=[Role.DEVICE.value, *ROLES])
    p.add_argument(
        "--reader",
        action="append",
        help="a reader the token may tap for (repeat for more; required for a device)",
    )
    p.add_argument("--output", help="write it to this file (mode 0600)")
    p.set_defaults(run=cmd_token_add)
    token.add_parser("list", help="list tokens (never their secret)").set_defaults(
        run=cmd_token_list
    )
    p = token.add_parser("revoke", help="revoke a token by name")
    p.add_argument("name")
    p.set_defaults(run=cmd_token_revoke)
