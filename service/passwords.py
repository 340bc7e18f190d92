"""Staff passwords: the policy a new one must meet, and Argon2id hashing off the loop.

The policy follows NIST SP 800-63B as ASVS 4.0 V2.1 asks: at least
:data:`MIN_LENGTH` characters, any characters (spaces too), no composition rules,
and refused when it is one of the 10,000 most common passwords (the shipped
``common_passwords.txt``, from Django's maintained ``CommonPasswordValidator``
list; ``scripts/common_passwords.py`` refreshes it) or contains the user's own name.

Hashes are Argon2id (19 MiB, t=2, the OWASP minimum), computed in the one password
thread at the lowest priority (:func:`service.workers.in_password_thread`), never on
the loop that answers the doors.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.errors import ValidationError
from service.i18n import _
from service.workers import in_password_thread

MIN_LENGTH = 12
MAX_LENGTH = 256  # Argon2 takes any length; this bounds the work one request can ask for
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A hash to verify against when the user does not exist, so timing does not tell.
DUMMY_HASH = HASHER.hash("bidroom-no-such-user")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def check_password_policy(
    password: str, username: str | None = None, field: str = "password"
) -> None:
    """Refuse a new password that is short, common or the user's own name (422)."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(
            _("Kata sandi minimal {MIN_LENGTH} karakter.", MIN_LENGTH=MIN_LENGTH),
            field=field,
        )
    if len(password) > MAX_LENGTH:
        raise ValidationError(
            _("Kata sandi paling banyak {MAX_LENGTH} karakter.", MAX_LENGTH=MAX_LENGTH),
            field=field,
        )
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) < 3:
        raise ValidationError(
            _("Kata sandi ini terlalu umum dan mudah ditebak; pilih kalimat lain."),
            field=field,
        )
    if username and len(username) >= 3 and username.lower() in lowered:
        raise ValidationError(
            _("Kata sandi tidak boleh memuat nama pengguna."),
            field=field,
        )


async def hash_password(password: str) -> str:
    return await in_password_thread(HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (a dummy hash is checked when there is none,
    so an unknown user costs the same time as a known one)."""
    try:
        await in_password_thread(HASHER.verify, stored or DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None
