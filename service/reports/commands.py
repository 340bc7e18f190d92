"""``bidroom report``, ``bidroom archive`` and ``bidroom privacy``: the CLI of this package.

``service.cli.build_parser`` adds them with ``add_commands(sub)``; each command is
``async run(args, config) -> exit code`` like the other commands. Exit code 1 from
``archive verify`` means faults were found (each printed with its place).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from service.config import Config
from service.keyfile import KeyFile
from service.privacy import PersonalData
from service.reports.render import FORMATS, period, render_books, render_visit_report
from service.store.engine import make_engine

if TYPE_CHECKING:
    from service.runtime import Runtime

# Each command imports what only it needs when it runs: the parser is built for every
# ``bidroom`` command, and ``archive verify`` of a year must fit in bounded memory
# without the runtime, the PDF and XLSX writers and the bundle code loaded beside it.


@contextlib.asynccontextmanager
async def _engine(config: Config) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(config.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _runtime(config: Config) -> AsyncIterator[Runtime]:
    from service.runtime import Runtime

    runtime = Runtime(config, start_readers=False)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def _write(path: Path, data: bytes) -> None:
    await asyncio.to_thread(path.write_bytes, data)


async def cmd_report(args: argparse.Namespace, config: Config) -> int:
    start, end = period(args.date, args.month)
    async with _engine(config) as engine:
        if args.kind == "books":
            data = await render_books(
                engine, config, start, end, args.format, book=args.book, lang=args.lang
            )
        else:
            data = await render_visit_report(
                engine, config, start, end, args.format, lang=args.lang
            )
    await _write(Path(args.output), data)
    print(f"{args.output}: {len(data)} bytes")
    return 0


def _print_faults(faults: list[Any]) -> int:
    for fault in faults:
        print(fault.describe())
    print("arsip utuh / archive intact" if not faults else f"{len(faults)} kesalahan / fault(s)")
    return 1 if faults else 0


async def cmd_archive_verify(args: argparse.Namespace, config: Config) -> int:
    if args.bundle:
        from service.reports.bundle import verify_bundle

        return _print_faults(await asyncio.to_thread(verify_bundle, Path(args.bundle)))
    from service.reports.verify import verify_archive

    personal = None
    if config.security.key_file.exists():
        personal = PersonalData(KeyFile.open(config.security.key_file))
    else:
        print(f"{config.security.key_file} not found: personal fields are not compared")
    day = date.fromisoformat(args.day) if args.day else None
    async with _engine(config) as engine:
        faults = await verify_archive(engine, personal, day, ZoneInfo(config.site.timezone))
    return _print_faults(faults)


async def cmd_archive_export(args: argparse.Namespace, config: Config) -> int:
    from service.reports.bundle import export_day

    day = date.fromisoformat(args.day)
    async with _engine(config) as engine:
        tz = ZoneInfo(config.site.timezone)
        written = await export_day(engine, day, Path(args.to), tz, config.site.name)
    print(f"{len(written)} berkas / files in {args.to}")
    return 0


async def cmd_archive_seal(args: argparse.Namespace, config: Config) -> int:
    from service.reports.seal import seal_day

    async with _runtime(config) as runtime:
        files = await seal_day(runtime, date.fromisoformat(args.day), "cli")
    for f in files:
        print(f"{f.sha256}  {f.name}")
    return 0


async def cmd_privacy_purge(args: argparse.Namespace, config: Config) -> int:
    from service.reports.retention import purge

    async with _runtime(config) as runtime:
        report = await purge(runtime, runtime.clock(), args.days, dry_run=args.dry_run)
    print(report.describe())
    print("fields: " + ", ".join(report.fields))
    if args.dry_run:
        print("visitor ids: " + " ".join(str(v) for v in report.visitor_ids))
    return 0


async def cmd_privacy_export(args: argparse.Namespace, config: Config) -> int:
    from service.reports.subject import export_subject

    actor = f"cli:{args.actor or getpass.getuser()}"
    async with _runtime(config) as runtime:
        body = await export_subject(runtime, args.nik, actor, args.doc_type)
    text = json.dumps(body, ensure_ascii=False, indent=2)
    if args.output:
        await _write(Path(args.output), text.encode())
    else:
        sys.stdout.write(text + "\n")
    return 0


def _report_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="control books and the visit report")
    p.add_argument("kind", choices=["books", "visits"])
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", help="one day, YYYY-MM-DD")
    when.add_argument("--month", help="a month, YYYY-MM")
    p.add_argument("--format", choices=FORMATS, default="pdf")
    p.add_argument("--book", choices=["all", "access", "usage"], default="all")
    p.add_argument("--lang", choices=["id", "en"], default="id")
    p.add_argument("--output", required=True)
    p.set_defaults(run=cmd_report)


def add_commands(sub: Any) -> None:
    """Add ``report``, ``archive`` and ``privacy`` to the ``bidroom`` parser."""
    _report_parser(sub)
    archive = sub.add_parser("archive", help="sealed days").add_subparsers(
        dest="sub", required=True
    )
    p = archive.add_parser("verify", help="check the chain, the tables and the sealed files")
    p.add_argument("--day", help="only this day, YYYY-MM-DD")
    p.add_argument("--bundle", help="check an exported bundle folder offline instead")
    p.set_defaults(run=cmd_archive_verify)
    p = archive.add_parser("export", help="write a day's bundle for an auditor")
    p.add_argument("--day", required=True)
    p.add_argument("--to", required=True)
    p.set_defaults(run=cmd_archive_export)
    p = archive.add_parser("seal", help="seal a signed-off day again (normally done at sign-off)")
    p.add_argument("--day", required=True)
    p.set_defaults(run=cmd_archive_seal)
    privacy = sub.add_parser("privacy", help="personal data").add_subparsers(
        dest="sub", required=True
    )
    p = privacy.add_parser("purge", help="erase personal data past retention")
    p.add_argument("--dry-run", action="store_true", help="only show what would be erased")
    p.add_argument("--days", type=int, help="retention in days (default: [privacy] retention_days)")
    p.set_defaults(run=cmd_privacy_purge)
    p = privacy.add_parser("export", help="everything held about one person (journaled)")
    p.add_argument("--nik", required=True, help="the document number (NIK)")
    p.add_argument("--doc-type", default="ktp", choices=["ktp", "sim", "passport"])
    p.add_argument("--actor", help="who asks (default: the login name)")
    p.add_argument("--output", help="write the JSON here (default: stdout)")
    p.set_defaults(run=cmd_privacy_export)
