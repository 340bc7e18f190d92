"""Reading request input into typed values: hostile input stops here, with a plain message.

Every reader is strict, so a handler that uses them checks nothing itself, and a
request that fails a check has changed nothing (handlers read all input before they
call a rule). A refusal is a 4xx whose message names the field by its label
(:mod:`service.api.labels`): "Nama wajib diisi." / "Name is required.", never a key.

The bounds, and why:

- **Bodies** (:func:`body_of`, see :mod:`service.api.body` and :mod:`service.api.contract`): ``application/json`` in
  UTF-8 (else 415), at most 64 KiB (else 413), nested at most 20 levels, strict JSON
  (no ``NaN``, no ``1e400``), a JSON object. An empty body is 422 "body required"
  on a route whose ``body=`` declares a required (``!``) field, else ``{}``.
- **Text** (:func:`text`, :func:`opt_text`, :func:`path_text`): a string; no lone
  surrogates (``"\\ud800"`` decodes to one, and no database can store it), no NUL,
  no other C0 control, DEL or C1 control; tab, CR and LF only in the multi-line
  fields of :data:`MULTILINE`. Trimmed, then at most ``max_len`` characters.
- **Integers** (:func:`integer`, :func:`identifier`, :func:`path_int`): a JSON integer
  (not ``true``, not ``1.5``, not ``1e400``) or a string of ASCII digits, within the
  signed 64-bit range of the database's columns; an id is at least 1.
- **Dates and months** (:func:`a_date`, :func:`a_month`): ``YYYY-MM-DD`` or
  ``YYYY-MM`` exactly, from :data:`EARLIEST` (2000-01-01: no LPSE bidding room and no
  record of ours is older) to one year after today (the site's day): a day to close,
  a book to print or an archive to open lies in that span, and year 1 or 9999 (which
  overflow when turned into times) does not.
- **Times** (:func:`a_datetime`: ``at``, ``arrived_at``, ``form_started_at``): ISO 8601
  with a UTC offset, from 2000-01-01T00:00Z to one year after now.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from service.api import body as bodies
from service.api import contract
from service.api.labels import Label
from service.api.refusals import invalid
from service.domain.taps import InvalidTap, normalise_uid
from service.errors import ValidationError
from service.i18n import _
from service.reports.wording import MONTHS

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
__all__ = ["invalid"]  # and every function below, as params.<name>
B = TypeVar("B", bound=contract.Body)
Q = TypeVar("Q", bound=contract.Query)
EARLIEST = date(2000, 1, 1)
EARLIEST_TIME = datetime.combine(EARLIEST, time(), UTC)
MULTILINE = frozenset({"problem", "resolution", "text", "reason", "note", "purpose"})

_SINGLE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTI_LINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_DIGITS = re.compile(r"-?[0-9]{1,30}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)


# -- bodies -----------------------------------------------------------------------------
async def _object(request: web.Request) -> dict[str, Any] | None:
    """The request's JSON object, checked as the module says; None for no body."""
    raw = b""
    if request.body_exists:
        bodies.check_media_type(request)
        raw = await bodies.read_limited(request)
    if not raw.strip():
        return None
    value = bodies.decode(raw)
    if not isinstance(value, dict):
        raise ValidationError(_("Data harus berupa objek JSON."))
    return value


def _empty(struct: type[contract.Body]) -> dict[str, Any]:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    if any(f.required for f in info.fields):
        raise ValidationError(_("Isi permintaan kosong; data wajib dikirim."))
    return {}


async def body_of(request: web.Request, struct: type[B]) -> B:
    """The request's body as the route's declared struct (:mod:`service.api.contract`):
    every type, length, pattern and choice the struct declares is checked here."""
    value = await _object(request)
    return contract.convert(_empty(struct) if value is None else value, struct)


def query_of(request: web.Request, struct: type[Q]) -> Q:
    """The query string as the route's declared struct (strings become its types)."""
    return contract.convert(dict(request.query), struct, strict=False)


# -- text -------------------------------------------------------------------------------
def clean(
    value: object,
    name: str,
    *,
    max_len: int = 500,
    multiline: bool | None = None,
    field: str | None = None,
    label: Label | None = None,
) -> str:
    """``value`` as trimmed text that any database can store and any page can show."""
    where: dict[str, Any] = {"field": field, "label": label}
    if not isinstance(value, str):
        raise invalid(name, _("{label} harus berupa teks."), **where)
    lines = name in MULTILINE if multiline is None else multiline
    value = value.strip()
    if (_MULTI_LINE_BAD if lines else _SINGLE_LINE_BAD).search(value):
        raise invalid(
            name,
            _("{label} berisi karakter yang tidak diizinkan."),
            **where,
        )
    if len(value) > max_len:
        raise invalid(
            name,
            _("{label} terlalu panjang (paling banyak {n} karakter)."),
            n=max_len,
            **where,
        )
    return value


def text(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = True,
    default: str = "",
    max_len: int = 500,
    multiline: bool | None = None,
    field: str | None = None,
    label: Label | None = None,
) -> str:
    """A text field of a body or query; a missing or blank one is ``default`` unless required."""
    value = body.get(name)
    if value is not None:
        value = clean(value, name, max_len=max_len, multiline=multiline, field=field, label=label)
    if not value:
        if required:
            raise invalid(name, _("{label} wajib diisi."), field=field, label=label)
        return default
    return value


def opt_text(body: Mapping[str, Any], name: str, max_len: int = 500) -> str | None:
    return text(body, name, required=False, max_len=max_len) or None


def path_text(
    request: web.Request,
    name: str,
    *,
    max_len: int = 100,
    field: str | None = None,
    label: Label | None = None,
) -> str:
    """A text part of the address (``{kind}``, ``{code}``, a reader's ``{name}``)."""
    return text(request.match_info, name, max_len=max_len, field=field, label=label)


def choice(body: Mapping[str, Any], name: str, choices: Collection[str], default: str) -> str:
    """One of ``choices`` (a missing one is ``default``)."""
    value = text(body, name, required=False, default=default, max_len=40)
    if value not in choices:
        raise invalid(
            name,
            _("{label} harus salah satu dari: {options}."),
            options=", ".join(choices),
        )
    return value


def badge_uid(body: Mapping[str, Any], name: str = "uid") -> str:
    """A badge UID as readers send it (``04:a2:3b:…``), upper-case hex without separators."""
    try:
        return normalise_uid(text(body, name, max_len=40))
    except InvalidTap:
        raise invalid(
            name,
            _("{label} harus 4 sampai 10 bita heksadesimal, misalnya 04A23B1C."),
        ) from None


# -- flags ------------------------------------------------------------------------------
def opt_flag(body: Mapping[str, Any], name: str) -> bool | None:
    """``true``, ``false``, or None when missing or ``null``; nothing else."""
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise invalid(name, _("{label} harus bernilai ya atau tidak."))


def flag(
    body: Mapping[str, Any], name: str, default: bool = False, *, required: bool = False
) -> bool:
    value = opt_flag(body, name)
    if value is None:
        if required:
            raise invalid(name, _("{label} wajib diisi."))
        return default
    return value


# -- integers ---------------------------------------------------------------------------
def integer(
    value: object,
    name: str,
    *,
    minimum: int = INT64_MIN,
    maximum: int = INT64_MAX,
    field: str | None = None,
) -> int:
    """A whole number in ``[minimum, maximum]``: a JSON integer or ASCII digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        raise invalid(name, _("{label} harus angka bulat."), field=field)
    if not minimum <= number <= maximum:
        raise invalid(
            name,
            _("{label} harus angka dari {low} sampai {high}."),
            field=field,
            low=minimum,
            high=maximum,
        )
    return number


def identifier(value: object, name: str) -> int:
    """The id of a record: a positive integer that fits the database's 64-bit column."""
    return integer(value, name, minimum=1)


def opt_identifier(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    return None if value is None or value == "" else identifier(value, name)


def path_int(request: web.Request, name: str = "id") -> int:
    return identifier(request.match_info[name], name)


# -- dates and times --------------------------------------------------------------------
def latest_day(today: date) -> date:
    """One year after ``today`` (28 February for 29 February)."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def _long(day: date, lang: str, *, months: bool = False) -> str:
    month = f"{MONTHS[lang][day.month - 1]} {day.year}"
    return month if months else f"{day.day} {month}"


def _out_of_range(name: str, last: date, *, months: bool = False) -> ValidationError:
    return invalid(
        name,
        _("{label} harus antara {first_id} dan {last_id}."),
        first_id=_long(EARLIEST, "id", months=months),
        last_id=_long(last, "id", months=months),
        first_en=_long(EARLIEST, "en", months=months),
        last_en=_long(last, "en", months=months),
    )


def a_date(value: object, name: str, today: date, *, default: date | None = None) -> date:
    """A ``YYYY-MM-DD`` day in the sane span; a missing one is ``default`` (else today)."""
    if value is None or value == "":
        return default or today
    day = None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None:
        raise invalid(
            name,
            _("{label} harus ditulis TTTT-BB-HH, misalnya {example}."),
            example=today.isoformat(),
        )
    if not EARLIEST <= day <= latest_day(today):
        raise _out_of_range(name, latest_day(today))
    return day


def a_month(value: object, name: str, today: date) -> tuple[date, date]:
    """A ``YYYY-MM`` month in the sane span, as its first and last day."""
    found = _MONTH.fullmatch(value) if isinstance(value, str) else None
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise invalid(
            name,
            _("{label} harus ditulis TTTT-BB, misalnya {example}."),
            example=today.isoformat()[:7],
        )
    first = date(int(found.group(1)), int(found.group(2)), 1)
    if not EARLIEST <= first <= latest_day(today):
        raise _out_of_range(name, latest_day(today), months=True)
    following = (first + timedelta(days=31)).replace(day=1)
    return first, following - timedelta(days=1)


def bounded_datetime(value: datetime | None, name: str, now: datetime) -> datetime | None:
    """A time already parsed by the contract (RFC 3339 with its offset), in the sane span."""
    if value is None:
        return None
    last = latest_day(now.date())
    latest = datetime.combine(last, now.timetz())
    if not EARLIEST.year <= value.year <= last.year or not EARLIEST_TIME <= value <= latest:
        raise _out_of_range(name, last)
    return value


def bounded_date(
    value: date | None, name: str, today: date, *, default: date | None = None
) -> date:
    """A day already parsed by the contract, in the sane span; a missing one is
    ``default`` (else today)."""
    if value is None:
        return default or today
    if not EARLIEST <= value <= latest_day(today):
        raise _out_of_range(name, latest_day(today))
    return value


def a_datetime(value: object, name: str, now: datetime) -> datetime | None:
    """An ISO 8601 time with its offset, in the sane span; None when missing or empty."""
    if value is None or value == "":
        return None
    parsed = None
    if isinstance(value, str) and _DATETIME.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise invalid(
            name,
            _("{label} harus berupa waktu lengkap dengan zona waktu, misalnya {example}."),
            example=now.replace(microsecond=0).isoformat(),
        )
    last = latest_day(now.date())
    latest = datetime.combine(last, now.timetz())
    # The year first: year 1 with an offset east of UTC cannot even be compared.
    if not EARLIEST.year <= parsed.year <= last.year or not EARLIEST_TIME <= parsed <= latest:
        raise _out_of_range(name, last)
    return parsed
