"""Identity documents: each NIK fault in words a clerk understands, masks, SIM, passport,
phone and NPWP."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.identity import (
    DocumentType,
    NikError,
    NikFault,
    check_document,
    check_nik,
    check_npwp,
    check_phone,
    mask_number,
)
from service.errors import ValidationError

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("raw", "fault", "message"),
    [
        ("", NikFault.EMPTY, "NIK wajib diisi."),
        ("  - . ", NikFault.EMPTY, "NIK wajib diisi."),
        ("15710117O8450001", NikFault.NOT_DIGITS, "NIK hanya boleh berisi angka."),
        ("157101170845000", NikFault.LENGTH, "NIK harus 16 digit."),
        ("15710117084500012", NikFault.LENGTH, "NIK harus 16 digit."),
        (
            "2071011708450001",  # no province 20
            NikFault.REGION,
            "Kode wilayah NIK (4 digit pertama) tidak terdaftar.",
        ),
        (
            "9971011708450001",
            NikFault.REGION,
            "Kode wilayah NIK (4 digit pertama) tidak terdaftar.",
        ),
        (
            "1571013002451234",  # 30 February
            NikFault.BIRTH_DATE,
            "Tanggal lahir dalam NIK (digit 7-12) tidak valid.",
        ),
        (
            "1571017513451234",  # month 13 (a woman's day 35)
            NikFault.BIRTH_DATE,
            "Tanggal lahir dalam NIK (digit 7-12) tidak valid.",
        ),
    ],
)
def test_nik_faults(raw: str, fault: NikFault, message: str) -> None:
    with pytest.raises(NikError) as caught:
        check_nik(raw, TODAY)
    assert caught.value.fault is fault
    assert caught.value.message_id == message
    assert caught.value.field == "doc_number"
    assert caught.value.http_status == 422


def test_nik_future_birth_date() -> None:
    # 29-02-00 only exists in 2000; on a day before it, that birth has not happened.
    with pytest.raises(NikError) as caught:
        check_nik("1571012902001234", date(2000, 2, 28))
    assert caught.value.fault is NikFault.FUTURE_BIRTH
    assert caught.value.message_id == "Tanggal lahir dalam NIK belum terjadi."
    assert check_nik("1571012902001234", TODAY).birth_date == date(2000, 2, 29)


def test_valid_nik_for_a_man() -> None:
    info = check_nik(" 1571.0117.0845-0001 ", TODAY)
    assert info.number == "1571011708450001"
    assert (info.region_code, info.birth_date, info.female) == ("1571", date(1945, 8, 17), False)


def test_valid_nik_for_a_woman_has_40_added_to_the_day() -> None:
    info = check_nik("1571015708450001", TODAY)
    assert (info.birth_date, info.female) == (date(1945, 8, 17), True)


def test_nik_of_someone_born_this_century() -> None:
    # A 21-year-old woman born 12 March 2005; the API shows this birth date.
    assert check_nik("1571015203050001", TODAY).birth_date == date(2005, 3, 12)


def test_nik_day_beyond_a_womans_71_is_refused() -> None:
    with pytest.raises(NikError) as caught:
        check_nik("1571019102451234", TODAY)  # day 91: neither 01-31 nor 41-71
    assert caught.value.fault is NikFault.BIRTH_DATE


@pytest.mark.parametrize("raw", ["1599011708450001", "1500011708450001"])
def test_nik_unregistered_regency_in_a_known_province(raw: str) -> None:
    with pytest.raises(NikError) as caught:
        check_nik(raw, TODAY)
    assert caught.value.fault is NikFault.REGION


@pytest.mark.parametrize("day_digits", ["00", "32", "40", "72", "80", "81", "99"])
def test_nik_day_digits_outside_1_31_and_41_71_are_refused(day_digits: str) -> None:
    with pytest.raises(NikError) as caught:
        check_nik(f"157101{day_digits}0845 0001", TODAY)
    assert caught.value.fault is NikFault.BIRTH_DATE


@pytest.mark.parametrize(
    ("day_digits", "born", "female"),
    [
        ("01", date(1945, 8, 1), False),
        ("31", date(1945, 8, 31), False),
        ("41", date(1945, 8, 1), True),
        ("71", date(1945, 8, 31), True),
    ],
)
def test_nik_day_digit_edges(day_digits: str, born: date, female: bool) -> None:
    info = check_nik(f"157101{day_digits}08450001", TODAY)
    assert (info.birth_date, info.female) == (born, female)


@pytest.mark.parametrize(
    ("ddmmyy", "born"),
    [
        ("251126", date(2026, 11, 25)),  # born today: this century
        ("261126", date(1926, 11, 26)),  # tomorrow in the 2000s: must be a centenarian
        ("010100", date(2000, 1, 1)),
        ("311299", date(1999, 12, 31)),
    ],
)
def test_nik_century_is_the_latest_that_has_happened(ddmmyy: str, born: date) -> None:
    assert check_nik(f"157101{ddmmyy}0001", TODAY).birth_date == born


def test_mask_number() -> None:
    assert mask_number("1571011708450001") == "1571**********01"
    assert mask_number("C1234567") == "C123**67"
    assert mask_number("123456") == "******"


def test_check_document_ktp_uses_the_nik_rules() -> None:
    assert check_document(DocumentType.KTP, "1571 0117 0845 0001", TODAY) == "1571011708450001"
    with pytest.raises(NikError):
        check_document(DocumentType.KTP, "1571", TODAY)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("1234-5678-9012", "123456789012"), ("12345678901234", "12345678901234")],
)
def test_sim_numbers(raw: str, canonical: str) -> None:
    assert check_document(DocumentType.SIM, raw, TODAY) == canonical


@pytest.mark.parametrize("raw", ["12345678901", "123456789012345", "1234A6789012", ""])
def test_bad_sim_numbers(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_document(DocumentType.SIM, raw, TODAY)
    assert caught.value.message_id == "Nomor SIM harus 12 sampai 14 digit."


@pytest.mark.parametrize(
    ("raw", "canonical"), [("c1234567", "C1234567"), ("AB 123456", "AB123456")]
)
def test_passport_numbers(raw: str, canonical: str) -> None:
    assert check_document(DocumentType.PASSPORT, raw, TODAY) == canonical


@pytest.mark.parametrize("raw", ["1234567", "ABC123456", "C12345", "C12345678"])
def test_bad_passport_numbers(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_document(DocumentType.PASSPORT, raw, TODAY)
    assert caught.value.field == "doc_number"
    assert caught.value.message_id.startswith("Nomor paspor")


@pytest.mark.parametrize(
    "raw",
    ["0812 3456 7890", "0812-3456-7890", "(0812) 34567890", "+62 812 3456 7890", "6281234567890"],
)
def test_phone_is_normalised(raw: str) -> None:
    assert check_phone(raw) == "+6281234567890"


@pytest.mark.parametrize(
    "raw", ["", "0741 123456", "081234", "+1 812 3456 7890", "08123456789012345"]
)
def test_bad_phones(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_phone(raw)
    assert caught.value.field == "phone"
    assert "seluler" in caught.value.message_id


@pytest.mark.parametrize(
    ("raw", "compact"),
    [("01.312.166.0-091.000", "013121660091000"), ("0013121660091000", "0013121660091000")],
)
def test_npwp(raw: str, compact: str) -> None:
    assert check_npwp(raw, TODAY) == compact


@pytest.mark.parametrize("raw", ["01.312.166.1-091.000", "123456789", ""])
def test_bad_npwp(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_npwp(raw, TODAY)
    assert caught.value.field == "npwp"
    assert caught.value.message_id.startswith("NPWP tidak valid")


# --- Properties ------------------------------------------------------------------

births = st.dates(min_value=date(1926, 11, 26), max_value=TODAY)


@given(born=births, female=st.booleans(), serial=st.integers(1, 9999))
def test_any_nik_of_the_last_hundred_years_reads_back(
    born: date, female: bool, serial: int
) -> None:
    day = born.day + (40 if female else 0)
    number = f"157101{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
    info = check_nik(number, TODAY)
    assert (info.birth_date, info.female, info.region_code) == (born, female, "1571")
    assert check_document(DocumentType.KTP, number, TODAY) == number
    masked = mask_number(number)
    assert masked == "1571" + "*" * 10 + number[-2:]
    assert number[4:14] not in masked


@given(digits=st.text(alphabet="0123456789", min_size=9, max_size=10))
def test_any_mobile_number_normalises_the_same_whatever_the_prefix(digits: str) -> None:
    local = "08" + digits
    canonical = check_phone(local)
    assert canonical == "+628" + digits
    assert check_phone("+62" + local[1:]) == canonical
    assert check_phone("62" + local[1:]) == canonical
    assert check_phone(canonical) == canonical
