"""Identity documents: what a KTP number (NIK), SIM or passport number must look like.

The NIK is personal data (UU 27/2022): it is validated here, and everywhere else
it is either ciphertext, a keyed hash, or the masked form :func:`mask_number`.
python-stdnum does the NIK checks (16 digits, a registered regency code, a birth
date with +40 on the day for women); this module turns each fault into a message
a clerk understands.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from stdnum import exceptions as stdnum_errors
from stdnum.id import nik as stdnum_nik
from stdnum.id import npwp as stdnum_npwp

from service.errors import ValidationError
from service.i18n import Text, _


class DocumentType(enum.StrEnum):
    KTP = "ktp"
    SIM = "sim"
    PASSPORT = "passport"


DOCUMENT_LABELS: dict[DocumentType, Text] = {
    DocumentType.KTP: _("KTP"),
    DocumentType.SIM: _("SIM"),
    DocumentType.PASSPORT: _("Paspor"),
}

_SIM_RE = re.compile(r"^\d{12,14}$")
_PASSPORT_RE = re.compile(r"^[A-Z]{1,2}\d{6,7}$")


class NikFault(enum.StrEnum):
    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    LENGTH = "length"
    REGION = "region"
    BIRTH_DATE = "birth_date"
    FUTURE_BIRTH = "future_birth"


NIK_MESSAGES: dict[NikFault, Text] = {
    NikFault.EMPTY: _("NIK wajib diisi."),
    NikFault.NOT_DIGITS: _("NIK hanya boleh berisi angka."),
    NikFault.LENGTH: _("NIK harus 16 digit."),
    NikFault.REGION: _("Kode wilayah NIK (4 digit pertama) tidak terdaftar."),
    NikFault.BIRTH_DATE: _("Tanggal lahir dalam NIK (digit 7-12) tidak valid."),
    NikFault.FUTURE_BIRTH: _("Tanggal lahir dalam NIK belum terjadi."),
}


class NikError(ValidationError):
    code = "invalid_nik"

    def __init__(self, fault: NikFault) -> None:
        super().__init__(NIK_MESSAGES[fault], field="doc_number")
        self.fault = fault


@dataclass(frozen=True, slots=True)
class NikInfo:
    number: str
    region_code: str
    birth_date: date
    female: bool


def _birth_date(number: str, today: date) -> date:
    """DDMMYY at digits 7-12, day + 40 for women; the century is the latest plausible one."""
    day_digits, month, year = int(number[6:8]), int(number[8:10]), int(number[10:12])
    day = day_digits - 40 if day_digits > 40 else day_digits
    if not 1 <= day <= 31 or day_digits > 71:
        raise NikError(NikFault.BIRTH_DATE)
    candidates = []
    for century in (2000, 1900):
        try:
            candidates.append(date(century + year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise NikError(NikFault.BIRTH_DATE)
    past = [c for c in candidates if c <= today]
    if not past:
        raise NikError(NikFault.FUTURE_BIRTH)
    return past[0]


def _registered_regency(number: str) -> bool:
    """python-stdnum's register knows provinces and their regencies/cities (PPRR)."""
    from stdnum import numdb

    info = numdb.get("id/loc").info(number[:4])
    return len(info) >= 2 and bool(info[0][1]) and bool(info[1][1])


def check_nik(raw: str, today: date) -> NikInfo:
    """Validate a NIK; raise :class:`NikError` naming the first fault found."""
    number = re.sub(r"[\s.\-]", "", raw or "")
    if not number:
        raise NikError(NikFault.EMPTY)
    if not number.isdigit():
        raise NikError(NikFault.NOT_DIGITS)
    if len(number) != 16:
        raise NikError(NikFault.LENGTH)
    birth = _birth_date(number, today)
    try:
        stdnum_nik.validate(number)
    except stdnum_errors.ValidationError as exc:
        raise NikError(NikFault.REGION) from exc
    if not _registered_regency(number):
        raise NikError(NikFault.REGION)
    return NikInfo(number, number[:4], birth, int(number[6:8]) > 40)


def check_document(doc_type: DocumentType, raw: str, today: date) -> str:
    """The canonical document number, or a :class:`ValidationError` for the clerk."""
    if doc_type is DocumentType.KTP:
        return check_nik(raw, today).number
    number = re.sub(r"[\s.\-]", "", raw or "").upper()
    if doc_type is DocumentType.SIM and not _SIM_RE.match(number):
        raise ValidationError(
            _("Nomor SIM harus 12 sampai 14 digit."),
            field="doc_number",
        )
    if doc_type is DocumentType.PASSPORT and not _PASSPORT_RE.match(number):
        raise ValidationError(
            _("Nomor paspor: 1-2 huruf diikuti 6-7 angka (mis. C1234567)."),
            field="doc_number",
        )
    return number


def check_npwp(raw: str, today: date) -> str:
    """An NPWP in its compact form: the 15-digit legacy number, or 16 digits.

    Since 2024 an individual's NPWP *is* their NIK (16 digits): such a number must
    be a valid NIK (region, birth date) and is personal data exactly like one. A
    16-digit NPWP of an organisation is the legacy number with a leading ``0``.
    """
    digits = re.sub(r"[\s.\-]", "", raw or "")
    if len(digits) == 16 and digits.isdigit() and not digits.startswith("0"):
        try:
            return check_nik(digits, today).number
        except NikError as exc:
            raise ValidationError(
                _("NPWP 16 digit adalah NIK: {nik}").with_params(nik=exc.text),
                field="npwp",
            ) from exc
    try:
        return str(stdnum_npwp.validate(digits))
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(
            _("NPWP tidak valid (15 digit, atau 16 digit: NIK atau 0 diikuti 15 digit)."),
            field="npwp",
        ) from exc


def mask_number(number: str) -> str:
    """Shown everywhere instead of the number: ``1571**********01``."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]


_PHONE_RE = re.compile(r"^(\+62|62|0)8\d{7,11}$")


def check_phone(raw: str) -> str:
    """An Indonesian mobile number, normalised to ``+628…``."""
    number = re.sub(r"[\s.\-()]", "", raw or "")
    if not _PHONE_RE.match(number):
        raise ValidationError(
            _("Nomor telepon seluler tidak valid (mis. 0812 3456 7890)."),
            field="phone",
        )
    digits = number.lstrip("+")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return "+" + digits
