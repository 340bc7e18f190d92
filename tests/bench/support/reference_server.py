"""The reference for ``bench_http_taps.py``: the simplest aiohttp tap handler a competent
engineer writes, run as its own process (``python reference_server.py --port P ...``).

``POST /api/v1/taps`` reads the same JSON body bidroom gets (``reader``, ``uid``,
``event_id``), checks the three fields, and answers in bidroom's shape (``granted``,
``reason``, ``badge``) so the load generator treats both servers alike: ``entry`` at
a ``door_in`` reader, ``exit`` at a ``door_out`` one, no rules.

``--commit durable`` (the reference): one row per request committed to SQLite (WAL,
``synchronous=FULL``, so the commit is on disk before the answer) by one writer thread
that owns the only connection; the handler awaits it with ``run_in_executor`` so the
loop keeps serving other connections while a commit waits for its fsync. One commit
per request, no batching.

``--commit rows`` (what bidroom's own commit costs, with no rules, authentication or
state): per request the rows a door tap makes bidroom write, in one transaction on the
same writer thread: two journal rows (hash-chained with SHA-256), one access-event row
and the visit's row upserted whole, into bidroom's own tables and indexes (created
from ``service.store.tables``; foreign keys not enforced, as SQLite's default).

``--commit none`` (the ceiling): the same handler without the commit.

``GET /health`` answers 200 once the server listens.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web


def open_database(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS taps (id INTEGER PRIMARY KEY, at TEXT NOT NULL,"
        " reader TEXT NOT NULL, uid TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE)"
    )
    return conn


class TapRows:
    """bidroom's tables for a door tap (journal, access_events, visits), and their rows."""

    TABLES = ("journal", "access_events", "visits")

    def __init__(self, conn: sqlite3.Connection, visits: int) -> None:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
        from sqlalchemy.dialects import sqlite
        from sqlalchemy.schema import CreateIndex, CreateTable

        from service.store.tables import Base

        self.conn = conn
        self.tables = {name: Base.metadata.tables[name] for name in self.TABLES}
        dialect = sqlite.dialect()
        for table in self.tables.values():
            conn.execute(str(CreateTable(table).compile(dialect=dialect)))
            for index in table.indexes:
                conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
        self.columns = {name: [c.name for c in t.columns] for name, t in self.tables.items()}
        # Each column's kind, read once (the rows are then made without SQLAlchemy).
        self.kinds = {name: [_kind(c) for c in t.columns] for name, t in self.tables.items()}
        names = self.columns["visits"]
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != "id")
        self.upsert = (
            f"INSERT INTO visits ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}"
        )
        self.seq, self.events, self.head = 0, 0, "0" * 64
        conn.execute("BEGIN")
        for visit in range(1, visits + 1):
            conn.execute(self.upsert, self._values("visits", visit, "v"))
        conn.execute("COMMIT")

    def _values(self, table: str, ident: int, text: str) -> list[object]:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        out: list[object] = []
        for name, kind, length in self.kinds[table]:
            if kind == "id":
                out.append(ident)
            elif kind == "int":
                out.append(1)
            elif kind == "datetime":
                out.append(now)
            elif kind == "date":
                out.append(now[:10])
            elif kind == "json":
                out.append("[]")
            else:
                out.append(f"{text}-{name}"[:length])
        return out

    def write(self, reader: str, uid: str, event_id: str, visit: int) -> None:
        conn = self.conn
        conn.execute("BEGIN")
        for kind in ("tap.decided", "visit.entered"):
            self.seq += 1
            payload = json.dumps(
                {"kind": kind, "reader": reader, "uid": uid, "event_id": event_id, "visit": visit}
            )
            digest = hashlib.sha256((self.head + payload).encode()).hexdigest()
            row = self._values("journal", self.seq, kind)
            names = self.columns["journal"]
            row[names.index("payload")], row[names.index("kind")] = payload, kind
            row[names.index("prev_hash")], row[names.index("hash")] = self.head, digest
            self.head = digest
            conn.execute(f"INSERT INTO journal VALUES ({', '.join('?' * len(row))})", row)
        self.events += 1
        row = self._values("access_events", self.events, reader)
        row[self.columns["access_events"].index("event_id")] = event_id
        conn.execute(f"INSERT INTO access_events VALUES ({', '.join('?' * len(row))})", row)
        conn.execute(self.upsert, self._values("visits", visit, uid))
        conn.execute("COMMIT")


def _kind(column: Any) -> tuple[str, str, int]:
    kind = str(column.type).upper()
    length = getattr(column.type, "length", None) or 60
    if column.name in {"id", "seq"}:
        return column.name, "id", length
    for word, name in (("INT", "int"), ("BOOL", "int"), ("DATETIME", "datetime")):
        if word in kind:
            return column.name, name, length
    if kind == "DATE":
        return column.name, "date", length
    return column.name, "json" if "JSON" in kind else "text", length


def make_app(
    database: Path | None,
    readers: dict[str, str],
    labels: dict[str, str],
    tap_rows: bool = False,
) -> web.Application:
    conn = open_database(database) if database is not None else None
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
    rows = TapRows(conn, len(labels)) if conn is not None and tap_rows else None
    visit_of = {uid: n for n, uid in enumerate(sorted(labels), start=1)}

    def commit(row: tuple[str, str, str, str]) -> None:
        assert conn is not None
        if rows is not None:
            rows.write(row[1], row[2], row[3], visit_of[row[2]])
            return
        conn.execute("BEGIN")
        conn.execute("INSERT INTO taps (at, reader, uid, event_id) VALUES (?, ?, ?, ?)", row)
        conn.execute("COMMIT")

    async def tap(request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
            reader, uid, event_id = body["reader"], body["uid"], body["event_id"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "invalid"}, status=422)
        if not all(isinstance(v, str) for v in (reader, uid, event_id)) or reader not in readers:
            return web.json_response({"error": "invalid"}, status=422)
        label = labels.get(uid)
        if label is None:
            return web.json_response({"error": "unknown badge"}, status=404)
        if conn is not None:
            row = (datetime.now(UTC).isoformat(), reader, uid, event_id)
            await asyncio.get_running_loop().run_in_executor(writer, commit, row)
        reason = "entry" if readers[reader] == "door_in" else "exit"
        return web.json_response({"granted": True, "reason": reason, "badge": label})

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def close(_: web.Application) -> None:
        writer.shutdown(wait=True)
        if conn is not None:
            conn.close()

    app = web.Application()
    app.router.add_post("/api/v1/taps", tap)
    app.router.add_get("/health", health)
    app.on_cleanup.append(close)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--commit", choices=["durable", "rows", "none"], required=True)
    parser.add_argument("--database", type=Path, help="SQLite file (with --commit durable)")
    parser.add_argument("--site", type=Path, required=True, help="JSON: readers and badges")
    args = parser.parse_args()
    site = json.loads(args.site.read_text(encoding="utf-8"))
    if args.commit != "none" and args.database is None:
        parser.error(f"--commit {args.commit} needs --database")
    app = make_app(
        args.database if args.commit != "none" else None,
        {r["name"]: r["role"] for r in site["readers"]},
        {b["uid"]: b["label"] for b in site["badges"]},
        tap_rows=args.commit == "rows",
    )
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
