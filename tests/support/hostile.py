"""Shared parts of the hostile-input tests: a room with something in every table, a
valid request for every route (so that one hostile value is the only fault), the
fields of each route as its msgspec structs declare them (their kinds pick the hostile
values), the "nothing changed" snapshot and the check that a refusal is plain for a
clerk and names the field by its label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import ClientResponse
from msgspec import inspect
from sqlalchemy import text

from service.api.handlers.events import REASON_LABEL
from service.api.labels import LABELS, Label
from service.api.routing import ROUTES, Route
from service.auth import Role
from service.demo import DEMO_PASSWORD, demo_uid
from service.i18n import _, both
from tests.support.site import KTP_A, KTP_B, KTP_C, Site, Staff

TABLES = (
    "journal",
    "staff",
    "api_tokens",
    "sessions",
    "access_events",
    "visits",
    "visitors",
    "help_requests",
    "badges",
    "tickets",
    "days",
    "justifications",
    "alarms",
)
FORM = {
    "company": "PT Maju Jaya",
    "doc_type": "ktp",
    "wanted_kind": "pc",
    "rules_ack": True,
    "privacy_ack": True,
}
ONE_PC = {"pc": {"count": 1, "label": "PC Desktop", "prefix": "PC"}}

# Values that must stop at the edge, by the kind of input they are sent as.
HOSTILE_TEXT: dict[str, Any] = {
    "lone surrogate": "\ud800",
    "low surrogate inside": "ab\udc00cd",
    "NUL": "a\x00b",
    "escape": "a\x1bb",
    "DEL": "a\x7fb",
    "C1 control": "a\x85b",
    "a number": 12,
    "an object": {"x": "y"},
    "a list": ["x"],
    "too long": "x" * 5000,
}
# The fields that take text over several lines (a problem, a reason): the others must
# refuse a line break.
MULTILINE = frozenset({"problem", "resolution", "text", "reason", "note", "purpose"})
# Passwords are taken as typed (any character a keyboard gives, up to their length).
PASSWORDS = frozenset({"password", "current_password", "new_password"})
# Wrong values by the kind of a field (see :func:`kind_of`); a list's and a choice's
# own values are added from its type (:func:`hostile_values`).
HOSTILE_BY_KIND: dict[str, list[Any]] = {
    "boolean": ["true", 1, 0, "ya", [True], {}],
    "integer": [True, 1.5, "1e3", 2**63, 2**64 + 1, -(2**63) - 1, -1, 0, "١٢", "12a", "1", [1]],
    # A page number: a whole number from 1 (1.0 is one), never text or a fraction.
    "number": [True, 1.5, 0.5, 0, -1, 1e300, "1", "1e3", [1], {}],
    "date-time": [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+00:00",
        "9999-12-31T23:59:59-14:00",
        "1999-12-31T23:59:59Z",
        "2031-01-01T00:00:00Z",
        "2026-11-25T09:00:00",
        "2026-11-25",
        "2026-13-01T00:00:00Z",
        1764032400,
    ],
    "date": [
        "0001-01-01",
        "9999-12-31",
        "1999-12-31",
        "2028-11-25",
        "2026-02-30",
        "20261125",
        "2026-W48-3",
        20261125,
    ],
    "array": ["laptop", {"kind": "laptop"}, [None], [[]], 1, True],
    "choice": ["", " ", "tidak-ada", "\ud800", "a\x00", 1, True, ["x"], {"x": "y"}],
}
HOSTILE_IDS = [
    "9223372036854775808",
    "99999999999999999999999999",
    "-1",
    "0",
    "1.5",
    "1e3",
    "0x10",
    "abc",
    "%00",
    "%D9%A1",
    "%201",
]
HOSTILE_DAYS = [
    "0001-01-01",
    "9999-12-31",
    "1999-12-31",
    "2028-11-25",
    "2026-02-30",
    "20261125",
    "2026-W48-3",
    "2026-11-25T00:00",
    "%00",
]
HOSTILE_MONTHS = ["0001-01", "9999-12", "1999-12", "2028-12", "2026-13", "2026-1", "202611", "%00"]
DEEP = b'{"a":' * 25 + b"1" + b"}" * 25

# Words that give an English sentence away, and Indonesian ones that give it away in English.
ENGLISH = re.compile(
    r"\b(the|must|is|are|be|not|of|to|an?|required|invalid|field|value|body|error|too|"
    r"missing|should|allowed|number|text|between)\b",
    re.IGNORECASE,
)
INDONESIAN = re.compile(r"\b(harus|wajib|tidak|berisi|terlalu|yang|dan|atau|antara)\b", re.I)
# A whole-number bound a message may state ("di luar batas (<= 30)").
BOUND = re.compile(r"\([<>]=? -?[0-9]+\)")
# A key quoted, a Python repr, a traceback, an internal state or code name.
MACHINE = re.compile(r"['\"{}<>\\_]|Traceback|Error\b|\bNone\b|\bTrue\b|\bFalse\b|\bb'|\\x")
# msgspec's own words: a path ($.field), a type name, its phrasing of a refusal.
MSGSPEC = re.compile(
    r"\$|`|\b(str|int|float|bool|datetime|NoneType|dict|Expected|regex|RFC3339|enum|"
    r"[Ss]truct|msgspec|[Ll]ength)\b"
)


# -- the fields a route declares ------------------------------------------------------------
def _bare(kind: inspect.Type) -> inspect.Type:
    """``kind`` without its constraints' wrapper nor the ``| None`` of an optional field."""
    while True:
        if isinstance(kind, inspect.Metadata):
            kind = kind.type
        elif isinstance(kind, inspect.UnionType):
            types = [t for t in kind.types if not isinstance(t, inspect.NoneType)]
            assert len(types) == 1, f"no hostile values yet for a union of {types}"
            kind = types[0]
        else:
            return kind


KINDS: dict[type[inspect.Type], str] = {
    inspect.StrType: "text",
    inspect.IntType: "integer",
    inspect.FloatType: "number",
    inspect.BoolType: "boolean",
    inspect.DateTimeType: "date-time",
    inspect.DateType: "date",
    inspect.ListType: "array",
    inspect.EnumType: "choice",
    inspect.LiteralType: "choice",
}


def kind_of(field: inspect.Field) -> str:
    """The kind of input a field takes; a kind the tests have no values for fails here."""
    bare = _bare(field.type)
    assert type(bare) in KINDS, f"no hostile values yet for {field.name}: {bare}"
    return KINDS[type(bare)]


def fields(struct: type[msgspec.Struct] | None) -> tuple[inspect.Field, ...]:
    """The fields of a body or query struct (none for None)."""
    if struct is None:
        return ()
    info = inspect.type_info(struct)
    assert isinstance(info, inspect.StructType), struct
    return info.fields


def nested_fields(struct: type[msgspec.Struct] | None) -> set[str]:
    """The keys of the objects inside a body's lists (a device's kind and serial)."""
    names: set[str] = set()
    for field in fields(struct):
        bare = _bare(field.type)
        if isinstance(bare, inspect.ListType):
            item = _bare(bare.item_type)
            if isinstance(item, inspect.StructType):
                names |= {f.encode_name for f in item.fields}
    return names


def path_names(route: Route) -> list[str]:
    return re.findall(r"{(\w+)}", route.path)


def max_length(field: inspect.Field) -> int | None:
    bare = _bare(field.type)
    return bare.max_length if isinstance(bare, inspect.StrType | inspect.ListType) else None


def hostile_values(field: inspect.Field) -> list[Any]:
    """Wrong values for a field that is not text: those of its kind, and for a list its
    length past the bound and wrong items (text, or an object with a wrong field); for a
    choice, an option in capitals or with a space around it."""
    kind = kind_of(field)
    values = list(HOSTILE_BY_KIND[kind])
    bare = _bare(field.type)
    if isinstance(bare, inspect.EnumType | inspect.LiteralType):
        options = [m.value for m in bare.cls] if isinstance(bare, inspect.EnumType) else bare.values
        first = str(options[0])
        values += [f" {first}x"] + ([first.upper()] if first.upper() != first else [])
    if isinstance(bare, inspect.ListType):
        item = _bare(bare.item_type)
        good = _good_item(item)
        if bare.max_length is not None:
            values.append([good] * (bare.max_length + 1))
        if isinstance(item, inspect.StrType):
            values += [[v] for v in HOSTILE_TEXT.values()] + [["a\nb"], [""]]
        else:
            assert isinstance(item, inspect.StructType), f"no hostile items yet for {item}"
            values += [[good, "x"], [good, 1], [{}]]
            values += [
                [{k: v for k, v in good.items() if k != f.encode_name}]
                for f in item.fields
                if f.required
            ]
            for sub in item.fields:
                if kind_of(sub) == "text":
                    values += [[{**good, sub.encode_name: v}] for v in HOSTILE_TEXT.values()]
                    values.append([{**good, sub.encode_name: "a\nb"}])
    return values


def _good_item(item: inspect.Type) -> Any:
    if isinstance(item, inspect.StructType):
        assert {f.encode_name for f in item.fields} == {"kind", "serial"}, item
        return {"kind": "laptop", "serial": "SN-2"}
    return "pintu-masuk"


@dataclass(frozen=True)
class Room:
    """Ids of a room in use: a visitor at the only PC, one queued, one help request."""

    visit: int
    ticket: int
    help: int
    badge: int
    day: str

    def path(self, route: Route, **override: str) -> str:
        """The route's path with real ids (or the ``override`` of a parameter)."""
        values = {
            "id": str(self._id_for(route.path)),
            "kind": "pc",
            "code": "PC-01",
            "name": "books.pdf" if route.path.startswith("/api/v1/archive/") else "pintu-masuk",
            "username": "helpdesk",
            # A door for the door routes, the front desk for the desk's.
            "reader": "front-office" if route.path.startswith("/api/v1/desk/") else "pintu-masuk",
            "day": self.day,
            "month": self.day[:7],
        }
        values.update(override)
        return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], route.path)

    def _id_for(self, path: str) -> int:
        for prefix, ident in (
            ("/api/v1/visits/", self.visit),
            ("/api/v1/queue/tickets/", self.ticket),
            ("/api/v1/help/", self.help),
            ("/api/v1/badges/", self.badge),
        ):
            if path.startswith(prefix):
                return ident
        return 1

    def body(self, route: Route) -> dict[str, Any]:
        """A body every field of which passes the edge (the rule may still refuse it)."""
        note = {"note": "Dilaporkan oleh petugas"}
        bodies: dict[str, dict[str, Any]] = {
            "/api/v1/visits": {
                **FORM,
                "name": "Rina Wati",
                "doc_number": KTP_C,
                "phone": "0812 3456 7890",
                "npwp": "01.312.166.0-091.000",
                "purpose": "Unggah penawaran\npaket dua",
                "tender_code": "12345678",
                "devices": [{"kind": "laptop", "serial": "SN-1"}],
                "back_entered": False,
                "arrived_at": "2026-11-25T08:30:00+07:00",
                "form_started_at": "2026-11-25T08:55:00+07:00",
                "confirm_open_visit": False,
            },
            "/api/v1/visits/{id}/arm-badge": {"reader": "front-office"},
            "/api/v1/visits/{id}/badge": {"uid": demo_uid(9), "label": "K-009"},
            "/api/v1/visits/{id}/facility": {"kind": "pc", "code": "PC-01"},
            "/api/v1/visits/{id}/usage": {"action": "start"},
            "/api/v1/visits/{id}/checkout": {"devices_checked": True},
            "/api/v1/visits/{id}/document-return": {"to": "Siti Aminah"},
            "/api/v1/visits/{id}/force-close": {"reason": "Pulang tanpa kartu"},
            "/api/v1/nik/check": {"nik": KTP_A},
            "/api/v1/visitors/lookup": {"doc_type": "ktp", "doc_number": KTP_A},
            "/api/v1/queue/tickets/{id}/priority": {"reason": "Tender ditutup pukul 10.00"},
            "/api/v1/help": {
                "visit_id": self.visit,
                "facility": "PC-01",
                "category": "upload",
                "problem": "Gagal unggah\nberkas besar",
                "source": "staff",
            },
            "/api/v1/help/{id}/resolve": {"problem": "Berkas besar", "resolution": "Diperkecil"},
            "/api/v1/badges": {"uid": "04AABBCCDDEEFF", "label": "K-900"},
            "/api/v1/badges/{id}/lost": note,
            "/api/v1/badges/{id}/found": note,
            "/api/v1/badges/{id}/retire": note,
            "/api/v1/badges/enrol-mode": {"reader": "front-office", "label": "K-950"},
            "/api/v1/badges/enrol-mode/cancel": {"reader": "front-office"},
            "/api/v1/facilities/{code}/service": {
                "out_of_service": True,
                "note": "Layar rusak",
                "move_to": "PC-02",
            },
            "/api/v1/musters/{id}/safe": {"visit_id": self.visit},
            "/api/v1/days/{day}/close": {"note": "Ditutup oleh petugas"},
            "/api/v1/days/{day}/reopen": {"reason": "Ada formulir susulan"},
            "/api/v1/breaches/justify": {
                "day": self.day,
                "step": "2",
                "subject": f"visit:{self.visit}",
                "text": "Antrean panjang",
            },
            "/api/v1/taps": {
                "reader": "pintu-masuk",
                "uid": demo_uid(1),
                "at": "2026-11-25T08:59:00+07:00",
                "event_id": "probe-1",
                "token": "token-kartu",
            },
            "/api/v1/privacy/purge": {"dry_run": True},
            "/api/v1/privacy/export": {"nik": KTP_A, "doc_type": "ktp"},
            "/api/v1/login": {"username": "admin", "password": "bidroom-demo"},
            "/api/v1/staff": {
                "username": "petugas2",
                "name": "Petugas Dua",
                "role": "front_office",
                "password": "rahasia-panjang-1",
                "current_password": DEMO_PASSWORD,
            },
            "/api/v1/tokens": {
                "name": "agen-pc-02",
                "role": "device",
                "readers": ["meja-pc-01"],
                "current_password": DEMO_PASSWORD,
            },
            "/api/v1/me/password": {
                "current_password": DEMO_PASSWORD,
                "new_password": "sandi-baru-yang-panjang",
            },
            "/api/v1/staff/{username}/password": {
                "new_password": "sandi-baru-yang-panjang",
                "current_password": DEMO_PASSWORD,
            },
            "/api/v1/staff/{username}/role": {
                "role": "helpdesk",
                "current_password": DEMO_PASSWORD,
            },
            "/api/v1/alarms/{id}/ack": {"note": "Dicek oleh satpam"},
            "/api/v1/doors/{reader}/unlock": {"reason": "Tamu dengan kursi roda", "seconds": 4},
            "/api/v1/readers/{name}/simulate-door": {"event": "tamper"},
            "/api/v1/login-locks/lift": {
                "account": "helpdesk",
                "address": "10.0.0.5",
                "device": "0" * 32,
            },
            # --- visits ---
            "/api/v1/visits/{id}/serve": {"reader": "front-office"},
            "/api/v1/desk/{reader}/release": {"visit_id": self.visit},
            "/api/v1/desk/{reader}/answer": {
                "visit_id": self.visit,
                "answer": "ignore",
                "devices_checked": True,
            },
            "/api/v1/visits/search": {
                "name": "Siti",
                "company": "PT",
                "doc_digits": "01",
                "label": "K-001",
                "tender_code": "123",
                "from_day": self.day,
                "to_day": self.day,
                "page": 1,
            },
        }
        body = dict(bodies[route.path])
        # Every field the struct declares, and no other: each is then sent valid while
        # another is hostile, and a field added to the struct is walked at once.
        names = {f.encode_name for f in fields(route.body)}
        assert set(body) == names, f"update the valid body of {route.path}: {names ^ set(body)}"
        msgspec.convert(body, route.body)  # and each value passes the struct
        return body


async def prepare(site: Site) -> Room:
    """Visitor A at PC-01 (the only PC), B queued with a number, A's help request open."""
    fo = site["fo"]
    ids = []
    for badge, (name, nik) in enumerate((("Siti Aminah", KTP_A), ("Budi Santoso", KTP_B)), 1):
        visit = await fo.call(
            "POST", "/api/v1/visits", {**FORM, "name": name, "doc_number": nik}, expect=201
        )
        await fo.call("POST", f"/api/v1/visits/{visit['id']}/arm-badge", {"reader": "front-office"})
        assert (await fo.tap("front-office", badge))["reason"] == "badge_issued"
        ids.append(visit["id"])
    queued = await fo.call("GET", f"/api/v1/visits/{ids[1]}")
    request = await fo.call(
        "POST",
        "/api/v1/help",
        {"visit_id": ids[0], "category": "upload", "problem": "Gagal unggah"},
        expect=201,
    )
    badges = await fo.call("GET", "/api/v1/badges")
    free = next(b["id"] for b in badges if b["label"] == "K-005")
    status = await fo.call("GET", "/api/v1/status")
    return Room(ids[0], queued["ticket"]["id"], request["id"], free, status["day"])


async def snapshot(site: Site) -> tuple[Any, ...]:
    """What any change would move: the published status and the row count of each table."""
    status = await site["admin"].call("GET", "/api/v1/status")
    counts = ", ".join(f"(SELECT count(*) FROM {t})" for t in TABLES)
    async with site.runtime.engine.connect() as conn:
        row = (await conn.execute(text(f"SELECT {counts}"))).one()
    return (status, *row)


def assert_plain(
    body: dict[str, Any], field: str | None = None, options: tuple[str, ...] = ()
) -> None:
    """Indonesian first, English beside it, both for a clerk: no key, repr or trace (a
    choice's ``options``, the codes the API takes, may be listed)."""
    said, english = body["message_id"], body["message_en"]
    assert body["message"] in (said, english), body
    for message in (said, english):
        bare = BOUND.sub("", message)
        for option in sorted(options, key=len, reverse=True):
            bare = bare.replace(option, "")
        assert message.strip() and not MACHINE.search(bare), body
    assert not ENGLISH.search(said), f"English in the Indonesian message: {said!r}"
    assert not INDONESIAN.search(english), f"Indonesian in the English message: {english!r}"
    if field is not None:
        assert body.get("field") == field, (field, body)


# The routes with their own word for a field (a badge's note is its reason).
OWN_LABELS: dict[tuple[str, str], Label] = {
    **{
        (f"/api/v1/badges/{{id}}/{verb}", "note"): _("Alasan")
        for verb in ("lost", "found", "retire")
    },
    ("/api/v1/doors/{reader}/unlock", "reason"): REASON_LABEL,
}


def assert_labelled(body: dict[str, Any], field: str, route: Route | None = None) -> None:
    """The message names ``field`` by its label (the route's own word for it, if it has
    one) in each language, and nothing of msgspec (a ``$.path``, a type name) shows
    through."""
    own = OWN_LABELS.get((route.path, field)) if route is not None else None
    # The route's own word, or the field's usual label (a lone surrogate is refused as
    # the body is decoded, before the route's words are known): both name it plainly.
    names = [both(label) for label in (own, LABELS[field]) if label is not None]
    for lang in (0, 1):
        message = (body["message_id"], body["message_en"])[lang]
        assert any(n[lang].casefold() in message.casefold() for n in names), (field, body)
        assert not MSGSPEC.search(message), body


def options_of(route: Route | None, field: str | None) -> tuple[str, ...]:
    """The values a choice field of ``route`` takes (none for another kind of field)."""
    found: tuple[str, ...] = ()
    if route is not None and field is not None:
        for f in (*fields(route.body), *fields(route.query)):
            bare = _bare(f.type) if f.encode_name == field else None
            if isinstance(bare, inspect.EnumType):
                found += tuple(str(m.value) for m in bare.cls)
            elif isinstance(bare, inspect.LiteralType):
                found += tuple(str(v) for v in bare.values)
    return found


async def refused(
    site: Site,
    response: ClientResponse,
    status: int | None = 422,
    field: str | None = None,
    before: tuple[Any, ...] | None = None,
    route: Route | None = None,
) -> dict[str, Any]:
    """The response is a plain 4xx (``status`` when given) naming ``field`` by its label
    and, with ``before``, changed nothing."""
    body = await response.json()
    where = (response.method, str(response.url), response.status, body)
    assert 400 <= response.status < 500, where
    if status is not None:
        assert response.status == status, where
    options = options_of(route, field)
    assert_plain(body, field, options)
    if field is not None:
        assert_labelled(body, field, route)
    if before is not None:
        assert await snapshot(site) == before, where
    return dict(body)


class Faults:
    """The wrong answers of a walk, all listed at its end (one run shows every one)."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.tried = 0

    async def refused(
        self, site: Site, response: ClientResponse, *args: Any, sent: Any = None, **kw: Any
    ) -> dict[str, Any]:
        self.tried += 1
        try:
            return await refused(site, response, *args, **kw)
        except (AssertionError, ValueError) as error:  # ValueError: an answer not JSON
            self.found.append(f"{ascii(sent)[:80]} -> {ascii(str(error))[:500]}")
            return {}

    def check(self) -> None:
        assert not self.found, f"{len(self.found)} wrong answers:\n" + "\n".join(self.found)


def body_routes() -> list[Route]:
    return [r for r in ROUTES if r.body is not None]


def caller(site: Site, route: Route) -> Staff:
    """The admin, or the Head on the routes only the Head may call (the sign-offs)."""
    return site["admin"] if route.roles is None or Role.ADMIN in route.roles else site["head"]


def headers(staff: Staff, content_type: str | None = "application/json") -> dict[str, str]:
    out = {"X-CSRF-Token": staff.csrf}
    if content_type:
        out["Content-Type"] = content_type
    return out
