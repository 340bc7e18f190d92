"""The signed badge token: verifies for its own badge only, malformed tokens rejected."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from service.domain import badge_token
from service.domain.taps import InvalidTap

KEY = bytes(range(32))

keys = st.binary(min_size=16, max_size=64)
labels = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=32)
uids = st.sampled_from([4, 7, 10]).flatmap(
    lambda n: st.binary(min_size=n, max_size=n).map(lambda b: b.hex().upper())
)


def test_token_is_compact_ascii_with_label() -> None:
    token = badge_token.sign(KEY, "K-001", "04A23B1C2D3E80")
    assert token.startswith("BR1.K-001.")
    assert token.isascii()
    assert len(token) == len("BR1.K-001.") + 22
    assert badge_token.parse(token)[0] == "K-001"
    assert badge_token.label_of(token) == "K-001"


def test_uid_spelling_does_not_matter() -> None:
    token = badge_token.sign(KEY, "K-001", "04:a2:3b:1c:2d:3e:80")
    assert badge_token.verify(KEY, "K-001", "04A23B1C2D3E80", token)


@given(keys, labels, uids)
def test_token_verifies_for_its_own_badge(key: bytes, label: str, uid: str) -> None:
    token = badge_token.sign(key, label, uid)
    assert badge_token.verify(key, label, uid, token)
    parsed_label, mac = badge_token.parse(token)
    assert parsed_label == label
    assert len(mac) == 16


@given(keys, labels, uids, uids)
def test_token_fails_for_another_uid(key: bytes, label: str, uid: str, other: str) -> None:
    assume(other != uid)
    assert not badge_token.verify(key, label, other, badge_token.sign(key, label, uid))


@given(keys, labels, labels, uids)
def test_token_fails_for_another_label(key: bytes, label: str, other: str, uid: str) -> None:
    assume(other != label)
    assert not badge_token.verify(key, other, uid, badge_token.sign(key, label, uid))


@given(keys, keys, labels, uids)
def test_token_fails_under_another_key(key: bytes, other: bytes, label: str, uid: str) -> None:
    assume(other != key)
    assert not badge_token.verify(other, label, uid, badge_token.sign(key, label, uid))


@given(labels, uids, st.integers(min_value=0, max_value=21), st.sampled_from("AQgw-_"))
def test_any_changed_mac_character_fails(label: str, uid: str, pos: int, char: str) -> None:
    token = badge_token.sign(KEY, label, uid)
    head, mac = token.rsplit(".", 1)
    assume(mac[pos] != char)
    forged = f"{head}.{mac[:pos]}{char}{mac[pos + 1 :]}"
    assert not badge_token.verify(KEY, label, uid, forged)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "BR1",
        "BR1.K-001",
        "BR2.K-001.AAAAAAAAAAAAAAAAAAAAAA",
        "br1.K-001.AAAAAAAAAAAAAAAAAAAAAA",
        "BR1..AAAAAAAAAAAAAAAAAAAAAA",
        "BR1.K.001.AAAAAAAAAAAAAAAAAAAAAA",
        "BR1.K 001.AAAAAAAAAAAAAAAAAAAAAA",
        "BR1.K-001.AAAAAAAAAAAAAAAAAAAAA",  # 21 characters
        "BR1.K-001.AAAAAAAAAAAAAAAAAAAAAAA",  # 23 characters
        "BR1.K-001.AAAAAAAAAAAAAAAAAAAAA+",  # standard, not url-safe, alphabet
        "BR1.K-001.AAAAAAAAAAAAAAAAAAAAAB",  # stray bits: not canonical
        "BR1.K-001.AAAAAAAAAAAAAAAAAAAAAA==",
        "BR1." + "K" * 33 + ".AAAAAAAAAAAAAAAAAAAAAA",
        "BR1.K-ÖÖ1.AAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_malformed_tokens_are_rejected(token: str) -> None:
    with pytest.raises(ValueError):
        badge_token.parse(token)
    assert badge_token.label_of(token) is None
    assert not badge_token.verify(KEY, "K-001", "04A23B1C2D3E80", token)


@given(st.text(max_size=80))
def test_parse_never_crashes_on_text(text: str) -> None:
    try:
        label, mac = badge_token.parse(text)
    except ValueError:
        return
    assert len(mac) == 16
    assert text.startswith(f"BR1.{label}.")
    assert len(text) == len(f"BR1.{label}.") + 22


def test_bad_label_or_uid_cannot_be_signed() -> None:
    with pytest.raises(ValueError):
        badge_token.sign(KEY, "K.001", "04A23B1C")
    with pytest.raises(InvalidTap):
        badge_token.sign(KEY, "K-001", "not-hex")


def test_bad_uid_does_not_verify() -> None:
    token = badge_token.sign(KEY, "K-001", "04A23B1C")
    assert not badge_token.verify(KEY, "K-001", "zz", token)


def test_short_key_is_refused() -> None:
    with pytest.raises(ValueError):
        badge_token.sign(b"short", "K-001", "04A23B1C")
    token = badge_token.sign(KEY, "K-001", "04A23B1C")
    with pytest.raises(ValueError):
        badge_token.verify(b"short", "K-001", "04A23B1C", token)
