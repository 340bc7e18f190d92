"""Reading a JSON request body safely: bounded size, bounded nesting, strict JSON.

The body is read at most :data:`MAX_BYTES` at a time (a longer one is 413 before it
is decoded), it must be sent as ``application/json`` in UTF-8 (415 otherwise), and
its nesting is measured by a linear scan *before* ``json.loads`` runs, because the
decoder recurses once per level (a body of 50,000 ``[`` ends in ``RecursionError``).
``NaN``, ``Infinity`` and numbers that overflow a float (``1e400``) are not JSON and
are refused too. An empty body is the caller's decision (:func:`service.api.params.body_of`).
"""

from __future__ import annotations

import decimal
import json
import math
import re
from typing import Any

from aiohttp import web

from service.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from service.i18n import _

MAX_BYTES = 64 * 1024  # the access form is under 2 KiB; 64 KiB leaves room, not abuse
MAX_DEPTH = 20  # the deepest body we take is two levels (the form's list of devices)
# The body once read (the Idempotency-Key middleware reads it first, for its fingerprint).
BODY_KEY = web.RequestKey("body", bytes)

# One token at a time, left to right: a whole string (escapes included), a bracket,
# or a quote that opens a string never closed (the body is then not JSON at all).
_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]|"', re.DOTALL)


def not_json() -> ValidationError:
    return ValidationError(_("Data yang dikirim bukan JSON yang sah."))


def too_deep() -> ValidationError:
    return ValidationError(
        _(
            "Susunan data terlalu bertingkat (paling banyak {MAX_DEPTH} tingkat).",
            MAX_DEPTH=MAX_DEPTH,
        ),
    )


def check_media_type(request: web.Request) -> None:
    """415 unless the body is declared as JSON in UTF-8."""
    kind = request.content_type.lower()
    json_kind = kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )
    charset = (request.charset or "utf-8").lower()
    if not json_kind or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            _("Data harus dikirim dalam format JSON (UTF-8)."),
        )


async def read_limited(request: web.Request) -> bytes:
    """The whole body, or 413 as soon as it is longer than :data:`MAX_BYTES`."""
    if BODY_KEY in request:
        return request[BODY_KEY]
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise _too_large()
    buffer = bytearray()
    while len(buffer) <= MAX_BYTES:
        chunk = await request.content.read(MAX_BYTES + 1 - len(buffer))
        if not chunk:
            break
        buffer += chunk
    if len(buffer) > MAX_BYTES:
        raise _too_large()
    request[BODY_KEY] = bytes(buffer)
    return request[BODY_KEY]


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        _("Data yang dikirim terlalu besar (paling banyak {value} KiB).", value=MAX_BYTES // 1024),
    )


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (brackets inside strings don't count).

    Raises :func:`not_json` for a string that is never closed. Linear in the length.
    """
    depth = deepest = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == '"':
            raise not_json()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(literal: str) -> float | int:
    """A JSON number with a fraction or an exponent; a whole one (``3.0``, ``1e2``) is
    the integer it is, as JSON Schema's ``integer`` takes it (a float field takes an
    int too)."""
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    exact = decimal.Decimal(literal)
    if exact == exact.to_integral_value() and abs(exact) < 2**64:
        return int(exact)
    return value


# A ``\uD800``-``\uDBFF`` escape not followed by a low one, or a low one alone: a lone
# surrogate, which no database stores and no page shows (a pair is one character).
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def decode(raw: bytes) -> Any:
    """Strict JSON from UTF-8 bytes; every way it can fail is a plain 422."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise not_json() from None
    lone = "\\u" in text and _LONE_SURROGATE.search(text) is not None
    # Fewer brackets than the bound cannot nest past it (a tap's body has one pair).
    brackets = text.count("[") + text.count("{")
    if brackets > MAX_DEPTH and nesting_depth(text) > MAX_DEPTH:
        raise too_deep()
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # not expected after the scan; kept as the last guard
        raise too_deep() from None
    except ValueError:  # JSONDecodeError, huge integer literals, NaN, 1e400
        raise not_json() from None
    if lone:
        _refuse_lone_surrogate(value)
    return value


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def _refuse_lone_surrogate(value: Any) -> None:
    """422 naming the field that holds a lone surrogate (found by the scan above)."""
    from service.api.refusals import invalid  # refusals -> labels -> i18n only

    where = [k for k, v in value.items() if _unstorable(v)] if isinstance(value, dict) else []
    if where and not _unstorable(where[0]):
        raise invalid(where[0], _("{label} berisi karakter yang tidak diizinkan."))
    if _unstorable(value):
        raise ValidationError(_("Teks berisi karakter yang tidak sah (surrogat tunggal)."))
