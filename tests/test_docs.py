"""The README tells the truth: every config key, CLI command and API route is in it,
and nothing it documents as a config key is unknown to the code (Datasette's habit)."""

from __future__ import annotations

import argparse
import re
import tomllib
from dataclasses import fields
from pathlib import Path

from service import config as cfg
from service.api.routing import ROUTES
from service.cli import build_parser
from service.config import load_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "systemd" / "bidroom.example.toml"

SECTIONS = {
    "site": cfg.SiteConfig,
    "room": cfg.RoomConfig,
    "queue": cfg.QueueConfig,
    "standards": cfg.StandardsConfig,
    "privacy": cfg.PrivacyConfig,
    "security": cfg.SecurityConfig,
    "printer": cfg.PrinterConfig,
    "metrics": cfg.MetricsConfig,
}


def config_keys() -> set[str]:
    keys = {
        "database.url",
        "database.startup_wait_s",
        "server.host",
        "server.port",
        "facilities.<kind>.count",
        "facilities.<kind>.label",
        "facilities.<kind>.prefix",
        "facilities.<kind>.desks",
        "readers.name",
        "readers.role",
        "readers.url",
        "readers.facility",
        "readers.strike",
        "readers.verify_token",
    }
    for section, klass in SECTIONS.items():
        keys |= {f"{section}.{f.name}" for f in fields(klass)}
    return keys


def test_every_config_key_is_in_the_readme() -> None:
    missing = [k for k in sorted(config_keys()) if f"`{k}`" not in README]
    assert not missing, f"config keys not documented in README.md: {missing}"


def test_readme_documents_no_key_the_code_does_not_read() -> None:
    documented = set(
        re.findall(
            r"`((?:database|server|site|room|queue|standards|privacy|"
            r"security|printer|metrics|facilities|readers)\.[a-z_<>.]+)`",
            README,
        )
    )
    unknown = documented - config_keys()
    assert not unknown, f"README documents config keys the code does not read: {unknown}"


def test_example_config_names_every_key_and_loads() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section, klass in SECTIONS.items():
        text = EXAMPLE.read_text(encoding="utf-8")
        for f in fields(klass):
            assert re.search(rf"^#?\s*{f.name}\s*=", text, re.M), f"{section}.{f.name}"
    for key in ("url", "startup_wait_s"):
        assert re.search(rf"^#?\s*{key}\s*=", data_text(), re.M), f"database.{key}"
    assert load_config(EXAMPLE).readers
    assert data["database"]["url"].startswith("sqlite")


def data_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def commands(parser: argparse.ArgumentParser, prefix: str = "bidroom") -> list[str]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = commands(sub, f"{prefix} {name}")
                out.extend(nested or [f"{prefix} {name}"])
    return out


def test_every_cli_command_is_in_the_readme() -> None:
    missing = [c for c in commands(build_parser()) if c not in README]
    assert not missing, f"CLI commands not documented in README.md: {missing}"


def test_every_api_route_is_in_the_readme() -> None:
    import service.api.handlers  # noqa: F401

    missing = [f"{r.method} {r.path}" for r in ROUTES if f"`{r.path}`" not in README]
    assert not missing, f"API routes not in README.md: {missing}"


def test_the_two_commands_are_first() -> None:
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", README, flags=re.S)
    first = [
        line.strip()
        for b in blocks
        for line in b.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert first[:2] == ["make demo", "make test"]


def test_the_readme_role_table_is_the_route_table() -> None:
    """The README's API table names, for every route, exactly the roles the route lets in
    (no role passes by rank: an admin may not sign a day off)."""
    import service.api.handlers  # noqa: F401

    rows = re.findall(
        r"^\| `(GET|POST|PUT|DELETE)` \| `([^`]+)` \| [^|]+ \| ([^|]+) \|$", README, re.M
    )
    documented = {(m, p): {r.strip() for r in roles.split(",")} for m, p, roles in rows}
    for r in ROUTES:
        expected = {"public"} if r.roles is None else {role.value for role in r.roles}
        assert documented.get((r.method, r.path)) == expected, (r.method, r.path)
