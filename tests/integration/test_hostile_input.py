"""Hostile input stops at the edge: every route of the table, walked with values that
once reached the writer (lone surrogates, NUL, year 1, ids past 64 bits, deep or huge
JSON, empty bodies, wrong types), is answered with a plain 4xx naming the field by its
label and leaves the room as it was. The fields and their kinds come from the routes'
msgspec structs (``route.body``, ``route.query``), so a field added there is walked."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import service.api.handlers  # noqa: F401  (declares the routes walked below)
from service.api.labels import LABELS
from service.api.routing import PATH_PATTERNS, ROUTES, Route
from service.demo import DEMO_PASSWORD, demo_uid
from service.store.tables import AccessEventRow
from tests.support.hostile import (
    DEEP,
    HOSTILE_BY_KIND,
    HOSTILE_DAYS,
    HOSTILE_IDS,
    HOSTILE_MONTHS,
    HOSTILE_TEXT,
    MULTILINE,
    ONE_PC,
    PASSWORDS,
    Faults,
    Room,
    body_routes,
    caller,
    fields,
    headers,
    hostile_values,
    kind_of,
    max_length,
    nested_fields,
    path_names,
    prepare,
    refused,
    snapshot,
)
from tests.support.site import Site, running_site, site_config


@pytest.fixture
async def room(tmp_path: Path) -> AsyncIterator[tuple[Site, Room]]:
    async with running_site(site_config(tmp_path, facilities=ONE_PC)) as site:
        yield site, await prepare(site)


@pytest.fixture
async def pg_room(tmp_path: Path, pg_url: str) -> AsyncIterator[tuple[Site, Room]]:
    """The same room on PostgreSQL, which refuses NUL and ids past 64 bits by itself."""
    async with running_site(site_config(tmp_path, pg_url, facilities=ONE_PC)) as site:
        yield site, await prepare(site)


async def post_json(site: Site, route: Route, path: str, body: Any) -> Any:
    staff = caller(site, route)
    return await staff.client.post(path, data=json.dumps(body), headers=headers(staff))


def test_every_input_has_a_label() -> None:
    """A message names each field by its label; none may fall back to a generic word.
    A missing field inside a list's object is named by its own label (a device's kind)."""
    names = set()
    for route in ROUTES:
        names |= {f.encode_name for f in (*fields(route.body), *fields(route.query))}
        names |= set(path_names(route)) | nested_fields(route.body)
    assert names - set(LABELS) - {"serial"} == set()  # a serial is optional: never missing


def test_every_field_has_hostile_values_and_a_valid_one() -> None:
    """Each field's kind is one the walks below have values for, and the multi-line
    fields (and only they) take a line break in their valid value."""
    room = Room(visit=1, ticket=1, help=1, badge=1, day="2026-11-25")
    multiline = set()
    for route in body_routes():
        body = room.body(route)  # exactly the struct's fields, each valid
        for field in fields(route.body):
            kind_of(field)
            if kind_of(field) != "text":
                continue
            lines = {**body, field.encode_name: "Baris pertama\nbaris kedua"}
            try:
                msgspec.convert(lines, route.body)
                multiline.add(field.encode_name)
            except msgspec.ValidationError:
                pass
    assert multiline - PASSWORDS == MULTILINE
    for route in ROUTES:
        for field in fields(route.query):
            kind_of(field)


async def hostile_text_in_every_text_field(room: tuple[Site, Room]) -> None:
    site, ids = room
    faults = Faults()
    for route in body_routes():
        for field in fields(route.body):
            if kind_of(field) != "text":
                continue
            name = field.encode_name
            values = dict(HOSTILE_TEXT)
            if name not in MULTILINE | PASSWORDS:
                values["a line break"] = "a\nb"
            if (longest := max_length(field)) is not None:
                values["one too long"] = "x" * (longest + 1)
            for value in values.values():
                before = await snapshot(site)
                body = {**ids.body(route), name: value}
                response = await post_json(site, route, ids.path(route), body)
                sent = (route.path, name, value)
                if name in PASSWORDS and isinstance(value, str) and _encodable(value):
                    # A password is taken as typed: one with a control character is
                    # only a wrong one (or one the policy refuses), and the throttle
                    # may answer first; still a plain 4xx that changes nothing.
                    await faults.refused(site, response, None, before=before, sent=sent)
                    continue
                await faults.refused(
                    site, response, field=name, before=before, route=route, sent=sent
                )
    faults.check()
    assert faults.tried > 300


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate: never a password, never storable
        return False
    return True


async def test_hostile_text_in_every_text_field(room: tuple[Site, Room]) -> None:
    await hostile_text_in_every_text_field(room)


async def test_hostile_flags_numbers_times_lists_and_choices(room: tuple[Site, Room]) -> None:
    site, ids = room
    faults = Faults()
    kinds = set()
    for route in body_routes():
        for field in fields(route.body):
            kind = kind_of(field)
            if kind == "text":
                continue
            name = field.encode_name
            for value in hostile_values(field):
                before = await snapshot(site)
                response = await post_json(
                    site, route, ids.path(route), {**ids.body(route), name: value}
                )
                sent = (route.path, name, value)
                await faults.refused(
                    site, response, field=name, before=before, route=route, sent=sent
                )
                kinds.add(kind)
    faults.check()
    assert kinds == set(HOSTILE_BY_KIND) - {"text"}


async def test_missing_and_null_required_fields(room: tuple[Site, Room]) -> None:
    """A required field left out, or sent as null, is refused by its own label; ``{}`` is
    refused by the label of one of the required fields."""
    site, ids = room
    faults = Faults()
    for route in body_routes():
        required = [f.encode_name for f in fields(route.body) if f.required]
        if not required:
            continue
        for name in required:
            good = ids.body(route)
            for body in ({k: v for k, v in good.items() if k != name}, {**good, name: None}):
                before = await snapshot(site)
                response = await post_json(site, route, ids.path(route), body)
                sent = (route.path, name, body.get(name, "<missing>"))
                await faults.refused(
                    site, response, field=name, before=before, route=route, sent=sent
                )
        before = await snapshot(site)
        response = await post_json(site, route, ids.path(route), {})
        said = await faults.refused(site, response, before=before, sent=(route.path, {}))
        if said and said.get("field") not in required:
            faults.found.append(f"{route.path} {{}} -> {said}")
    faults.check()
    assert faults.tried > 80


async def test_malformed_bodies_on_every_body_route(room: tuple[Site, Room]) -> None:
    site, ids = room
    admin = site["admin"]
    huge = json.dumps({"name": "x" * 100_000}).encode()

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 8192

    for route in body_routes():
        path = ids.path(route)
        admin = caller(site, route)
        for raw in (
            b"{nope",
            b"[]",
            b'"x"',
            b"null",
            b"42",
            b'{"a": NaN}',
            b'{"a": Infinity}',
            b'{"a": 1e400}',
            b'{"a": 1' + b"0" * 5000 + b"}",
            b'{"name": "\xff\xfe"}',
            b'{"name": "open',
            b'"\\"\\"\\"' * 8000,
            b"\xef\xbb\xbf{}",
            DEEP,
            b"[" * 60_000,
        ):
            before = await snapshot(site)
            response = await admin.client.post(path, data=raw, headers=headers(admin))
            await refused(site, response, before=before)
        for data, status in ((huge, 413), (chunked(), 413)):
            before = await snapshot(site)
            response = await admin.client.post(path, data=data, headers=headers(admin))
            await refused(site, response, status=status, before=before)
        good = json.dumps(ids.body(route))
        for kind in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
            before = await snapshot(site)
            response = await admin.client.post(path, data=good, headers=headers(admin, kind))
            await refused(site, response, status=415, before=before)
        response = await admin.client.post(
            path, data=good, headers=headers(admin, "application/json; charset=latin-1")
        )
        await refused(site, response, status=415)
        if route.body_required:
            for content_type in ("application/json", None):
                before = await snapshot(site)
                response = await admin.client.post(
                    path, data=b"", headers=headers(admin, content_type)
                )
                said = await refused(site, response, before=before)
                assert said["message_en"] == "The request body is required."


async def hostile_ids_in_every_path(room: tuple[Site, Room]) -> None:
    site, ids = room
    admin = site["admin"]
    routes = [r for r in ROUTES if "{id}" in r.path]
    assert len(routes) >= 15
    faults = Faults()
    for route in routes:
        admin = caller(site, route)
        for value in HOSTILE_IDS:
            before = await snapshot(site)
            body = json.dumps(ids.body(route)) if route.body is not None else None
            response = await admin.client.request(
                route.method, ids.path(route, id=value), data=body, headers=headers(admin)
            )
            sent = (route.method, route.path, value)
            await faults.refused(site, response, *_typed(value, "id"), before=before, sent=sent)
    faults.check()


def _typed(value: str, name: str) -> tuple[int, str | None]:
    """What a hostile path part gets: a part the route's pattern takes reaches the handler
    (422 naming it), any other matches no address (a plain 404)."""
    pattern = PATH_PATTERNS.get(name)
    if pattern is None or re.fullmatch(pattern, unquote(value)):
        return 422, name
    return 404, None


async def test_hostile_ids_in_every_path(room: tuple[Site, Room]) -> None:
    await hostile_ids_in_every_path(room)


@pytest.mark.postgres
async def test_hostile_text_and_ids_on_postgresql(pg_room: tuple[Site, Room]) -> None:
    await hostile_text_in_every_text_field(pg_room)
    await hostile_ids_in_every_path(pg_room)


async def test_hostile_days_and_months(room: tuple[Site, Room]) -> None:
    site, ids = room
    admin = site["admin"]
    faults = Faults()
    for route in ROUTES:
        admin = caller(site, route)
        body = json.dumps(ids.body(route)) if route.body is not None else None
        cases = []
        if "{day}" in route.path:
            cases += [(ids.path(route, day=v), *_typed(v, "day")) for v in HOSTILE_DAYS]
        if "{month}" in route.path:
            cases += [(ids.path(route, month=v), *_typed(v, "month")) for v in HOSTILE_MONTHS]
        for field in fields(route.query):
            if kind_of(field) == "date":
                name = field.encode_name
                cases += [(f"{ids.path(route)}?{name}={v}", 422, name) for v in HOSTILE_DAYS]
        for path, status, name in cases:
            before = await snapshot(site)
            response = await admin.client.request(
                route.method, path, data=body, headers=headers(admin)
            )
            await faults.refused(site, response, status, field=name, before=before, sent=path)
    faults.check()
    assert faults.tried >= 12 * len(HOSTILE_DAYS) + 2 * len(HOSTILE_MONTHS)


async def test_hostile_query_values(room: tuple[Site, Room]) -> None:
    site, ids = room
    admin = site["admin"]
    good = {"state": "admitted", "reader": "pintu-masuk", "event": "granted", "all": "1"}
    good |= {"format": "csv", "book": "all"}
    declared = {f.encode_name for r in ROUTES for f in fields(r.query)}
    assert set(good) <= declared, set(good) - declared
    faults = Faults()
    for route in ROUTES:
        admin = caller(site, route)
        names = {f.encode_name: f for f in fields(route.query)}
        if route.query is not None:
            msgspec.convert(
                {k: v for k, v in good.items() if k in names}, route.query, strict=False
            )
        for name, field in names.items():
            if kind_of(field) == "date":
                continue  # test_hostile_days_and_months
            values = ["%00", "a%1Bb", "a%0Ab", "x" * 300, "pdf%C2%85", "%ED%A0%80", "%FF"]
            if kind_of(field) == "choice":
                values += ["", "%20", "tidak-ada", quote(good.get(name, "x").upper() + "X")]
            for value in values:
                query = "&".join(
                    f"{k}={quote(v)}" for k, v in good.items() if k in names and k != name
                )
                path = f"{ids.path(route)}?{query}&{name}={value}"
                before = await snapshot(site)
                response = await admin.client.request(
                    route.method, path, headers=headers(admin, None)
                )
                sent = (route.method, path)
                # Bytes that are not UTF-8 arrive as U+FFFD: a reader or scanner of that
                # name is unknown (404 naming the field), or the value is refused (422).
                status = None if value in ("%ED%A0%80", "%FF") else 422
                await faults.refused(
                    site, response, status, field=name, before=before, route=route, sent=sent
                )
    faults.check()
    assert faults.tried >= 50


async def test_language_of_the_refusal(room: tuple[Site, Room]) -> None:
    site, _ = room
    admin = site["admin"]
    path = "/api/v1/help"

    async def said(query: str = "", **head: str) -> str:
        response = await admin.client.post(
            path + query, json={"problem": "x"}, headers={**headers(admin, None), **head}
        )
        body = await refused(site, response, field="category")
        return str(body["message"])

    assert await said() == "Kategori wajib diisi."
    assert await said("?lang=en") == "Category is required."
    assert await said("?lang=fr", **{"Accept-Language": "en"}) == "Kategori wajib diisi."
    assert await said("?lang=%00") == "Kategori wajib diisi."
    assert await said(**{"Accept-Language": "fr-FR, en;q=0.8, id;q=0.5"}) == "Category is required."
    assert await said(**{"Accept-Language": "de, fr;q=0.9"}) == "Kategori wajib diisi."
    assert await said(**{"Accept-Language": "en;q=0.2, id"}) == "Kategori wajib diisi."


async def test_addresses_and_methods_the_api_does_not_have(room: tuple[Site, Room]) -> None:
    site, _ = room
    admin = site["admin"]
    missing = await admin.client.get("/api/v1/nothing-here")
    await refused(site, missing, status=404)
    wrong = await admin.client.put("/api/v1/status", headers=headers(admin))
    body = await refused(site, wrong, status=405)
    assert body["message"] == "Alamat ini tidak menerima cara permintaan tersebut."
    assert "GET" in wrong.headers["Allow"]


async def malformed_requests_fail_alone_beside_good_taps(room: tuple[Site, Room]) -> None:
    """Bad requests sent in the same instant as door taps: every tap is answered and kept."""
    site, _ = room
    admin = site["admin"]
    body = {
        "name": "agen",
        "role": "device",
        "readers": ["pintu-masuk"],
        "current_password": DEMO_PASSWORD,
    }
    token = (await admin.call("POST", "/api/v1/tokens", body, 201))["token"]
    device = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    client = admin.client

    def tap(event_id: str, **extra: Any) -> Any:
        body = {"reader": "pintu-masuk", "uid": demo_uid(3), "event_id": event_id, **extra}
        return client.post("/api/v1/taps", data=json.dumps(body), headers=device)

    hostile = [
        lambda n: tap(f"bad\ud800{n}"),
        lambda n: tap(f"bad-{n}", at="0001-01-01T00:00:00+14:00"),
        lambda n: tap(f"bad-{n}", uid="04D3E0\x00"),
        lambda n: tap(f"bad-{n}", reader="pintu\udfffmasuk"),
        lambda n: client.post("/api/v1/taps", data=b"[" * 50_000, headers=device),
        lambda n: client.post("/api/v1/help", data=b'{"visit_id": 1e400}', headers=device),
        lambda n: tap(f"bad-{n}", at=1764032400),
        lambda n: tap(f"bad-{n}", token=["token-kartu"]),
        lambda n: client.post("/api/v1/taps", data=b"", headers=device),
        lambda n: client.post(
            "/api/v1/taps", data=json.dumps({"reader": "pintu-masuk", "uid": 2**64}), headers=device
        ),
    ]
    good_ids = [f"good-{n}" for n in range(30)]
    calls = []
    for n, event_id in enumerate(good_ids):
        calls.append(tap(event_id))
        calls.append(hostile[n % len(hostile)](n))
    responses = await asyncio.gather(*calls)
    answers = [(r.status, (await r.json()).get("reason")) for r in responses[::2]]
    assert answers == [(200, "badge_not_issued")] * len(good_ids)
    for response in responses[1::2]:
        await refused(site, response, status=None)
    async with site.runtime.engine.connect() as conn:
        kept = await conn.scalar(select(func.count()).where(AccessEventRow.event_id.in_(good_ids)))
        bad = await conn.scalar(select(func.count()).where(AccessEventRow.event_id.like("bad%")))
    assert (kept, bad) == (len(good_ids), 0)


async def test_malformed_requests_fail_alone_beside_good_taps(room: tuple[Site, Room]) -> None:
    await malformed_requests_fail_alone_beside_good_taps(room)


@pytest.mark.postgres
async def test_malformed_requests_fail_alone_on_postgresql(pg_room: tuple[Site, Room]) -> None:
    await malformed_requests_fail_alone_beside_good_taps(pg_room)


# Any character at all, with lone surrogates and control characters drawn often.
ANY_CHAR = st.one_of(
    st.characters(categories=["Cs"]),
    st.characters(categories=["Cc"]),
    st.characters(exclude_categories=()),
)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.text(ANY_CHAR, max_size=40), problem=st.text(ANY_CHAR, max_size=80))
async def test_any_text_is_taken_as_sent_or_refused_plainly(
    room: tuple[Site, Room], name: str, problem: str
) -> None:
    site, ids = room
    for path, field, value, extra in (
        ("/api/v1/help", "problem", problem, {"category": "other"}),
        ("/api/v1/visits", "name", name, ids.body(ROUTE_VISITS)),
    ):
        before = await snapshot(site)
        response = await post_json(site, ROUTE_VISITS, path, {**extra, field: value})
        assert response.status < 500, await response.text()
        if response.status == 201:
            assert (await response.json())[field] == value.strip()
        elif response.status == 422 and (await response.json()).get("field") == field:
            await refused(site, response, field=field, before=before)
        else:
            await refused(site, response, status=None)


ROUTE_VISITS = next(r for r in ROUTES if (r.method, r.path) == ("POST", "/api/v1/visits"))
