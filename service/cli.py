"""The ``bidroom`` command.

Every command finds its configuration the same way: ``--config FILE``, else
``./bidroom.toml``, else the built-in defaults (database ``./bidroom.db``). Commands
that change the room's state run the same rules through their own single writer;
a running daemon notices the new journal rows within two seconds and reloads.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import secrets
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from service.config import DEFAULT_CONFIG_NAME, Config, load_config
from service.errors import BidroomError
from service.logs import redact_uid, setup_logging

EXAMPLE_CONFIG = Path(__file__).parent / "example.toml"
DEMO_CONFIG = Path(__file__).parent / "demo.toml"
Command = Callable[[argparse.Namespace, Config], Awaitable[int]]


def _config(args: argparse.Namespace) -> Config:
    return load_config(Path(args.config) if args.config else None)


async def _with_runtime(config: Config, work: Callable[[Any], Awaitable[int]]) -> int:
    from service.runtime import Runtime

    runtime = Runtime(config, start_readers=False)
    await runtime.start()
    try:
        return await work(runtime)
    finally:
        await runtime.stop()


# -- serve -----------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from service.server import create_app

    if args.demo and not args.config and not Path(DEFAULT_CONFIG_NAME).exists():
        shutil.copyfile(DEMO_CONFIG, DEFAULT_CONFIG_NAME)
        print(
            f"Konfigurasi demo ditulis ke ./{DEFAULT_CONFIG_NAME} (demo configuration written)",
            file=sys.stderr,
        )
    config = _config(args)
    host = args.host or config.host
    port = args.port or config.port
    app = create_app(config, demo=args.demo)

    async def freeze_loaded_state(app: web.Application) -> None:
        # The loaded state lives all day: keep it out of the collector's way (short pauses).
        gc.collect()
        gc.freeze()

    app.on_startup.append(freeze_loaded_state)
    if args.demo:
        from service.demo import DEMO_PASSWORD, DEMO_USERS

        logins = ", ".join(f"{u} ({r.value})" for u, _, r in DEMO_USERS)
        print(
            f"Login demo / demo logins: {logins}; kata sandi / password: {DEMO_PASSWORD}",
            file=sys.stderr,
        )
    print(
        f"bidroom: buka / open http://{host}:{port}/ (database {config.database_url})",
        file=sys.stderr,
        flush=True,
    )
    from service.daemon import serve

    # systemd's Type=notify: READY once the API answers, the watchdog, a graceful stop.
    with asyncio.Runner(loop_factory=_event_loop) as runner:
        return runner.run(serve(app, config, host, port))


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop (libuv) where it is installed: the same asyncio API, a faster loop for the
    HTTP path; the standard loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


# -- init (users and tokens: service/cli_accounts.py) ---------------------------------
async def cmd_init(args: argparse.Namespace, config: Config) -> int:
    target = Path(args.config or DEFAULT_CONFIG_NAME)
    if target.exists():
        print(f"{target} sudah ada; tidak ditimpa (exists, not overwritten)")
    else:
        shutil.copyfile(EXAMPLE_CONFIG, target)
        print(f"menulis {target} (commented configuration written)")
    config = load_config(target)
    password = args.password or secrets.token_urlsafe(12)

    async def work(runtime: Any) -> int:
        from service import auth
        from service.auth import Role

        await auth.add_staff(
            runtime.engine, args.admin, "Administrator", Role.ADMIN, password, datetime.now(UTC)
        )
        print(f"admin: {args.admin}  kata sandi / password: {password}")
        return 0

    return await _with_runtime(config, work)


# -- badges, taps ------------------------------------------------------------------
async def cmd_badge_enroll(args: argparse.Namespace, config: Config) -> int:
    from service.domain import visits
    from service.domain.taps import normalise_uid

    async def work(runtime: Any) -> int:
        uid = args.uid
        if args.reader:
            from devices.base import DeviceError
            from devices.nfc import enroll_badge

            print("tempelkan kartu pada pembaca / present the badge to the reader …")
            try:
                uid = await enroll_badge(args.reader, args.label, runtime.token_key)
            except (DeviceError, TimeoutError, ValueError) as exc:
                raise SystemExit(f"kartu tidak terdaftar / badge not enrolled: {exc}") from exc
        if not uid:
            raise SystemExit("--uid atau --reader wajib / --uid or --reader is required")
        uid = normalise_uid(uid)
        now = datetime.now(UTC)
        badge = await runtime.execute(
            lambda tx: visits.enroll_badge(tx, uid, args.label, now, "cli")
        )
        print(
            f"kartu {badge.label} terdaftar / enrolled (UID {redact_uid(uid)})"
            + (" dengan token NDEF / with NDEF token" if args.reader else "")
        )
        return 0

    return await _with_runtime(config, work)


async def cmd_badge_list(args: argparse.Namespace, config: Config) -> int:
    async def work(runtime: Any) -> int:
        for b in sorted(runtime.state.badges.values(), key=lambda b: b.label):
            print(
                f"{b.label:<8} {redact_uid(b.uid)}  {b.state.value:<10} "
                f"{'kunjungan ' + str(b.visit_id) if b.visit_id else ''}"
            )
        return 0

    return await _with_runtime(config, work)


async def cmd_simulate_tap(args: argparse.Namespace, config: Config) -> int:
    from service.domain.taps import Tap, reason_text

    async def work(runtime: Any) -> int:
        tap = Tap(
            reader=args.reader,
            uid=args.uid,
            at=datetime.now(UTC),
            event_id=args.event_id or f"cli-{secrets.token_hex(8)}",
        )
        decision, replayed = await runtime.submit_ex(tap)
        verdict = "DIIZINKAN / granted" if decision.granted else "DITOLAK / denied"
        print(
            f"{verdict}: {reason_text(decision.reason)} / {reason_text(decision.reason, 'en')}"
            + (f" — laci / slot {decision.slot}" if decision.slot else "")
            + (" (ulangan / replay)" if replayed else "")
        )
        return 0 if decision.granted else 3

    return await _with_runtime(config, work)


async def cmd_reader_install_key(args: argparse.Namespace, config: Config) -> int:
    from devices.osdp import install_key
    from service.keyfile import KeyFile

    reader = config.reader(args.reader)
    if reader is None or not reader.url.startswith("osdp"):
        raise SystemExit(f"{args.reader}: bukan pembaca OSDP di konfigurasi / not an OSDP reader")
    address = int(args.address) if args.address is not None else _osdp_address(reader.url)
    keys = KeyFile.open(config.security.key_file)
    await install_key(reader.url, address, reader.name, keys)
    print(f"kunci Secure Channel dipasang untuk {reader.name} / key installed")
    return 0


def _osdp_address(url: str) -> int:
    from urllib.parse import parse_qs, urlsplit

    values = parse_qs(urlsplit(url).query).get("addr", ["0"])
    return int(values[0])


# -- database and archive -----------------------------------------------------------
async def cmd_db_upgrade(args: argparse.Namespace, config: Config) -> int:
    from service.notices import Notices
    from service.store.engine import make_engine
    from service.store.integrity import prepare_database

    engine = make_engine(config.database_url)
    try:
        await Notices(engine).start(await prepare_database(engine, config))
    finally:
        await engine.dispose()
    print("basis data mutakhir / database upgraded")
    return 0


async def cmd_agent(args: argparse.Namespace, config: Config) -> int:
    from devices.agent import run_agent
    from devices.outbox import default_outbox_path

    token = Path(args.token).read_text(encoding="utf-8").strip()
    outbox = Path(args.outbox) if args.outbox else default_outbox_path(args.name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run_agent(args.reader, args.server, token, args.name, outbox, stop=stop)
    return 0


def _date(value: str) -> date:
    return date.fromisoformat(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bidroom", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="TOML config file (default ./bidroom.toml)")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the daemon")
    p.add_argument("--demo", action="store_true", help="demo site with simulated readers")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(sync=cmd_serve)

    p = sub.add_parser("init", help="write a commented config and create the first admin")
    p.add_argument("--admin", default="admin")
    p.add_argument("--password", help="(default: a generated one, printed)")
    p.set_defaults(run=cmd_init)

    from service.cli_accounts import add_commands as add_account_commands

    add_account_commands(sub)  # user, token

    badge = sub.add_parser("badge", help="the badge pool").add_subparsers(dest="sub", required=True)
    p = badge.add_parser("enroll", help="enrol a badge (by UID, or read and sign it on a reader)")
    p.add_argument("--label", required=True, help="printed label, e.g. K-001")
    p.add_argument("--uid", help="UID in hex")
    p.add_argument("--reader", help="nfcpy reader URL to read the UID and write the NDEF token")
    p.set_defaults(run=cmd_badge_enroll)
    badge.add_parser("list", help="list badges").set_defaults(run=cmd_badge_list)

    sim = sub.add_parser("simulate", help="simulate taps").add_subparsers(dest="sub", required=True)
    p = sim.add_parser("tap", help="present a badge to a reader")
    p.add_argument("--reader", required=True)
    p.add_argument("--uid", required=True)
    p.add_argument("--event-id")
    p.set_defaults(run=cmd_simulate_tap)

    reader = sub.add_parser("reader", help="readers").add_subparsers(dest="sub", required=True)
    p = reader.add_parser("install-key", help="set a new OSDP Secure Channel key on a reader")
    p.add_argument("--reader", required=True)
    p.add_argument("--address", help="OSDP address (default: from the reader URL)")
    p.set_defaults(run=cmd_reader_install_key)

    db = sub.add_parser("db", help="database").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(run=cmd_db_upgrade)

    from service.store.commands import add_commands as add_backup_commands

    add_backup_commands(sub)  # backup, restore

    from service.reports.commands import add_commands

    add_commands(sub)  # report, archive, privacy

    p = sub.add_parser("agent", help="forward a workstation's reader to the daemon")
    p.add_argument("--reader", required=True, help="local reader URL, e.g. nfc:usb:072f:2200")
    p.add_argument("--server", required=True, help="daemon URL, e.g. http://10.0.0.5:8080")
    p.add_argument("--token", required=True, help="file holding the device token")
    p.add_argument("--name", required=True, help="the reader's name in the daemon's config")
    p.add_argument("--outbox", help="SQLite outbox file (default in the user's state folder)")
    p.set_defaults(run=cmd_agent)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        if hasattr(args, "sync"):
            return int(args.sync(args))
        config = Config() if args.run is cmd_init else _config(args)
        return int(asyncio.run(args.run(args, config)))
    except (BidroomError, OperationalError) as exc:
        from service.store.integrity import locked_error

        # A lock outliving the busy timeout after start-up is one line too; else it raises.
        error = exc if isinstance(exc, BidroomError) else locked_error(exc)
        print(f"bidroom: {error.message_id} / {error.message_en}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        if not isinstance(exc.code, str):
            raise
        print(f"bidroom: {exc.code}", file=sys.stderr)  # a command's own refusal, one line
        return 2
    except OSError as exc:  # a file or a device that cannot be opened or written
        print(f"bidroom: gagal / failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
