"""Dates, times and words as the office writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from service.errors import ValidationError
from service.reports.render import month_range
from service.reports.wording import clock_time, long_date, month_name, word

WIB = ZoneInfo("Asia/Jakarta")


def test_long_date_in_indonesian_and_english() -> None:
    assert long_date(date(2026, 11, 25)) == "Rabu, 25 November 2026"
    assert long_date(date(2026, 8, 17)) == "Senin, 17 Agustus 2026"
    assert long_date(date(2026, 11, 25), "en") == "Wednesday, 25 November 2026"
    assert month_name(date(2026, 2, 1)) == "Februari 2026"


def test_clock_time_in_the_site_zone() -> None:
    at = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)
    assert clock_time(at, WIB) == "14.05 WIB"
    assert clock_time(at, WIB, "en") == "14:05 WIB"
    assert clock_time(at, ZoneInfo("Asia/Makassar")) == "15.05 WITA"
    assert clock_time(None, WIB) == ""


def test_words_switch_language() -> None:
    assert word("access_book") == "BUKU KENDALI AKSES RUANG BIDDING ROOM"
    assert word("access_book", "en") == "BIDDING ROOM ACCESS CONTROL BOOK"


def test_month_range_and_bad_month() -> None:
    assert month_range("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_range("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    with pytest.raises(ValidationError):
        month_range("November")
