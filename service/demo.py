"""``bidroom serve --demo``: a whole demo site, so a newcomer sees the SOP in a browser.

The demo room has 8 desktop PCs, 4 laptop desks and a hotspot, a door reader in
and out, a front-desk reader and a desk reader on every PC and laptop desk, all
simulated (``sim:``) and driven from the status page's demo panel or
``bidroom simulate tap``. Into an empty database it enrols 30 badges and one
login per role, and prints the logins.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from service import auth
from service.auth import Role
from service.config import Config, parse_config
from service.domain import visits
from service.domain.tx import Tx
from service.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
DEMO_PASSWORD = "bidroom-demo"
DEMO_USERS = (
    ("frontoffice", "Rina Petugas Front Office", Role.FRONT_OFFICE),
    ("helpdesk", "Andi Petugas Helpdesk", Role.HELPDESK),
    ("kepala", "Kepala LPSE (demo)", Role.HEAD),
    ("admin", "Administrator (demo)", Role.ADMIN),
)
DEMO_BADGES = 30


def demo_uid(n: int) -> str:
    """Badge n's UID in the demo: a 7-byte NXP-style UID (04 …)."""
    return f"04D3E0{n:08X}"


def demo_config_data(base: Path) -> dict[str, Any]:
    readers: list[dict[str, Any]] = [
        {"name": "pintu-masuk", "role": "door_in", "url": "sim:"},
        {"name": "pintu-keluar", "role": "door_out", "url": "sim:"},
        {"name": "front-office", "role": "front_desk", "url": "sim:"},
    ]
    readers += [
        {"name": f"meja-pc-{n:02d}", "role": "desk", "url": "sim:", "facility": f"PC-{n:02d}"}
        for n in range(1, 9)
    ]
    readers += [
        {"name": f"meja-laptop-{n:02d}", "role": "desk", "url": "sim:", "facility": f"LPT-{n:02d}"}
        for n in range(1, 5)
    ]
    return {
        "database": {"url": "sqlite+aiosqlite:///bidroom.db"},
        "room": {
            "capacity": 20,
            "opening": "00:00",
            "closing": "23:59",
            "days": [1, 2, 3, 4, 5, 6, 7],
        },
        "facilities": {
            "pc": {"count": 8, "label": "PC Desktop", "prefix": "PC"},
            "laptop_desk": {"count": 4, "label": "Meja Laptop", "prefix": "LPT"},
            "hotspot": {"count": 10, "label": "Hotspot", "prefix": "HS"},
        },
        "readers": readers,
        "queue": {"turnover_gap_s": 30, "hold_s": 300},
    }


def demo_config(base: Path, overrides: Config | None = None) -> Config:
    """The demo site, keeping the database and key file of ``overrides`` if given."""
    data = demo_config_data(base)
    config = parse_config(data, base / "bidroom.toml")
    if overrides is not None:
        from dataclasses import replace

        config = replace(
            config,
            database_url=overrides.database_url,
            host=overrides.host,
            port=overrides.port,
            security=overrides.security,
        )
    return config


async def seed_demo(runtime: Runtime) -> list[tuple[str, str, str]]:
    """Enrol demo badges and logins into an empty database; return the logins."""
    now = runtime.clock()
    if not runtime.state.badges:

        def enrol_all(tx: Tx) -> None:
            for n in range(1, DEMO_BADGES + 1):
                visits.enroll_badge(tx, demo_uid(n), f"K-{n:03d}", now, "demo")

        await runtime.execute(enrol_all)
    existing = {s["username"] for s in await auth.list_staff(runtime.engine)}
    logins = []
    for username, name, role in DEMO_USERS:
        if username not in existing:
            await auth.add_staff(runtime.engine, username, name, role, DEMO_PASSWORD, now)
        logins.append((username, DEMO_PASSWORD, role.value))
    return logins
