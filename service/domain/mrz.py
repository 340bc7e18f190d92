"""A passport's machine-readable zone (ICAO 9303, TD3: two lines of 44 characters).

Pure rules: the two lines as OCR read them, the fields they hold, and the check
digits that say whether they were read right (document number, birth date, expiry
and the composite over the second line). A field whose check digit fails is kept
but marked, never passed off as read.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date

from service.domain.ktp import Field

LENGTH = 44
CHECKED = 0.99  # a field whose check digit holds (a misread passes 1 time in 10 at worst)
_WEIGHTS = (7, 3, 1)
_LINE = re.compile(r"^[A-Z0-9<]{30,48}$")


def check_digit(text: str) -> str:
    """ICAO 9303's 7-3-1 check digit: digits as themselves, A=10 … Z=35, ``<`` = 0."""
    total = 0
    for index, char in enumerate(text):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - 55
        else:
            value = 0
        total += value * _WEIGHTS[index % 3]
    return str(total % 10)


@dataclass(frozen=True, slots=True)
class Mrz:
    fields: dict[str, Field]
    checks: dict[str, bool]  # document_number, birth_date, expiry, composite

    @property
    def valid(self) -> bool:
        return all(self.checks.values())


def _date(yymmdd: str, today: date, *, future: bool) -> date | None:
    if not yymmdd.isdigit():
        return None
    year, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    for century in (2000, 1900) if not future else (2000, 2100):
        try:
            found = date(century + year, month, day)
        except ValueError:
            return None
        if future or found <= today:
            return found
    return None


def _clean(line: str) -> str:
    text = re.sub(r"\s+", "", line.upper()).replace("«", "<")
    return text[:LENGTH].ljust(LENGTH, "<")


def find_lines(lines: list[str]) -> tuple[str, str] | None:
    """The two TD3 lines among what OCR read: the first starts with ``P``."""
    candidates = [re.sub(r"\s+", "", line.upper()) for line in lines]
    candidates = [c for c in candidates if _LINE.match(c) and "<" in c]
    for first, second in itertools.pairwise(candidates):
        if first.startswith("P"):
            return _clean(first), _clean(second)
    return None


_TO_DIGIT = str.maketrans("OQDIlZSB", "00011258")
_TO_LETTER = str.maketrans("01258", "OIZSB")


def _names(first: str) -> str:
    """Given names and surname; the filler ``<`` that OCR reads as a letter is dropped.

    The names carry no check digit, so what is read here is only ever a proposal.
    """
    surname, _, given = first[5:].translate(_TO_LETTER).partition("<<")
    given = given.split("<<", 1)[0]
    words = [w for w in f"{given}<{surname}".split("<") if len(w) > 1]
    return " ".join(words)


def parse_td3(first: str, second: str, confidence: float, today: date) -> Mrz:
    """The passport's fields, each with the OCR's confidence and its check digit's verdict.

    Digits and letters are put where the zone's layout says they are (``O`` in a date is
    ``0``, ``0`` in a country code is ``O``) before the check digits are computed.
    """
    number = second[0:10]
    second = (
        number
        + second[10:13].translate(_TO_LETTER)
        + second[13:20].translate(_TO_DIGIT)
        + second[20]
        + second[21:28].translate(_TO_DIGIT)
        + second[28:]
    )
    number, birth, expiry = second[0:9], second[13:19], second[21:27]
    checks = {
        "document_number": check_digit(number) == second[9],
        "birth_date": check_digit(birth) == second[19],
        "expiry": check_digit(expiry) == second[27],
        "composite": check_digit(second[0:10] + second[13:20] + second[21:43]) == second[43],
    }

    def field(value: str, check: str | None = None) -> Field:
        """A check digit that holds is the best evidence there is; one that fails is said."""
        if check is None:
            return Field(value, confidence)
        if checks[check]:
            return Field(value, max(confidence, CHECKED))
        return Field(value, min(confidence, 0.5), "unreadable")

    born = _date(birth, today, future=False)
    sex = {"M": "LAKI-LAKI", "F": "PEREMPUAN"}.get(second[20])
    fields = {
        "doc_number": field(number.replace("<", ""), "document_number"),
        "name": Field(_names(first), min(confidence, 0.5), "unchecked"),
        "nationality": field(second[10:13].replace("<", "")),
        "issuing_state": field(first[2:5].translate(_TO_LETTER).replace("<", "")),
        "birth_date": field(born.isoformat() if born else birth, "birth_date"),
        "expiry": field((_date(expiry, today, future=True) or date.min).isoformat(), "expiry"),
    }
    if sex is not None:
        fields["sex"] = field(sex, "composite")
    return Mrz(fields, checks)
