"""The Idempotency-Key rules, without a database: the header's syntax, the request's
fingerprint, and what a key seen before means for a new request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.idempotency import (
    IN_FLIGHT_LIMIT,
    KEY_LIFETIME,
    Answer,
    MalformedKey,
    Seen,
    Verdict,
    fingerprint,
    judge,
    parse_key,
)

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
DIGEST = fingerprint("POST", "/api/v1/visits", b'{"name": "Siti"}')
ANSWER = Answer(201, "application/json; charset=utf-8", b'{"id": 1}')


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('  "a b"  ', "a b"),
        ('"with \\"quote\\""', 'with "quote"'),
        ('"k";v=1', "k"),  # parameters are allowed on an Item and ignored
    ],
)
def test_a_quoted_string_is_a_key(header: str, key: str) -> None:
    assert parse_key(header) == key


@pytest.mark.parametrize(
    "header",
    [
        "8e03978e-40d5-43e8-bc93-6894a57f9324",  # not quoted: not a String
        "token",  # a Token, not a String
        "42",
        "?1",
        ":aGVsbG8=:",  # a Byte Sequence
        '""',
        '"   "',
        '"' + "x" * 256 + '"',
        '"a", "b"',
        '"never closed',
        '"ü"',
        "",
    ],
)
def test_anything_else_is_malformed(header: str) -> None:
    with pytest.raises(MalformedKey) as caught:
        parse_key(header)
    assert caught.value.http_status == 400
    assert "tanda kutip" in caught.value.message("id")
    assert "quoted string" in caught.value.message("en")


def test_the_fingerprint_covers_method_path_and_body() -> None:
    assert fingerprint("post", "/api/v1/visits", b'{"name": "Siti"}') == DIGEST
    assert fingerprint("PUT", "/api/v1/visits", b'{"name": "Siti"}') != DIGEST
    assert fingerprint("POST", "/api/v1/visits?x=1", b'{"name": "Siti"}') != DIGEST
    assert fingerprint("POST", "/api/v1/visits", b'{"name": "Sita"}') != DIGEST
    # The parts are length-prefixed: moving bytes from path to body is another request.
    assert fingerprint("POST", "/a", b"b") != fingerprint("POST", "/ab", b"")


def test_a_key_never_seen_runs() -> None:
    assert judge(None, DIGEST, NOW) is Verdict.RUN


def test_an_answered_key_replays_the_same_request_and_refuses_another() -> None:
    seen = Seen(DIGEST, NOW - timedelta(hours=1), ANSWER)
    assert judge(seen, DIGEST, NOW) is Verdict.REPLAY
    assert judge(seen, "0" * 64, NOW) is Verdict.REUSED


def test_a_key_is_kept_for_its_lifetime_then_runs_again() -> None:
    seen = Seen(DIGEST, NOW - KEY_LIFETIME + timedelta(seconds=1), ANSWER)
    assert judge(seen, DIGEST, NOW) is Verdict.REPLAY
    expired = Seen(DIGEST, NOW - KEY_LIFETIME, ANSWER)
    assert judge(expired, DIGEST, NOW) is Verdict.RUN
    assert judge(expired, "0" * 64, NOW) is Verdict.RUN  # a forgotten key is a new key


def test_a_key_in_flight_is_waited_for_until_it_is_given_up() -> None:
    running = Seen(DIGEST, NOW - timedelta(seconds=5), None)
    assert judge(running, DIGEST, NOW) is Verdict.IN_FLIGHT
    assert judge(running, "0" * 64, NOW) is Verdict.REUSED
    lost = Seen(DIGEST, NOW - IN_FLIGHT_LIMIT, None)
    assert judge(lost, DIGEST, NOW) is Verdict.RUN
    assert judge(lost, "0" * 64, NOW) is Verdict.REUSED


def test_an_answer_that_no_longer_opens_runs_again() -> None:
    seen = Seen(DIGEST, NOW - timedelta(minutes=1), None, unreadable=True)
    assert judge(seen, DIGEST, NOW) is Verdict.RUN
