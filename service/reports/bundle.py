"""``bidroom archive export``: a self-contained bundle an auditor verifies offline.

The bundle folder holds the sealed files as they were sealed, the journal slice
from the day's first row to the seal (``journal.jsonl``), the badges, facilities
and visitors that existed before that slice (``context.json``, personal fields
left out), ``SHA256SUMS`` and a README. :func:`verify_bundle` checks the slice's
hash chain, the sealed head, every file's hash (against SHA256SUMS, the manifest
and the hashes journaled in the slice) and re-derives the books' rows from the
slice alone: no database and no keys needed.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from service.domain.model import personal_fields
from service.domain.state import RoomState
from service.errors import NotFound
from service.i18n import _
from service.reports.archive import (
    Fault,
    digest_faults,
    journaled_hashes,
    manifest_name,
    sealed_rows,
    sha256,
)
from service.reports.books import build_books
from service.reports.data import day_range
from service.reports.replay import SEALED, Opener, Replay, read_journal, replay
from service.store.journal import JournalEntry, verify_rows
from service.store.loader import entity_from_values
from service.store.persist import row_values

README = """Arsip hari {day} - {site}
==========================================

Isi / contents
- {day}-*.pdf, *.xlsx, *.csv: buku kendali dan laporan kunjungan yang disegel
  saat pengesahan (the books and the visit report sealed at sign-off).
- {day}-manifest.json: hash SHA-256 setiap berkas, kepala jurnal yang disegel
  (seq {seq}, {head}) dan digest setiap baris buku tanpa data pribadi.
- journal.jsonl: potongan jurnal berantai hash, seq {first} s.d. {last}.
  Baris n: hash = sha256(prev_hash|seq|at|kind|actor|payload).
- context.json: catatan yang sudah ada sebelum potongan (kartu, fasilitas,
  pengunjung, kunjungan yang masih berjalan, ...; tanpa data pribadi), untuk
  menurunkan ulang buku dari potongan jurnal.
- SHA256SUMS: hash semua berkas (`sha256sum -c SHA256SUMS`).

Verifikasi / verification (offline, tanpa basis data):
    bidroom archive verify --bundle <folder ini>
memeriksa rantai hash potongan jurnal, kepala jurnal yang disegel, hash setiap
berkas, dan menurunkan ulang baris buku dari jurnal lalu membandingkannya
dengan digest di manifest. Setiap kesalahan disebut tempatnya (seq jurnal,
nama berkas, baris buku).
"""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _entry_json(e: JournalEntry) -> str:
    body = {"seq": e.seq, "at": e.at.isoformat(), "kind": e.kind, "actor": e.actor}
    body |= {"payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash}
    return json.dumps(body, sort_keys=True, ensure_ascii=False)


def _context(state: RoomState) -> dict[str, list[dict[str, Any]]]:
    """Every record in the state before the slice, personal fields left out."""
    out: dict[str, list[dict[str, Any]]] = {}
    for entity, rows in sorted(state.tables.items()):
        if entity == "anomaly":
            continue
        secret = personal_fields(type(next(iter(rows.values())))) if rows else frozenset()
        out[entity] = [
            {k: (None if k in secret else _plain(v)) for k, v in row_values(entity, obj).items()}
            for obj in rows.values()
        ]
    return out


async def export_day(
    engine: AsyncEngine, day: date, to: Path, tz: ZoneInfo, site: str = "LPSE"
) -> list[Path]:
    """Write the sealed day's bundle into ``to`` (created); returns the files written."""
    rows = (await sealed_rows(engine, day)).get(day)
    if not rows:
        raise NotFound(_("Hari {day} belum disegel.", day=day))
    async with engine.connect() as conn:
        entries = await read_journal(conn)
    start = day_range(tz, day, day)[0]
    first = next((e.seq for e in entries if e.at >= start), rows[0].journal_seq)
    replayed = replay((e for e in entries if e.seq < first), Opener(None, {}))
    context = _context(replayed.state)
    replay((e for e in entries if e.seq >= first), Opener(None, {}), replayed)
    seal_seq = max((s for s, v in replayed.seals if v.day == day), default=0)
    seal_seq = max(seal_seq, rows[0].journal_seq)
    files = {r.name: bytes(r.content) for r in rows}
    files["journal.jsonl"] = "".join(
        _entry_json(e) + "\n" for e in entries if first <= e.seq <= seal_seq
    ).encode()
    files["context.json"] = json.dumps(context, sort_keys=True, ensure_ascii=False).encode()
    files["README.txt"] = README.format(
        day=day,
        site=site,
        seq=rows[0].journal_seq,
        head=rows[0].journal_hash,
        first=first,
        last=seal_seq,
    ).encode()
    sums = "".join(f"{sha256(data)}  {name}\n" for name, data in sorted(files.items()))
    files["SHA256SUMS"] = sums.encode()
    return await asyncio.to_thread(_write_all, to, files)


def _write_all(to: Path, files: dict[str, bytes]) -> list[Path]:
    to.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (to / name).write_bytes(data)
    return [to / name for name in files]


def _read_entries(path: Path) -> list[JournalEntry]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        at = datetime.fromisoformat(raw["at"])
        entries.append(
            JournalEntry(
                raw["seq"],
                at,
                raw["kind"],
                raw["actor"],
                raw["payload"],
                raw["prev_hash"],
                raw["hash"],
            )
        )
    return entries


def _sum_faults(folder: Path) -> list[Fault]:
    faults: list[Fault] = []
    sums = folder / "SHA256SUMS"
    if not sums.exists():
        return [Fault("file SHA256SUMS", "missing")]
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        path = folder / name
        if not path.exists():
            faults.append(Fault(f"file {name}", "missing from the bundle"))
        elif sha256(path.read_bytes()) != digest:
            faults.append(Fault(f"file {name}", "content differs from SHA256SUMS"))
    return faults


def _base(folder: Path) -> Replay:
    base = Replay()
    context = json.loads((folder / "context.json").read_text(encoding="utf-8"))
    for entity, rows in context.items():
        for row in rows:
            values = {
                k: (SEALED if v is None and k in _secret(entity) else v) for k, v in row.items()
            }
            base.state.put(entity, entity_from_values(entity, values))
    return base


def _secret(entity: str) -> frozenset[str]:
    from service.domain.model import ENTITIES

    return personal_fields(ENTITIES[entity])


def verify_bundle(folder: Path, tz: ZoneInfo | None = None) -> list[Fault]:
    """Check an exported bundle offline; every fault names its place."""
    tz = tz or ZoneInfo("Asia/Jakarta")
    faults = _sum_faults(folder)
    manifests = sorted(folder.glob("*-manifest.json"))
    if not manifests:
        return [*faults, Fault("file *-manifest.json", "missing from the bundle")]
    body = json.loads(manifests[0].read_text(encoding="utf-8"))
    day = date.fromisoformat(body["day"])
    for name, digest in body["files"].items():
        path = folder / name
        if path.exists() and sha256(path.read_bytes()) != digest:
            faults.append(Fault(f"file {name}", "content differs from the seal manifest"))
    entries = _read_entries(folder / "journal.jsonl")
    if entries:
        chain = verify_rows(entries, entries[0].prev_hash, entries[0].seq)
        faults += [Fault(f"journal seq {f.seq}", f.problem) for f in chain]
    head = next((e for e in entries if e.seq == body["journal_seq"]), None)
    if head is None or head.hash != body["journal_hash"]:
        faults.append(Fault(f"journal seq {body['journal_seq']}", "sealed head missing or changed"))
    replayed = _base(folder)
    checked = False
    for entry in entries:
        try:
            replayed.apply(entry, Opener(None, {}))
        except KeyError:
            faults.append(Fault(f"journal seq {entry.seq}", "names a record the bundle lacks"))
            break
        if entry.kind == "day.signed" and replayed.signed_at_seq.get(day) == entry.seq:
            books = build_books(replayed.day_records(day, tz), day, day, tz)
            faults += digest_faults(day, body.get("rows", {}), books)
            checked = True
    if not checked:
        faults.append(Fault(f"journal of {day.isoformat()}", "the signature is not in the slice"))
    journaled = journaled_hashes(replayed.seals, day)
    for name in [*body["files"], manifests[0].name]:
        path = folder / name
        if path.exists() and journaled.get(name) not in (None, sha256(path.read_bytes())):
            faults.append(Fault(f"file {name}", "differs from the hash journaled at the seal"))
    if manifest_name(day) not in journaled:
        faults.append(Fault(f"file {manifest_name(day)}", "no journaled hash in the slice"))
    return faults
