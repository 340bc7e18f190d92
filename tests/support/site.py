"""A bidroom site for tests: the demo site's config with a controllable clock,
served by the real application, and logged-in API sessions per role."""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from service.api.app import RUNTIME
from service.config import Config, parse_config
from service.demo import DEMO_PASSWORD, DEMO_TOML, demo_uid
from service.runtime import Runtime
from service.server import create_app

# Wednesday 25 November 2026, 09.00 WIB: the room is open.
START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
KTP_A = "1571015708850001"  # Kota Jambi, born 17-08-1985, female
KTP_B = "1571022501900003"  # Kota Jambi, born 25-01-1990, male
KTP_C = "1571031203880002"


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def site_config(tmp_path: Path, db_url: str | None = None, **sections: Any) -> Config:
    """The demo site, with the database in ``tmp_path`` (or ``db_url``) and overrides."""
    with DEMO_TOML.open("rb") as fh:
        data = tomllib.load(fh)
    data["room"].update({"opening": "08:00", "closing": "16:00", "days": [1, 2, 3, 4, 5]})
    data["queue"]["turnover_gap_s"] = 60
    # The tests move the clock through whole days: logins last through them unless a test
    # asks for the real timeouts (tests/integration/test_asvs_sessions.py does).
    data.setdefault("security", {}).update({"session_idle_minutes": 7 * 1440, "session_hours": 168})
    for name, values in sections.items():
        if isinstance(values, dict) and isinstance(data.get(name), dict):
            data[name].update(values)
        else:
            data[name] = values
    if db_url:
        data["database"] = {"url": db_url}
    return parse_config(data, tmp_path / "bidroom.toml")


@dataclass
class Staff:
    client: TestClient[Any, Any]
    csrf: str
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def call(self, method: str, path: str, body: Any = None, expect: int | None = 200) -> Any:
        headers = {"X-CSRF-Token": self.csrf}
        response = await self.client.request(method, path, json=body, headers=headers)
        data = await response.json()
        if expect is not None:
            assert response.status == expect, (method, path, response.status, data)
        return data

    async def tap(self, reader: str, badge: int, event_id: str | None = None) -> Any:
        eid = event_id or f"t-{reader}-{next(self.ids)}-{badge}"
        return await self.call(
            "POST", "/api/v1/taps", {"reader": reader, "uid": demo_uid(badge), "event_id": eid}
        )


@dataclass
class Site:
    server: TestServer
    runtime: Runtime
    clock: FakeClock
    staff: dict[str, Staff]

    def __getitem__(self, role: str) -> Staff:
        return self.staff[role]


async def login(server: TestServer, username: str) -> Staff:
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    response = await client.post(
        "/api/v1/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    body = await response.json()
    assert response.status == 200, body
    return Staff(client, body["csrf"])


@asynccontextmanager
async def running_site(
    config: Config,
    clock: FakeClock | None = None,
    pages: bool = False,
    start_readers: bool = False,
) -> AsyncIterator[Site]:
    clock = clock or FakeClock()
    app = create_app(config, clock=clock, start_readers=start_readers, pages=pages, demo=True)
    server = TestServer(app)
    await server.start_server()
    staff: dict[str, Staff] = {}
    try:
        for role, user in (
            ("fo", "frontoffice"),
            ("hd", "helpdesk"),
            ("head", "kepala"),
            ("admin", "admin"),
        ):
            staff[role] = await login(server, user)
        yield Site(server, app[RUNTIME], clock, staff)
    finally:
        for s in staff.values():
            await s.client.close()
        await server.close()
