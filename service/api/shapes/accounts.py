"""Bodies and replies of the administrator's accounts, tokens and login locks
(:mod:`service.api.handlers.accounts`)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from service.api import contract
from service.api.refusals import invalid
from service.api.shapes.common import Time
from service.auth import Role
from service.i18n import _
from service.passwords import MAX_LENGTH, MIN_LENGTH
from service.tokens import MAX_READERS

# A username: 1 to 60 characters on one line, not blank.
Username = Annotated[str, Meta(min_length=1, max_length=60, pattern=contract.LINE)]
USERNAME_PARAM = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": contract.LINE}
StaffRole = Literal["front_office", "helpdesk", "head", "admin"]
# A new password: the policy (service/passwords.py) checks it, with its own messages
# ("Kata sandi minimal 12 karakter."), so the struct leaves it to the policy and only
# the schema says it: 12 to 256 characters once trimmed, three different characters at
# least (a lookahead with back-references), the first and the last not a space. Not
# said: the list of common passwords, upper and lower case alike, the username.
_DISTINCT = r"(?=([\s\S])[\s\S]*?(?!\1)([\s\S])[\s\S]*?(?!\1|\2)(?:\S|[\s\S](?=[\s\S]*\S)))"
NewPassword = Annotated[
    str,
    Meta(
        extra_json_schema={
            "pattern": rf"^\s*{_DISTINCT}\S[\s\S]{{{MIN_LENGTH - 2},}}\S\s*$",
            "maxLength": MAX_LENGTH,
        },
        description=f"{MIN_LENGTH} to {MAX_LENGTH} characters (trimmed), at least 3 different "
        "characters, not a common password, not containing the username",
    ),
]
# The admin's own password again: needed from a session, not with a bearer token.
CurrentPassword = Annotated[
    str,
    Meta(
        max_length=1024,
        description="The caller's own password; required from a session, ignored with a "
        "bearer token",
    ),
]
# A login lock's subject: an account name, a client address, a browser's id.
Subject = Annotated[str, Meta(min_length=1, max_length=100, pattern=contract.LINE)]
ShortSubject = Annotated[str, Meta(min_length=1, max_length=64, pattern=contract.LINE)]
# A person's name as the staff table keeps it (200 characters).
StaffName = Annotated[str, Meta(min_length=1, max_length=200, pattern=contract.LINE)]


class StaffOut(contract.Reply):
    id: int
    username: str
    name: str
    role: Role
    active: bool


class StaffIn(contract.Body):
    """A new staff account."""

    username: Username
    name: StaffName
    role: StaffRole
    password: NewPassword
    current_password: CurrentPassword | None = None


class StaffCreated(contract.Reply):
    id: int


class StaffActiveOut(contract.Reply):
    username: str
    active: bool
    sessions_ended: int


class StaffPasswordIn(contract.Body):
    new_password: NewPassword
    current_password: CurrentPassword | None = None


class StaffPasswordOut(contract.Reply):
    username: str
    sessions_ended: int


class StaffRoleIn(contract.Body):
    role: StaffRole
    current_password: CurrentPassword | None = None


class StaffRoleOut(contract.Reply):
    username: str
    role: Role
    sessions_ended: int


class LockOut(contract.Reply):
    """A subject counting failed logins, or locked."""

    kind: Literal["account", "address", "device"]
    value: str
    failures: int
    last_failure_at: Time
    locked: bool
    locked_at: Time | None


class LockLiftIn(contract.Body):
    """What to unlock: an account, a client address and/or a browser (one at least)."""

    account: Subject | None = None
    address: ShortSubject | None = None
    device: ShortSubject | None = None

    schema_rule: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"required": [name], "properties": {name: {"type": "string"}}}
            for name in ("account", "address", "device")
        ]
    }

    def rule(self) -> None:
        if not (self.account or self.address or self.device):
            raise invalid("account", _("Sebutkan akun, alamat atau peramban yang dibuka."))


class LockLiftOut(contract.Reply):
    lifted: int


class TokenOut(contract.Reply):
    """A bearer token, never its secret."""

    id: int
    name: str
    role: Role
    readers: list[str] | None
    created_at: Time
    revoked_at: Time | None
    revoked_by: str | None
    last_used_at: Time | None


class TokenIn(contract.Body):
    """A new bearer token: a device's (bound to its readers) or an API client's."""

    name: contract.Name
    role: Role
    readers: Annotated[
        list[contract.Name],
        Meta(
            max_length=MAX_READERS,
            description="Configured reader names; a device token needs one at least",
        ),
    ] = msgspec.field(default_factory=list)
    current_password: CurrentPassword | None = None

    # A device token is bound to its readers: one at least.
    schema_rule: ClassVar[dict[str, Any]] = {
        "if": {"properties": {"role": {"const": "device"}}, "required": ["role"]},
        "then": {"properties": {"readers": {"minItems": 1}}, "required": ["readers"]},
    }

    def rule(self) -> None:
        if self.role == Role.DEVICE and not self.readers:
            raise invalid(
                "readers", _("Token perangkat harus menyebut pembaca kartu yang boleh dipakainya.")
            )


class TokenCreated(contract.Reply):
    token: str
    name: str
    role: Role
    readers: list[str]


class TokenRevoked(contract.Reply):
    name: str
    revoked: int
