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

``--commit none`` (the ceiling): the same handler without the commit.

``GET /health`` answers 200 once the server listens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

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


def make_app(
    database: Path | None, readers: dict[str, str], labels: dict[str, str]
) -> web.Application:
    conn = open_database(database) if database is not None else None
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")

    def commit(row: tuple[str, str, str, str]) -> None:
        assert conn is not None
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
    parser.add_argument("--commit", choices=["durable", "none"], required=True)
    parser.add_argument("--database", type=Path, help="SQLite file (with --commit durable)")
    parser.add_argument("--site", type=Path, required=True, help="JSON: readers and badges")
    args = parser.parse_args()
    site = json.loads(args.site.read_text(encoding="utf-8"))
    if args.commit == "durable" and args.database is None:
        parser.error("--commit durable needs --database")
    app = make_app(
        args.database if args.commit == "durable" else None,
        {r["name"]: r["role"] for r in site["readers"]},
        {b["uid"]: b["label"] for b in site["badges"]},
    )
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
