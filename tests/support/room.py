"""A room for tests that run the real ``bidroom serve`` process and tap its doors
over HTTP: an admin made with the CLI, then over the API a device token, badges and
a visit per badge with the badge issued. ``DoorStorm`` taps every badge in and out
from several clients until told to stop or until the daemon stops answering."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.daemon import Daemon, run_cli, write_config

DOOR_IN, DOOR_OUT = "pintu-masuk", "pintu-keluar"
ADMIN, PASSWORD = "admin", "rahasia-ruang-uji-1"


def badge_uid(n: int) -> str:
    return f"04B0D0{n:08X}"


async def prepare(folder: Path, capacity: int = 50) -> Path:
    """The site's config (SQLite in ``folder``, two door readers fed over the API) and
    its admin; the config's path."""
    config = write_config(
        folder,
        f"sqlite+aiosqlite:///{folder / 'bidroom.db'}",
        capacity=capacity,
        readers={DOOR_IN: "door_in", DOOR_OUT: "door_out"},
    )
    (folder / "admin.pw").write_text(PASSWORD + "\n", encoding="utf-8")
    added = await run_cli(
        config, "user", "add", ADMIN, "--role", "admin", "--password-file", "admin.pw"
    )
    assert added.returncode == 0, added.stderr
    return config


async def open_room(daemon: Daemon, badges: int) -> str:
    """Badges 1..``badges`` enrolled and issued to admitted visits; a device token."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        return await _open_room(daemon.base, http, badges)


async def _open_room(base: str, http: aiohttp.ClientSession, badges: int) -> str:
    async def call(method: str, path: str, body: Any, csrf: str = "") -> Any:
        async with http.request(
            method, base + path, json=body, headers={"X-CSRF-Token": csrf}
        ) as response:
            data = await response.json()
            assert response.status in (200, 201), (path, response.status, data)
            return data

    me = await call("POST", "/api/v1/login", {"username": ADMIN, "password": PASSWORD})
    csrf = me["csrf"]
    token = await call(
        "POST",
        "/api/v1/tokens",
        {
            "name": "doors",
            "role": "device",
            "readers": [DOOR_IN, DOOR_OUT],
            "current_password": PASSWORD,
        },
        csrf,
    )
    for n in range(1, badges + 1):
        await call("POST", "/api/v1/badges", {"uid": badge_uid(n), "label": f"R-{n:03d}"}, csrf)
        visit = await call(
            "POST",
            "/api/v1/visits",
            {
                "name": f"Pengunjung {n}",
                "company": f"CV Uji {n}",
                "doc_type": "passport",
                "doc_number": f"D{2000000 + n}",
                "rules_ack": True,
                "privacy_ack": True,
            },
            csrf,
        )
        await call("POST", f"/api/v1/visits/{visit['id']}/badge", {"label": f"R-{n:03d}"}, csrf)
    return str(token["token"])


@dataclass
class DoorStorm:
    """Clients tapping their badges in and out, one tap at a time each."""

    daemon: Daemon
    token: str
    badges: int
    clients: int = 4
    answered: dict[str, tuple[bool, str]] = field(default_factory=dict)  # event id -> decision
    refused: dict[str, int] = field(default_factory=dict)  # event id -> HTTP status
    unanswered: set[str] = field(default_factory=set)  # no HTTP answer at all
    answered_at: dict[str, float] = field(default_factory=dict)  # event id -> loop time
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    retry_after: set[str] = field(default_factory=set)

    async def client(self, number: int) -> None:
        mine = [b for b in range(1, self.badges + 1) if b % self.clients == number]
        inside = dict.fromkeys(mine, False)
        headers = {"Authorization": f"Bearer {self.token}"}
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http:
            for seq in itertools.count(1):
                if self.stop.is_set():
                    return
                badge = mine[seq % len(mine)]
                event_id = f"s{number}-{seq:05d}"
                tap = {
                    "reader": DOOR_OUT if inside[badge] else DOOR_IN,
                    "uid": badge_uid(badge),
                    "event_id": event_id,
                }
                try:
                    async with http.post(
                        f"{self.daemon.base}/api/v1/taps", json=tap, headers=headers
                    ) as response:
                        if response.status != 200:
                            self.refused[event_id] = response.status
                            if "Retry-After" in response.headers:
                                self.retry_after.add(event_id)
                            return
                        body = await response.json()
                except (aiohttp.ClientError, TimeoutError):
                    self.unanswered.add(event_id)
                    return
                self.answered[event_id] = (body["granted"], body["reason"])
                self.answered_at[event_id] = loop.time()
                if body["granted"]:
                    inside[badge] = body["reason"] == "entry"

    def start(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.client(n), name=f"storm-{n}") for n in range(self.clients)]


async def finish(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def stored_taps(database: Path) -> dict[str, tuple[bool, str]]:
    """The access events in the database file: event id -> (granted, reason)."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT event_id, granted, reason FROM access_events").fetchall()
    return {str(e): (bool(g), str(r)) for e, g, r in rows}
