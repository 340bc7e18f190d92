"""The pure rules of a scanned card: labels matched leniently, values as the card writes
them, the NIK compared with the printed birth date and sex, the passport's check digits."""

from __future__ import annotations

from datetime import date

from service.domain import ktp, mrz
from service.domain.ktp import Field, Word

TODAY = date(2026, 11, 25)
NIK = "1571015708850001"  # Kota Jambi, born 17-08-1985, female


def line(*texts: str, confidence: float = 0.95) -> tuple[Word, ...]:
    """Words as the engine gives them: left to right, about as wide as their text."""
    words, left = [], 0.03
    for text in texts:
        right = left + 0.008 * len(text)
        words.append(Word(text, confidence, left=left, right=right))
        left = right + 0.01
    return tuple(words)


CARD = [
    line("Nama", ":", "SITI", "AMINAH"),
    line("Tempat/Tgi", "Lahir", "—", ":", "JAMBI,", "17-08-1985", "|"),
    line("jenis", "Kelamin", ":", "PEREMPUAN", "Gol.", "Darah", ":", "O"),
    line("Alamat", "1", "JL", "SULTAN", "THAHA", "NO,", "12"),
    line("RT/RW", ":", "005002"),
    line("Kel/Desa", ":", "PASAR", "JAMBI", "|"),
    line("Kecamatan", ":", "PASAR", "JAMBI"),
    line("Agama", ":", "ISLAN"),
    line("Status", "Perkawinan", ":", "KAWIN"),
    line("Pekerjaan", ":", "KARYAWAN", "SWASTA"),
    line("Kewarganegaraan", ":", "WNI"),
    line("Berlaku", "Hingga", ":", "SEUMUR", "HIDUP"),
]


def test_every_labelled_row_is_read_as_the_card_writes_it() -> None:
    fields = ktp.parse_fields(CARD)
    values = {k: v.value for k, v in fields.items()}
    assert values == {
        "name": "SITI AMINAH",
        "birth_place": "JAMBI",
        "birth_date": "1985-08-17",
        "sex": "PEREMPUAN",
        "blood_type": "O",
        "address": "JL. SULTAN THAHA NO. 12",
        "rt_rw": "005/002",
        "kelurahan": "PASAR JAMBI",
        "kecamatan": "PASAR JAMBI",
        "religion": "ISLAM",
        "marital_status": "KAWIN",
        "occupation": "KARYAWAN SWASTA",
        "nationality": "WNI",
        "valid_until": "SEUMUR HIDUP",
    }


def test_values_that_had_to_be_mended_are_marked_for_checking() -> None:
    fields = ktp.parse_fields(CARD)
    assert fields["religion"].low and fields["religion"].note == "snapped"  # ISLAN
    assert fields["rt_rw"].low  # the slash was put back
    assert not fields["name"].low and not fields["kecamatan"].low


def test_low_confidence_words_make_a_low_field() -> None:
    fields = ktp.parse_fields([line("Nama", ":", "BUDI", confidence=0.5)])
    assert fields["name"] == Field("BUDI", 0.5)
    assert fields["name"].low


def test_lines_that_are_no_row_of_the_card_are_ignored() -> None:
    assert ktp.parse_fields([line("PROVINSI", "JAMBI"), line("~", "|"), ()]) == {}


def test_a_date_that_is_no_date_is_not_made_one() -> None:
    fields = ktp.parse_fields([line("Tempat/Tgl", "Lahir", ":", "JAMBI,", "31-02-1985")])
    assert fields["birth_date"].note == "date_format" and fields["birth_date"].low
    assert fields["birth_place"].value == "JAMBI"


def printed(birth: str, sex: str) -> dict[str, Field]:
    return {"birth_date": Field(birth, 0.95), "sex": Field(sex, 0.95)}


def test_the_nik_agrees_with_the_print() -> None:
    check = ktp.cross_check(NIK, printed("1985-08-17", "PEREMPUAN"), TODAY)
    assert check.valid and check.trusted
    assert check.encoded_birth_date == date(1985, 8, 17) and check.encoded_female


def test_a_nik_for_another_birth_date_or_sex_is_not_trusted() -> None:
    other_day = ktp.cross_check(NIK, printed("1985-08-18", "PEREMPUAN"), TODAY)
    assert other_day.valid and other_day.birth_date_agrees is False and not other_day.trusted
    other_sex = ktp.cross_check(NIK, printed("1985-08-17", "LAKI-LAKI"), TODAY)
    assert other_sex.sex_agrees is False and not other_sex.trusted
    unread = ktp.cross_check(NIK, {}, TODAY)
    assert unread.birth_date_agrees is None and not unread.trusted


def test_a_nik_that_fails_its_check_carries_the_reason() -> None:
    check = ktp.cross_check("1571019908850001", printed("1985-08-17", "PEREMPUAN"), TODAY)
    assert not check.valid and check.fault == "birth_date"
    assert check.message_en == "The birth date in the NIK (digits 7-12) is not a valid date."


# ICAO Doc 9303 Part 4's specimen passport; its check digits are the standard's own.
SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)


def test_check_digits_of_the_icao_specimen() -> None:
    assert mrz.check_digit("L898902C3") == "6"
    assert mrz.check_digit("740812") == "2"
    assert mrz.check_digit("120415") == "9"
    assert mrz.check_digit("<<<<<<<<<<<<<<") == "0"


def test_the_specimen_zone_is_read_and_every_check_holds() -> None:
    found = mrz.find_lines(["SOME PRINT", SPECIMEN[0], SPECIMEN[1]])
    assert found == SPECIMEN
    parsed = mrz.parse_td3(*SPECIMEN, 0.9, TODAY)
    assert parsed.valid
    values = {k: v.value for k, v in parsed.fields.items()}
    assert values["doc_number"] == "L898902C3"
    assert values["birth_date"] == "1974-08-12"
    assert values["sex"] == "PEREMPUAN"
    assert values["name"] == "ANNA MARIA ERIKSSON"
    assert parsed.fields["name"].low  # no check digit covers the names


def test_a_misread_digit_fails_its_check_and_is_marked() -> None:
    second = SPECIMEN[1].replace("7408122", "7408182")
    parsed = mrz.parse_td3(SPECIMEN[0], second, 0.9, TODAY)
    assert not parsed.checks["birth_date"] and not parsed.valid
    assert parsed.fields["birth_date"].low


def test_letters_and_digits_go_where_the_layout_puts_them() -> None:
    second = SPECIMEN[1].replace("UTO74O8122", "UT074O8122")
    parsed = mrz.parse_td3(SPECIMEN[0], second, 0.9, TODAY)
    assert parsed.fields["nationality"].value == "UTO"
    assert parsed.fields["birth_date"].value == "1974-08-12" and parsed.checks["birth_date"]
