"""schemathesis against the real ``bidroom serve``, logged in as each role and as a device.

The daemon runs on its own SQLite site with a reader of every role fed over the API;
a device token bound to every reader keeps them online (heartbeats), so the probes
and the taps meet a working room. Every operation is walked once, by one of the
roles that may call it (the least privileged first, the load spread: every role
logs in), or with ``--every-role`` as every role that may call it (the 403 of the
others is walked by ``test_every_route_checks_its_role``). Each role's schemathesis
run gets the document's paths it has operations on, and a bearer token of that role,
configured as the document's ``bearer`` scheme so that its ``ignored_auth`` check
tries a wrong token on the right scheme. Every check runs (server errors, status
codes, content types, response schemas and headers, schema-invalid requests
accepted, schema-valid ones refused), with a fixed seed so that CI is repeatable.

Run by ``tests/integration/test_schemathesis.py``, or by hand::

    .venv/bin/python -m tests.support.contract_run [--role head] [--path-regex taps]
        [--max-examples 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.daemon import Daemon, free_port, run_cli, write_config

ROLES = ("head", "admin", "front_office", "helpdesk", "device", "anonymous")
READERS = {
    "pintu-masuk": "door_in",
    "pintu-keluar": "door_out",
    "meja-pc-01": "desk",
    "meja-depan": "front_desk",
}
SEED = 20261130
# Routes left out, and why: logging out ends the session schemathesis is testing with.
LEFT_OUT = {("post", "/api/v1/logout")}
HOOKS = "tests.support.contract_hooks"
ACCEPTED_BEYOND = '["2xx", "3xx", "401", "403", "404", "409", "422", "429"]'


@dataclass(frozen=True, slots=True)
class RoleRun:
    role: str
    operations: int
    returncode: int
    output: str

    @property
    def summary(self) -> str:
        tail = self.output.strip().splitlines()[-40:]
        return (
            f"--- {self.role}: {self.operations} operations, exit {self.returncode}\n"
            + "\n".join(tail)
        )


def may_call(op: dict[str, Any], role: str) -> bool:
    if role == "anonymous":
        return op.get("security") == []
    return role in op.get("x-roles", [])


def assign(document: dict[str, Any], roles: tuple[str, ...]) -> dict[tuple[str, str], str]:
    """Each operation to one role that may call it, the least privileged first and the
    load spread, so that one walk covers every operation once and every role logs in."""
    order = [r for r in ("device", "anonymous", "helpdesk", "front_office", "head", "admin")
             if r in roles]  # fmt: skip
    load = dict.fromkeys(order, 0)
    chosen: dict[tuple[str, str], str] = {}
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            able = [r for r in order if may_call(op, r)]
            if able:
                role = min(able, key=lambda r: (load[r], order.index(r)))
                chosen[(method, path)] = role
                load[role] += 1
    return chosen


def cut(
    document: dict[str, Any],
    role: str,
    path_regex: str | None,
    assigned: dict[tuple[str, str], str] | None = None,
) -> tuple[dict[str, Any], int, list[tuple[str, str]]]:
    """The paths with an operation for ``role`` (every one it may call, or those
    ``assigned`` to it), each with all its methods -- a 405's ``Allow`` names every
    method of the path -- and the operations of those paths left to other roles."""
    import re

    def mine(method: str, path: str, op: dict[str, Any]) -> bool:
        if (method, path) in LEFT_OUT:
            return False
        if assigned is not None:
            return assigned.get((method, path)) == role
        return may_call(op, role)

    paths: dict[str, Any] = {}
    others: list[tuple[str, str]] = []
    count = 0
    for path, ops in document["paths"].items():
        if path_regex and not re.search(path_regex, path):
            continue
        found = [method for method, op in ops.items() if mine(method, path, op)]
        if found:
            paths[path] = ops
            count += len(found)
            others += [(method, path) for method in ops if method not in found]
    return {**document, "paths": paths}, count, others


async def _heartbeats(base: str, token: str, stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        while not stop.is_set():
            for name in READERS:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.post(f"{base}/api/v1/readers/{name}/heartbeat") as response:
                        await response.read()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


async def _token(config: Path, role: str) -> str:
    args = ["token", "add", "--name", f"st-{role}", "--role", role]
    if role == "device":
        for reader in READERS:
            args += ["--reader", reader]
    done = await run_cli(config, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1].strip()


async def _schemathesis(
    folder: Path,
    base: str,
    role: str,
    token: str,
    schema: dict[str, Any],
    others: list[tuple[str, str]],
    max_examples: int,
) -> tuple[int, str]:
    schema_file = folder / f"openapi-{role}.json"
    schema_file.write_text(json.dumps(schema), encoding="utf-8")
    config_file = folder / f"schemathesis-{role}.toml"
    # An operation that checks input beyond what JSON Schema can say (x-checked-beyond)
    # may refuse schema-valid input with 422; every other check still applies to it.
    # One operation by its name ("POST /api/v1/visits"): schemathesis takes an
    # include-path and an include-method in one block as either, not both (a block
    # meant for one GET disabled every GET of the schema).
    beyond = "".join(
        f'[[operations]]\ninclude-name = "{method.upper()} {path}"\n'
        f"checks.positive_data_acceptance.expected-statuses = {ACCEPTED_BEYOND}\n"
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if op.get("x-checked-beyond")
    )
    beyond += "".join(  # in the document for the Allow check, walked by another role
        f'[[operations]]\ninclude-name = "{method.upper()} {path}"\nenabled = false\n'
        for method, path in others
    )
    auth = f'[auth.openapi.bearer]\nbearer = "{token}"\n' if token else ""
    config_file.write_text(
        beyond + auth + "[generation]\nallow-x00 = true\n"
        # The tokens are this throwaway site's; the report shows what was sent.
        "[output.sanitization]\nenabled = false\n",
        encoding="utf-8",
    )
    st = Path(sys.executable).with_name("st")
    proc = await asyncio.create_subprocess_exec(
        str(st),
        "--config-file",
        str(config_file),
        "run",
        str(schema_file),
        "--url",
        base,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(SEED),
        "--no-color",
        "--request-timeout",
        "20",
        "--report",
        "vcr",
        "--report-dir",
        str(folder / f"report-{role}"),
        cwd=folder,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(Path.cwd())},
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def run(
    folder: Path,
    roles: tuple[str, ...] = ROLES,
    *,
    path_regex: str | None = None,
    max_examples: int = 5,
    every_role: bool = False,
) -> list[RoleRun]:
    """schemathesis as each of ``roles``: every operation once, by a role that may call
    it (``every_role``: every operation as every role that may call it)."""
    config = write_config(
        folder, f"sqlite+aiosqlite:///{folder / 'bidroom.db'}", capacity=4, readers=READERS
    )
    done = await run_cli(config, "init")
    assert done.returncode == 0, done.stderr
    tokens = {
        role: await _token(config, role)
        for role in dict.fromkeys((*roles, "device"))
        if role != "anonymous"
    }
    tokens["anonymous"] = ""
    daemon = Daemon(config, free_port(), folder / "daemon.log")
    stop = asyncio.Event()
    await daemon.start()
    beating = asyncio.create_task(_heartbeats(daemon.base, tokens["device"], stop))
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{daemon.base}/api/v1/openapi.json") as response,
        ):
            document = await response.json()
        runs = []
        assigned = None if every_role else assign(document, roles)
        for role in roles:
            schema, count, others = cut(document, role, path_regex, assigned)
            if not count:
                continue
            code, output = await _schemathesis(
                folder, daemon.base, role, tokens[role], schema, others, max_examples
            )
            runs.append(RoleRun(role, count, code, output))
        return runs
    finally:
        stop.set()
        await beating
        await daemon.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", action="append", choices=ROLES)
    parser.add_argument("--path-regex")
    parser.add_argument("--max-examples", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="print the whole output")
    parser.add_argument(
        "--every-role", action="store_true", help="every operation as every role that may"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bidroom-st-"))
    runs = asyncio.run(
        run(
            folder,
            tuple(args.role or ROLES),
            path_regex=args.path_regex,
            max_examples=args.max_examples,
            every_role=args.every_role,
        )
    )
    for one in runs:
        print(one.output if args.keep else one.summary)
    print(f"site folder: {folder}")
    return max((one.returncode for one in runs), default=0)


if __name__ == "__main__":
    raise SystemExit(main())
