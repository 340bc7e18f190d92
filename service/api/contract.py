"""The API's contract in one typed source: request and reply bodies as msgspec structs.

A route declares its body, its query and its reply as :class:`Body`, :class:`Query`
and :class:`Reply` subclasses (``@route(..., body=VisitIn, reply=VisitOut)``). The
same types give

- the **validation**: :func:`decode` turns the JSON object into the struct with
  ``msgspec.convert`` (types, required fields, lengths, patterns, ranges, choices),
  and a refusal is a 422 whose message names the field by its label, in Indonesian
  (English by the switch), never ``$.field`` or a type name;
- the **OpenAPI document** (:mod:`service.api.routing`): ``msgspec.json.schema_components``
  of every declared type, so the document cannot say what the code does not check;
- the **reply**: :func:`reply` encodes the struct with ``msgspec.json``, so a reply
  cannot carry a field its schema does not declare.

What JSON Schema can say is said here (a name is 1 to 100 characters with no
control character and not blank); what it cannot (a day between 2000-01-01 and
one year after today, a badge UID that is 4 to 10 bytes of hex in any of the
spellings readers use) the handler checks after :func:`decode` with
:mod:`service.api.params`, and the field's description says so.

msgspec was chosen over pydantic: it is already a dependency (the journal's
encoding), it validates while it converts at C speed on the tap path, and its
JSON Schema output is 2020-12, which OpenAPI 3.1 uses as it is.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, TypeVar

import msgspec
from aiohttp import web
from msgspec import Meta

from service.api.refusals import invalid
from service.errors import ValidationError
from service.i18n import Msg, _

INT64_MAX = 2**63 - 1
# (Lone surrogates are refused before any struct sees them: service/api/body.py.)
_CONTROL = r"\x00-\x1f\x7f-\x9f"
# Not blank, no control character: ``^…$`` so that JSON Schema (ECMA) and Python agree.
LINE = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"
# Any one-line text, empty allowed (an optional value sent as "").
ANY_LINE = rf"^[^{_CONTROL}]*$"
# Free text over several lines: tab, LF and CR allowed, other controls not.
LINES = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*"
    r"[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
)


_OK = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_SOLID = r"[^\s\x00-\x1f\x7f-\x9f]"
# A reason the books keep (reopening a day, justifying a breach, forcing a close): at
# least 5 characters once trimmed, over lines if need be.
REASON = rf"^\s*{_SOLID}{_OK}{{3,}}{_SOLID}\s*$"


class Body(msgspec.Struct, kw_only=True):
    """A request body. Unknown fields are ignored (a newer page may send more).

    Text fields are trimmed once checked: a pattern's ``$`` (JSON Schema's and
    Python's) lets one trailing newline through, and no name or code keeps one.

    A rule across fields (one of three named at least; a device token names its
    readers) is said twice, side by side: as JSON Schema in ``schema_rule`` (merged
    into the struct's component: ``anyOf``, ``if``/``then``) and as code in
    :meth:`rule`, which refuses with a 422 naming the field.
    """

    schema_rule: ClassVar[dict[str, Any]] = {}

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if type(value) is str:  # not an enum member, which is a str too
                setattr(self, name, value.strip())
        self.rule()

    def rule(self) -> None:
        """Refuse (``invalid(...)``) what ``schema_rule`` says across fields."""


class Query(msgspec.Struct, kw_only=True):
    """The query string of a request, as typed values."""


class Reply(msgspec.Struct, kw_only=True):
    """A reply body."""


# -- the field types the API speaks ----------------------------------------------------
# A one-line text (a name, a reader, a reason code): 1 to N characters, not blank.
Name = Annotated[str, Meta(min_length=1, max_length=100, pattern=LINE)]
Line = Annotated[str, Meta(min_length=1, max_length=500, pattern=LINE)]
Short = Annotated[str, Meta(min_length=1, max_length=40, pattern=LINE)]
# Free text over lines (a problem, a resolution, a reason): up to 2,000 characters.
Note = Annotated[str, Meta(min_length=1, max_length=2000, pattern=LINES)]
# The id of a record: a positive 64-bit integer.
Id = Annotated[int, Meta(ge=1, le=INT64_MAX)]
Count = Annotated[int, Meta(ge=0, le=INT64_MAX)]
# A time with its offset (RFC 3339); the handler bounds it to 2000 .. a year from now.
When = Annotated[
    datetime,
    Meta(tz=True, description="RFC 3339 with offset, from 2000-01-01 to one year after now"),
]
# A time in a reply, as ``datetime.isoformat()`` writes it (with its offset).
Stamp = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
Day = Annotated[date, Meta(description="YYYY-MM-DD, from 2000-01-01 to one year after today")]
Month = Annotated[
    str,
    Meta(
        pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$",
        description="YYYY-MM, from 2000-01 to one year after today",
        extra_json_schema={"format": "year-month"},
    ),
]
Reason = Annotated[str, Meta(min_length=5, max_length=1000, pattern=REASON)]
Password = Annotated[str, Meta(min_length=1, max_length=1024)]

S = TypeVar("S", bound=msgspec.Struct)

_WHERE = re.compile(r" - at `\$\.?([A-Za-z_][A-Za-z0-9_]*)?[^`]*`$")
_MISSING = re.compile(r"^Object missing required field `(\w+)`")
_TYPE = re.compile(r"^Expected `(\w+)`(?:, got `(\w+)`| with a timezone component)")
_LONGER = re.compile(r"^Expected `(?:str|array|object)` of length <= (\d+)")
_SHORTER = re.compile(r"^Expected `(?:str|array|object)` of length >= (\d+)")
_BOUND = re.compile(r"^Expected `(?:int|float)` ([<>]=?) (-?[\d.]+)")

_KIND: dict[str, Msg] = {
    "str": _("{label} harus berupa teks."),
    "int": _("{label} harus angka bulat."),
    "float": _("{label} harus berupa angka."),
    "bool": _("{label} harus bernilai ya atau tidak."),
    "array": _("{label} harus berupa daftar."),
    "object": _("{label} harus berupa objek JSON."),
    "datetime": _("{label} harus berupa waktu lengkap dengan zona waktu."),
    "date": _("{label} harus ditulis TTTT-BB-HH."),
}


def problem(
    error: msgspec.ValidationError, struct: type[msgspec.Struct], sent: object = None
) -> ValidationError:
    """A msgspec refusal as a clerk reads it: the field's label and what is wrong."""
    text = str(error)
    where = _WHERE.search(text)
    head = text[: where.start()] if where else text
    name = where.group(1) if where and where.group(1) else ""
    if missing := _MISSING.match(head):
        if name:  # inside a list or object: the field the clerk sees is the outer one
            return invalid(name, _("{label} tidak lengkap: ada isian yang wajib diisi."))
        return invalid(missing.group(1), _("{label} wajib diisi."))
    if not name:
        return ValidationError(_("Data harus berupa objek JSON."))
    given = sent.get(name) if isinstance(sent, dict) else None
    if isinstance(given, str) and not given.strip():  # "" or blanks, whatever the bound
        return invalid(name, _("{label} wajib diisi."))
    if kind := _TYPE.match(head):
        return invalid(name, _KIND.get(kind.group(1), _("{label} tidak sah.")))
    if longer := _LONGER.match(head):
        return invalid(
            name, _("{label} terlalu panjang (paling banyak {n} karakter)."), n=int(longer.group(1))
        )
    if shorter := _SHORTER.match(head):
        if int(shorter.group(1)) <= 1:
            return invalid(name, _("{label} wajib diisi."))
        return invalid(name, _("{label} paling sedikit {n} karakter."), n=int(shorter.group(1)))
    if head.startswith("Expected `str` matching regex"):
        return invalid(name, _("{label} berisi karakter yang tidak diizinkan atau kosong."))
    if bound := _BOUND.match(head):
        limit = bound.group(2).removesuffix(".0")
        return invalid(
            name, _("{label} di luar batas ({bound})."), bound=f"{bound.group(1)} {limit}"
        )
    if head.startswith("Invalid enum value"):
        options = _options(struct, name)
        return invalid(name, _("{label} harus salah satu dari: {options}."), options=options)
    if head.startswith("Invalid RFC3339 encoded date"):
        return invalid(name, _KIND["datetime" if "datetime" in head else "date"])
    return invalid(name, _("{label} tidak sah."))


def _options(struct: type[msgspec.Struct], name: str) -> str:
    schema = msgspec.json.schema(struct)
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties", {})
            if name in props:
                prop = props[name]
                for option in [prop, *prop.get("anyOf", [])]:
                    ref = option.get("$ref", "")
                    target = schema.get("$defs", {}).get(ref.rsplit("/", 1)[-1], option)
                    found.extend(str(v) for v in target.get("enum", []) if v is not None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return ", ".join(dict.fromkeys(found))


def convert(value: object, struct: type[S], *, strict: bool = True) -> S:
    """``value`` (a decoded JSON object, or a query's strings with ``strict=False``) as
    ``struct``, or a 422 naming the field."""
    try:
        return msgspec.convert(value, struct, strict=strict)
    except msgspec.ValidationError as error:
        raise problem(error, struct, value) from None


def reply(value: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A reply struct (or a list of them) as ``application/json``."""
    return web.Response(
        body=msgspec.json.encode(value),
        status=status,
        content_type="application/json",
        headers=headers,
    )
