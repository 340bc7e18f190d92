"""Logs never carry personal values. A write the database refuses is logged at ERROR,
on PostgreSQL and on SQLite, with neither the statement's parameters nor the row
the server echoes back (PostgreSQL's "DETAIL: Failing row contains (…)").

The database is made to refuse behind the daemon's back: a CHECK constraint on
PostgreSQL (which puts the whole row in its DETAIL), a trigger on SQLite.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from service.config import Config
from service.demo import DEMO_PASSWORD
from service.domain import visits
from service.domain.facts import Identity
from service.domain.identity import DocumentType
from service.domain.tx import Tx
from service.errors import Conflict
from service.logs import LIBRARY_LEVELS, redact_uid, uid_tail
from service.runtime import Runtime
from service.store.engine import sqlite_path
from tests.support.site import running_site, site_config

NAME = "Budi Santoso Rahasia"
COMPANY = "PT Sangat Rahasia Sekali"
MASKED = "1571**********01"
STAFF_NAME = "Siti Aminah Rahasia"
SECRETS = (NAME, COMPANY, MASKED, STAFF_NAME, "Rahasia")


async def refuse_inserts(runtime: Runtime, table: str) -> None:
    """Make the database refuse every new row of ``table``, behind the daemon's back."""
    path = sqlite_path(runtime.config.database_url)
    if path is None:
        async with runtime.engine.begin() as conn:
            await conn.execute(
                text(f"ALTER TABLE {table} ADD CONSTRAINT refuse_{table} CHECK (false) NOT VALID")
            )
        return
    with sqlite3.connect(path) as conn:
        conn.execute(
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )


def arrival() -> visits.Arrival:
    return visits.Arrival(
        name=NAME,
        company=COMPANY,
        doc_type=DocumentType.KTP,
        doc_masked=MASKED,
        rules_ack=True,
        privacy_ack=True,
        wanted_kind="pc",
        identity=Identity(doc_hash="h", doc_number="1571015708850001"),
    )


async def failed_writes_log_no_values(config: Config, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the daemon at --log-level DEBUG, its libraries held
    for name, floor in LIBRARY_LEVELS.items():
        caplog.set_level(floor, logger=name)
    async with running_site(config) as site:
        runtime = site.runtime
        await refuse_inserts(runtime, "visitors")
        await refuse_inserts(runtime, "staff")
        now = runtime.clock()

        def register(tx: Tx) -> int:
            return visits.register(tx, runtime.policy, arrival(), now, "frontoffice").id

        # A constraint the row breaks is that request's own error (409), not "unavailable".
        with pytest.raises(Conflict):
            await runtime.execute(register)
        # A direct write through the API: the error middleware logs it with a traceback.
        body = {
            "username": "siti",
            "name": STAFF_NAME,
            "role": "helpdesk",
            "password": "sandi-baru-yang-panjang",
            "current_password": DEMO_PASSWORD,
        }
        answer = await site["admin"].call("POST", "/api/v1/staff", body, expect=500)
        assert answer["error"] == "internal"

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("rows were refused" in r.getMessage() for r in caplog.records), caplog.text
    assert any(r.exc_info for r in errors), "the API's failure is logged with its traceback"
    leaked = [s for s in SECRETS if s in caplog.text]
    assert not leaked, f"personal values in the log: {leaked}\n{caplog.text}"
    assert "parameters hidden" in caplog.text


async def test_a_failed_write_on_sqlite_logs_no_values(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await failed_writes_log_no_values(site_config(tmp_path), caplog)


@pytest.mark.postgres
async def test_a_failed_write_on_postgresql_logs_no_values(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await failed_writes_log_no_values(site_config(tmp_path, pg_url), caplog)


def test_a_badge_uid_is_shortened_the_same_way_everywhere() -> None:
    assert redact_uid("04A1B2C3D4E5F6") == "…E5F6"
    assert uid_tail("04A1B2C3D4E5F6") == "E5F6"
    assert redact_uid("BEEF") == "…"  # too short to show a part without showing it all


def test_no_module_shortens_a_uid_by_itself() -> None:
    root = Path(__file__).resolve().parents[2]
    copies = [
        f"{path.relative_to(root)}:{n}"
        for package in ("service", "devices", "web")
        for path in sorted((root / package).rglob("*.py"))
        if path.name != "logs.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "uid[-" in line
    ]
    assert not copies, f"use service.logs.redact_uid/uid_tail: {copies}"


PERSONAL_NAMES = frozenset({"uid", "token", "nik", "doc_number", "phone", "npwp", "password"})


def test_no_log_call_is_handed_a_raw_uid_token_or_number() -> None:
    """At any level, DEBUG included: a badge UID goes through redact_uid/uid_tail, and a
    token, NIK, phone, NPWP or password never reaches a log call."""
    import ast

    root = Path(__file__).resolve().parents[2]
    found = []
    for package in ("service", "devices", "web"):
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "_LOGGER"
                ):
                    continue
                for arg in node.args[1:]:
                    if isinstance(arg, ast.Name) and arg.id in PERSONAL_NAMES:
                        found.append(f"{path.relative_to(root)}:{node.lineno} ({arg.id})")
    assert not found, f"log calls handed a personal value: {found}"
