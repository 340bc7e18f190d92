"""``bidroom serve --demo``: a whole demo site, so a newcomer sees the SOP in a browser.

The demo room has 8 desktop PCs, 4 laptop desks and a hotspot, a door reader in
and out, a front-desk reader and a desk reader on every PC and laptop desk, all
simulated (``sim:``) and driven from the status page's demo panel or
``bidroom simulate tap``. Into an empty database it enrols 30 badges and one
login per role, and prints the logins.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

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


DEMO_TOML = Path(__file__).parent / "demo.toml"


def demo_config(base: Path) -> Config:
    """The demo site (``service/demo.toml``) with its database and key in ``base``."""
    with DEMO_TOML.open("rb") as fh:
        data = tomllib.load(fh)
    return parse_config(data, base / "bidroom.toml")


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
