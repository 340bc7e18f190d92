"""Sealing a signed-off day and proving later that nothing was altered.

At sign-off :func:`seal_day` generates the day's books and visit report from the
tables, stores each file with its SHA-256 in ``sealed_files`` together with the
journal head it covers (printed in every PDF footer), keeps a manifest with a
digest of every book row (without personal fields, so it survives
crypto-shredding), and journals the files' hashes in the chain itself.

:func:`verify_archive` checks the journal's hash chain, replays the journal and
compares every table row with it, checks each sealed file against its stored and
journaled hashes, and re-derives each sealed day's books from the journal as of
the seal. Every fault names its place: a journal seq, a table row, a file, a
book row.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.domain import facts as f
from service.domain.model import FIELDS, personal_fields, row_day
from service.reports.books import Books, row_digests
from service.reports.data import Records, load_records
from service.reports.layout import Layout, SignOff
from service.reports.render import books_file, build_all, layout_for, report_file
from service.store.journal import canonical
from service.store.tables import SealedFileRow, table_of

# Entities whose rows a seal covers, and the day each row belongs to.
DAY_RECORDS = (
    "visit",
    "deposit",
    "usage",
    "ticket",
    "help",
    "justification",
    "access_event",
    "day",
)


def day_of_record(records: Records, entity: str, row: dict[str, Any], tz: tzinfo) -> date | None:
    """The day a record (a table row as a dict) belongs to: the same rule as the state's."""

    def visit_day(visit_id: int) -> date | None:
        visit = records["visit"].get(visit_id)
        return visit["day"] if visit is not None else None

    return row_day(entity, row.get, visit_day, tz)


if TYPE_CHECKING:
    from service.config import Config

_LOGGER = logging.getLogger(__name__)
_SEALED = table_of(SealedFileRow)
SEALED_FACT = f.DaySealed.KIND


@dataclass(frozen=True, slots=True)
class Fault:
    place: str  # "journal seq 12", "table visits id 3", "file 2026-11-25-buku-kendali.pdf"
    problem: str

    def describe(self) -> str:
        return f"{self.place}: {self.problem}"


@dataclass(frozen=True, slots=True)
class SealedFile:
    day: date
    name: str
    sha256: str
    size: int


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_name(day: date) -> str:
    return f"{day.isoformat()}-manifest.json"


def seal_files(books: Books, report_pdf: bytes, layout: Layout, day: date) -> dict[str, bytes]:
    """The day's files by name (the manifest is added by the caller)."""
    stem = day.isoformat()
    return {
        f"{stem}-buku-kendali.pdf": books_file(books, layout, "pdf"),
        f"{stem}-buku-kendali.xlsx": books_file(books, layout, "xlsx"),
        f"{stem}-buku-kendali-akses.csv": books_file(books, layout, "csv", "access"),
        f"{stem}-buku-kendali-fasilitas.csv": books_file(books, layout, "csv", "usage"),
        f"{stem}-laporan-kunjungan.pdf": report_pdf,
    }


def record_digest(entity: str, row: dict[str, Any]) -> str:
    """A row's digest without its personal fields (so it survives crypto-shredding)."""
    from service.domain.model import ENTITIES

    secret = personal_fields(ENTITIES[entity])
    data = {k: row.get(k) for k in FIELDS[entity] if k not in secret}
    return sha256(canonical(data).encode())


def record_digests(records: Records, day: date, tz: tzinfo) -> dict[str, str]:
    """Every record of the day (``visit:12`` -> digest): what the seal covers."""
    return {
        f"{entity}:{ident}": record_digest(entity, row)
        for entity, rows in records.tables.items()
        if entity in DAY_RECORDS
        for ident, row in rows.items()
        if day_of_record(records, entity, row, tz) == day
    }


def manifest(
    day: date,
    site: str,
    head: tuple[int, str],
    files: dict[str, bytes],
    books: Books,
    records: dict[str, str],
    amendments: list[int],
) -> bytes:
    body = {
        "day": day.isoformat(),
        "site": site,
        "journal_seq": head[0],
        "journal_hash": head[1],
        "files": {name: sha256(data) for name, data in sorted(files.items())},
        "rows": row_digests(books),
        "records": records,
        "amendments_signed": amendments,
    }
    return json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False).encode()


async def build_seal(
    engine: AsyncEngine,
    config: Config,
    day: date,
    head: tuple[int, str],
    now: datetime,
    amendments: list[int],
) -> dict[str, bytes]:
    """The files of a day's seal, manifest included (CPU-heavy: run in the worker)."""
    layout = layout_for(config, day, day, journal=head)
    records = await load_records(engine, layout.tz, day, day)
    day_row = records["day"].get(day, {})
    signed, login = day_row.get("signed_at"), day_row.get("signed_by")
    signoff = None
    if signed is not None and login:
        by = records.staff.get(login) or login
        signoff = SignOff(by, login, signed, head[0], head[1])
    layout = layout_for(
        config, day, day, created=signed or now, journal=head, signoff=signoff, free_text=False
    )
    books, report = build_all(records, config, day, day, signed or now)
    files = seal_files(books, report_file(report, layout, "pdf"), layout, day)
    digests = record_digests(records, day, layout.tz)
    files[manifest_name(day)] = manifest(
        day, config.site.name, head, files, books, digests, amendments
    )
    return files


def digest_faults(day: date, sealed: dict[str, dict[str, str]], books: Books) -> list[Fault]:
    """Book rows re-derived from the journal against the digests kept at the seal."""
    faults: list[Fault] = []
    derived = row_digests(books)
    for book, rows in sealed.items():
        now = derived.get(book, {})
        for key in sorted(rows.keys() | now.keys()):
            place = f"book {book} {day.isoformat()}, {key}"
            if key not in now:
                faults.append(Fault(place, "sealed row no longer derivable from the journal"))
            elif key not in rows:
                faults.append(Fault(place, "row in the journal but not in the sealed book"))
            elif rows[key] != now[key]:
                faults.append(Fault(place, "row differs from the sealed book"))
    return faults


def file_faults(
    rows: list[Any], journaled: dict[str, str], manifest_body: dict[str, Any] | None
) -> list[Fault]:
    """Each sealed file against its stored, journaled and manifest hashes."""
    faults: list[Fault] = []
    listed = (manifest_body or {}).get("files", {})
    for row in rows:
        place = f"file {row.name}"
        actual = sha256(row.content)
        if actual != row.sha256:
            faults.append(Fault(place, "content does not match its stored SHA-256 (swapped)"))
        if journaled.get(row.name) not in (None, row.sha256):
            faults.append(Fault(place, "stored SHA-256 differs from the one in the journal"))
        elif row.name not in journaled:
            faults.append(Fault(place, "no journaled hash for this file"))
        if row.name in listed and listed[row.name] != actual:
            faults.append(Fault(place, "content differs from the seal manifest"))
    for name in sorted(journaled.keys() - {r.name for r in rows}):
        faults.append(Fault(f"file {name}", "sealed file is missing"))
    return faults


async def sealed_rows(
    engine: AsyncEngine, day: date | None, *, content: bool = True
) -> dict[date, list[Any]]:
    """The newest seal of each day (or of one day): its file rows (without the files'
    bytes when ``content`` is false: a year of seals is too big to hold at once)."""
    columns = [c for c in _SEALED.c if content or c.name != "content"]
    stmt = select(*columns).order_by(_SEALED.c.id)
    if day is not None:
        stmt = stmt.where(_SEALED.c.day == day)
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    newest: dict[date, dict[str, Any]] = {}
    for row in rows:
        newest.setdefault(row.day, {})[row.name] = row
    out: dict[date, list[Any]] = {}
    for d, by_name in newest.items():
        top = max(r.journal_seq for r in by_name.values())
        out[d] = [r for r in by_name.values() if r.journal_seq == top]
    return out


def journaled_hashes(seals: list[tuple[int, f.DaySealed]], day: date) -> dict[str, str]:
    """Names -> SHA-256 of the newest journaled seal of ``day``."""
    mine = [fact for _, fact in seals if fact.day == day]
    if not mine:
        return {}
    newest = max(mine, key=lambda fact: fact.journal_seq)
    return {file.name: file.sha256 for file in newest.files}


async def list_sealed(engine: AsyncEngine, day: date) -> list[SealedFile]:
    """The newest seal's files of a day (for the sign-off page)."""
    rows = (await sealed_rows(engine, day)).get(day, [])
    return [SealedFile(r.day, r.name, r.sha256, len(r.content)) for r in rows]


async def read_sealed(engine: AsyncEngine, day: date, name: str) -> bytes | None:
    """One sealed file's bytes, exactly as sealed (None if there is no such file)."""
    rows = (await sealed_rows(engine, day)).get(day, [])
    return next((bytes(r.content) for r in rows if r.name == name), None)
