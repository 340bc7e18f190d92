"""The API contract: every route is typed, and a struct's refusal reads as a clerk's
message naming the field by its label (never ``$.field``, a type name or a key)."""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated, Literal

import msgspec
import pytest
from msgspec import Meta

import service.api.handlers  # noqa: F401 (registers every route)
from service.api import body, contract
from service.api.routing import ROUTES
from service.errors import ValidationError


class Sample(contract.Body):
    name: contract.Name
    visit_id: contract.Id
    kind: Literal["pc", "meja"] = "pc"
    day: contract.Day | None = None
    reason: contract.Reason | None = None
    note: Annotated[str, Meta(max_length=10, pattern=contract.ANY_LINE)] | None = None


class Kind(enum.StrEnum):
    KTP = "ktp"


class WithEnum(contract.Body):
    kind: Kind


def refusal(sent: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        contract.convert(sent, Sample)
    return caught.value


def test_every_route_declares_its_types() -> None:
    for r in ROUTES:
        where = f"{r.method} {r.path}"
        assert r.body is None or issubclass(r.body, contract.Body), where
        assert r.query is None or issubclass(r.query, contract.Query), where
        if r.response == "application/json" and r.status != 204:
            assert r.reply is not None, f"{where}: a JSON reply without its type"


@pytest.mark.parametrize(
    ("sent", "field", "indonesian"),
    [
        ({"visit_id": 1}, "name", "Nama wajib diisi."),
        ({"name": 5, "visit_id": 1}, "name", "Nama harus berupa teks."),
        ({"name": "   ", "visit_id": 1}, "name", "Nama wajib diisi."),
        ({"name": "x" * 101, "visit_id": 1}, "name", "paling banyak 100 karakter"),
        ({"name": "a\x00b", "visit_id": 1}, "name", "tidak diizinkan"),
        ({"name": "Ani", "visit_id": 0}, "visit_id", "di luar batas"),
        ({"name": "Ani", "visit_id": True}, "visit_id", "angka bulat"),
        ({"name": "Ani", "visit_id": 1, "kind": "x"}, "kind", "salah satu dari: meja, pc"),
        ({"name": "Ani", "visit_id": 1, "day": "2026-13-01"}, "day", "TTTT-BB-HH"),
        ({"name": "Ani", "visit_id": 1, "reason": "abc"}, "reason", "paling sedikit 5"),
        ({"name": "Ani", "visit_id": 1, "reason": "  "}, "reason", "wajib diisi"),
    ],
)
def test_a_refusal_names_the_field_by_its_label(
    sent: dict[str, object], field: str, indonesian: str
) -> None:
    error = refusal(sent)
    assert error.field == field and indonesian in error.message("id")
    for lang in ("id", "en"):
        text = error.message(lang)
        assert "$." not in text and "Expected" not in text and "`" not in text
    assert field not in error.message("id")  # the key never shows ("kind" is English)
    assert error.message("en") != error.message("id")


def test_a_lone_surrogate_is_refused_before_any_struct_naming_its_field() -> None:
    for raw in (rb'{"name": "a\ud800"}', rb'{"name": ["\udc00"]}'):
        with pytest.raises(ValidationError) as caught:
            body.decode(raw)
        assert caught.value.field == "name" and "Nama" in caught.value.message("id")
    assert body.decode(rb'{"name": "\ud83d\ude00"}') == {"name": "\U0001f600"}


def test_a_body_that_is_not_an_object_is_refused_plainly() -> None:
    error = refusal([1, 2])
    assert error.field is None and "objek JSON" in error.message("id")


def test_text_is_trimmed_and_enums_stay_enums() -> None:
    got = contract.convert(
        {"name": "  Ani  ", "visit_id": 7, "day": "2026-11-30", "note": ""}, Sample
    )
    assert got.name == "Ani" and got.day == date(2026, 11, 30) and got.note == ""

    # A StrEnum member is a str too: it must come back as the member, not trimmed text.
    assert contract.convert({"kind": "ktp"}, WithEnum).kind is Kind.KTP


def test_a_whole_number_written_with_a_fraction_is_an_integer() -> None:
    decoded = body.decode(b'{"name": "Ani", "visit_id": 3.0, "big": 1e2, "half": 0.5}')
    assert decoded["visit_id"] == 3 and isinstance(decoded["visit_id"], int)
    assert decoded["big"] == 100 and decoded["half"] == 0.5
    assert contract.convert(decoded, Sample).visit_id == 3


def test_replies_carry_only_what_they_declare() -> None:
    class Out(contract.Reply):
        ok: bool

    answer = contract.reply(Out(ok=True), status=201)
    assert answer.status == 201 and answer.content_type == "application/json"
    assert msgspec.json.decode(answer.body) == {"ok": True}  # type: ignore[arg-type]


def test_a_rule_across_fields_is_in_the_schema_and_refused_naming_the_field() -> None:
    """The struct's ``schema_rule`` is in the document; its ``rule`` refuses the same
    input with a 422 naming the field, and takes what the schema takes."""
    from service.api.openapi import openapi_document
    from service.api.shapes.accounts import LockLiftIn, TokenIn

    schemas = openapi_document("test")["components"]["schemas"]
    assert "anyOf" in schemas["LockLiftIn"] and "if" in schemas["TokenIn"]
    for sent, struct, field in (
        ({}, LockLiftIn, "account"),
        ({"account": None, "device": None}, LockLiftIn, "account"),
        ({"name": "agent", "role": "device"}, TokenIn, "readers"),
        ({"name": "agent", "role": "device", "readers": []}, TokenIn, "readers"),
    ):
        with pytest.raises(ValidationError) as caught:
            contract.convert(sent, struct)
        assert caught.value.field == field
        assert "readers" not in str(caught.value.message) and "account" not in str(
            caught.value.message
        )
    assert contract.convert({"address": "10.0.0.5"}, LockLiftIn).address == "10.0.0.5"
    assert contract.convert({"name": "api", "role": "admin"}, TokenIn).readers == []
