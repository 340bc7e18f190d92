"""The API contract walked by schemathesis against the live daemon, as each role and as
a device: no server error, and no answer that breaks the OpenAPI document (status
codes, content types, reply schemas and headers), no schema-invalid request taken,
no schema-valid one refused for its shape. See ``tests/support/contract_run.py``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.contract_run import ROLES, run

MAX_EXAMPLES = 5


@pytest.mark.timeout(1500)
async def test_schemathesis_finds_nothing_as_any_role(tmp_path: Path) -> None:
    runs = await run(tmp_path, ROLES, max_examples=MAX_EXAMPLES)
    assert {one.role for one in runs} == set(ROLES)
    failed = [one for one in runs if one.returncode != 0]
    assert not failed, "\n\n".join(one.summary for one in failed)
    for one in runs:
        assert " passed" in one.output and "failures" not in one.output.splitlines()[-1]
        # Every operation given to the role was walked: a filter that deselects more
        # than it names (an include-path and an include-method in one block are taken
        # as either) would otherwise pass with operations never tried.
        tested = re.search(r"Tested: (\d+)", one.output)
        assert tested is not None and int(tested.group(1)) == one.operations, one.summary
