"""``bidroom backup --to FILE`` and ``bidroom restore --from FILE`` (SQLite).

``service.cli.build_parser`` adds them with ``add_commands(sub)``. The work is in
:mod:`service.store.backup`; here are the words the technician reads. Every refusal
is one line in Indonesian and English with exit code 2 (a :class:`BackupError`).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from service.config import Config
from service.i18n import _
from service.store.backup import BackupError, backup, restore
from service.store.engine import sqlite_path


def _sqlite_file(config: Config, tool: str) -> Path:
    path = sqlite_path(config.database_url)
    if path is None:
        raise BackupError(
            _(
                "Basis data ini bukan SQLite; untuk PostgreSQL gunakan {tool} (lihat README).",
                tool=tool,
            ),
        )
    return path


async def cmd_backup(args: argparse.Namespace, config: Config) -> int:
    database = _sqlite_file(config, "pg_dump")
    target = Path(args.to)
    info = await asyncio.to_thread(backup, database, target)
    print(
        f"cadangan ditulis / backup written: {target} (migrasi / migration {info.revision}, "
        f"jurnal / journal #{info.journal_seq}, {info.size / 1e6:.1f} MB)"
    )
    key = config.security.key_file
    print(
        f"Ingat: cadangkan juga berkas kunci {key}, tanpa itu data pribadi tidak terbaca / "
        f"Remember: back up the key file {key} too; without it personal data cannot be read."
    )
    return 0


async def cmd_restore(args: argparse.Namespace, config: Config) -> int:
    database = _sqlite_file(config, "pg_restore")
    source = Path(args.source)
    info, aside = await asyncio.to_thread(restore, source, database)
    print(
        f"dipulihkan / restored: {database} dari / from {source} (migrasi / migration "
        f"{info.revision}, jurnal / journal #{info.journal_seq})"
    )
    if aside is not None:
        print(f"berkas lama disimpan sebagai / the old file is kept as {aside}")
    key = config.security.key_file
    print(
        f"Data pribadi terbaca hanya dengan berkas kunci dari saat cadangan dibuat ({key}) / "
        f"Personal data can be read only with the key file of the backup's time ({key})."
    )
    return 0


def add_commands(sub: Any) -> None:
    """Add ``backup`` and ``restore`` to the ``bidroom`` parser."""
    p = sub.add_parser("backup", help="copy the SQLite database, also while the daemon runs")
    p.add_argument("--to", required=True, help="the backup file to write (must not exist)")
    p.set_defaults(run=cmd_backup)
    p = sub.add_parser("restore", help="put a backup in place of the database (daemon stopped)")
    p.add_argument("--from", dest="source", required=True, help="the backup file")
    p.set_defaults(run=cmd_restore)
