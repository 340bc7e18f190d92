"""The signed token written on a badge's NDEF memory, binding its label to its UID.

A badge UID alone is easy to clone: cheap "magic" NTAG clones take any UID. The
token ``BR1.<label>.<mac>`` carries an HMAC-SHA256 (truncated to 16 bytes,
base64url without padding) over the label and the badge's UID under the site's
``KeyFile.derive("badge-token")`` key. A clone with the same UID but no token, or
with a token copied from another badge, does not verify. (A clone that copies the
UID *and* the NDEF memory of the same badge does verify: the token proves that we
issued that label to that UID, not that the chip is genuine.)

Pure: stdlib ``hmac``/``hashlib``/``base64`` and the UID rule of
:mod:`service.domain.taps`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from service.domain.taps import normalise_uid

PREFIX = "BR1"
MAC_BYTES = 16
MIN_KEY_BYTES = 16
_MAC_CHARS = 22  # base64url of 16 bytes, without "==" padding
_LABEL_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_MAC_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")


def _check_label(label: str) -> str:
    if not _LABEL_RE.match(label):
        raise ValueError(f"badge label must be 1 to 32 of A-Z a-z 0-9 _ -, got {label!r}")
    return label


def _mac(key: bytes, label: str, uid: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"badge token key must be at least {MIN_KEY_BYTES} bytes")
    message = b"\x00".join((PREFIX.encode(), label.encode("ascii"), uid.encode("ascii")))
    return hmac.new(key, message, hashlib.sha256).digest()[:MAC_BYTES]


def sign(key: bytes, label: str, uid: str) -> str:
    """The token for badge ``label`` with chip UID ``uid`` (any case, ``:`` allowed)."""
    _check_label(label)
    mac = _mac(key, label, normalise_uid(uid))
    return f"{PREFIX}.{label}.{base64.urlsafe_b64encode(mac).decode('ascii').rstrip('=')}"


def parse(token: str) -> tuple[str, bytes]:
    """Split a token into its label and MAC; :class:`ValueError` if it is malformed."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise ValueError("not a BR1 badge token")
    label, encoded = parts[1], parts[2]
    _check_label(label)
    if not _MAC_RE.match(encoded):
        raise ValueError(f"badge token MAC must be {_MAC_CHARS} base64url characters")
    try:
        mac = base64.urlsafe_b64decode(encoded + "==")
    except binascii.Error as exc:  # pragma: no cover - the regex admits only the alphabet
        raise ValueError("badge token MAC is not base64url") from exc
    # Reject non-canonical encodings (stray bits in the last character), so one MAC
    # has exactly one spelling.
    if base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=") != encoded:
        raise ValueError("badge token MAC is not canonical base64url")
    return label, mac


def verify(key: bytes, label: str, uid: str, token: str) -> bool:
    """True if ``token`` was signed with ``key`` for exactly this label and UID.

    A malformed token, label or UID gives False; a key that is too short is a
    programming error and raises :class:`ValueError`.
    """
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"badge token key must be at least {MIN_KEY_BYTES} bytes")
    try:
        token_label, mac = parse(token)
        expected = _mac(key, _check_label(label), normalise_uid(uid))
    except ValueError:
        return False
    label_ok = hmac.compare_digest(token_label.encode("ascii"), label.encode("ascii"))
    mac_ok = hmac.compare_digest(mac, expected)
    return label_ok and mac_ok


def label_of(token: str) -> str | None:
    """The label a token claims (unverified), or None if it is malformed."""
    try:
        return parse(token)[0]
    except ValueError:
        return None
