"""The readers of request input, without a server: whatever comes in, a reader returns
a value within its bounds or raises the one plain ValidationError, never anything else."""

from __future__ import annotations

import decimal
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.api import body, params
from service.errors import ValidationError

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ANY_CHAR = st.one_of(
    st.characters(categories=["Cs"]),
    st.characters(categories=["Cc"]),
    st.characters(exclude_categories=()),
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    # Brackets and quotes inside strings must not count as nesting.
    | st.text(st.sampled_from('[]{}"\\ ab\n\u00e9\ud800'), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=40,
)
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@given(st.text(ANY_CHAR, max_size=30), st.booleans())
def test_text_is_kept_as_sent_or_refused(raw: str, multiline: bool) -> None:
    try:
        value = params.clean(raw, "name", multiline=multiline)
    except ValidationError as exc:
        assert exc.field == "name" and exc.message_id.startswith("Nama ")
        assert FORBIDDEN.search(raw) or (not multiline and re.search(r"[\t\n\r]", raw))
        return
    assert value == raw.strip() and not FORBIDDEN.search(value)
    if not multiline:
        assert not re.search(r"[\t\n\r]", value)


def test_a_required_text_names_its_field_by_label() -> None:
    with pytest.raises(ValidationError) as caught:
        params.text({"name": "  "}, "name")
    assert (caught.value.message_id, caught.value.message_en) == (
        "Nama wajib diisi.",
        "Name is required.",
    )
    with pytest.raises(ValidationError) as caught:
        params.text({"doc_number": "1" * 41}, "doc_number", max_len=40)
    assert caught.value.message_id == "Nomor identitas terlalu panjang (paling banyak 40 karakter)."
    assert caught.value.field == "doc_number"


@given(JSON)
def test_an_id_is_a_positive_64_bit_integer_or_refused(value: Any) -> None:
    try:
        number = params.identifier(value, "visit_id")
    except ValidationError as exc:
        assert exc.field == "visit_id"
        assert isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63
        return
    assert type(value) is int and number == value and 1 <= number < 2**63


@pytest.mark.parametrize("raw", ["1", "007", "9223372036854775807"])
def test_ids_from_an_address(raw: str) -> None:
    assert params.identifier(raw, "id") == int(raw)


@pytest.mark.parametrize(
    "raw", ["", " 1", "1 ", "+1", "1_000", "١٢", "1.0", "1e3", "9223372036854775808", "-1", "0"]
)
def test_ids_that_are_not(raw: str) -> None:
    with pytest.raises(ValidationError):
        params.identifier(raw, "id")


@given(st.dates(), st.sampled_from(["%Y-%m-%d", "%Y%m%d", "%Y-%m", "%d-%m-%Y"]))
def test_a_day_is_in_the_sane_span_or_refused(day: date, form: str) -> None:
    raw = f"{day.year:04d}" + day.strftime(form.replace("%Y", ""))
    try:
        found = params.a_date(raw, "day", TODAY)
    except ValidationError as exc:
        assert exc.field == "day"
        assert form != "%Y-%m-%d" or not date(2000, 1, 1) <= day <= date(2027, 11, 25)
        return
    assert form == "%Y-%m-%d" and found == day


@given(st.text(ANY_CHAR, max_size=12))
def test_any_day_or_month_text_is_taken_or_refused_plainly(raw: str) -> None:
    for read in (params.a_date, params.a_month):
        try:
            found = read(raw, "day", TODAY)
        except ValidationError as exc:
            assert exc.field == "day"
            continue
        first = found if isinstance(found, date) else found[0]
        assert date(2000, 1, 1) <= first <= date(2027, 11, 25)
        assert raw == "" or re.fullmatch(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?", raw)


@pytest.mark.parametrize(
    ("raw", "span"),
    [
        ("2026-02", (date(2026, 2, 1), date(2026, 2, 28))),
        ("2024-02", (date(2024, 2, 1), date(2024, 2, 29))),
        ("2027-11", (date(2027, 11, 1), date(2027, 11, 30))),
        ("2000-01", (date(2000, 1, 1), date(2000, 1, 31))),
    ],
)
def test_months(raw: str, span: tuple[date, date]) -> None:
    assert params.a_month(raw, "month", TODAY) == span


@pytest.mark.parametrize("raw", ["1999-12", "2027-12", "0001-01", "9999-12", "2026-00", "2026-1"])
def test_months_that_are_not(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        params.a_month(raw, "month", TODAY)
    assert caught.value.message_id.startswith("Bulan harus ")


OFFSETS = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ).map(lambda d: timedelta(minutes=d // timedelta(minutes=1))),
)


@given(st.datetimes(timezones=st.none() | OFFSETS))
def test_a_time_is_aware_and_in_the_sane_span_or_refused(moment: datetime) -> None:
    try:
        found = params.a_datetime(moment.isoformat(), "at", NOW)
    except ValidationError as exc:
        assert exc.field == "at"
        assert (
            moment.tzinfo is None
            or moment.year < 2000
            or moment.year > 2027
            or (
                not datetime(2000, 1, 1, tzinfo=UTC)
                <= moment
                <= datetime(2027, 11, 25, 2, tzinfo=UTC)
            )
        )
        return
    assert found == moment and found.tzinfo is not None


@given(JSON)
def test_nesting_is_measured_as_the_decoder_would_see_it(value: Any) -> None:
    raw = json.dumps(value)
    assert body.nesting_depth(raw) == depth(value)
    if body._unstorable(value):  # a lone surrogate somewhere: refused, named if a field
        with pytest.raises(ValidationError):
            body.decode(raw.encode())
        return
    assert body.decode(raw.encode()) == whole(value)


def whole(value: Any) -> Any:
    """A whole number written as a float (``3.0``, ``2.5e16``) decodes as the integer it
    writes, as JSON Schema's ``integer`` takes it."""
    if isinstance(value, float):
        exact = decimal.Decimal(repr(value))
        return int(exact) if exact == exact.to_integral_value() and abs(exact) < 2**64 else value
    if isinstance(value, list):
        return [whole(v) for v in value]
    if isinstance(value, dict):
        return {k: whole(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("levels", [body.MAX_DEPTH + 1, 1000, 50_000])
def test_deep_bodies_are_refused_before_the_decoder_recurses(levels: int) -> None:
    with pytest.raises(ValidationError) as caught:
        body.decode(b"[" * levels + b"]" * levels)
    assert "bertingkat" in caught.value.message_id


@given(
    st.binary(max_size=200)
    | st.text(st.sampled_from('[]{}"\\:,0e1.-NaInfity tr'), max_size=60).map(str.encode)
)
def test_any_bytes_decode_or_are_refused_plainly(raw: bytes) -> None:
    try:
        body.decode(raw)
    except ValidationError as exc:
        assert exc.http_status == 422


def test_an_unclosed_string_full_of_escaped_quotes_is_refused_at_once() -> None:
    raw = b'"' + b'\\"' * 30_000
    with pytest.raises(ValidationError):
        body.decode(raw)
