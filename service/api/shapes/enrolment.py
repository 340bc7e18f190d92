"""Bodies and replies of enrol mode (:mod:`service.api.handlers.enrolment`)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from service.api import contract
from service.api.shapes.common import Time


class Armed(contract.Reply):
    """A front-desk reader in enrol mode: the label typed (null: the next free one)."""

    reader: str
    label: str | None
    at: Time | None
    by: str


class EnrolModeOut(contract.Reply):
    readers: list[str]
    armed: list[Armed]
    proposed: str


class EnrolArmIn(contract.Body):
    reader: contract.Name
    label: (
        Annotated[
            str,
            Meta(
                max_length=40,
                pattern=contract.ANY_LINE,
                description="The new badge's label; empty: the next free one",
            ),
        ]
        | None
    ) = None


class EnrolCancelIn(contract.Body):
    reader: contract.Name
