"""Bodies of the identity routes: the NIK check, returning visitors, the admin reveal,
document types, scanners and the card scan."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta

from service.api import contract
from service.api.shapes.visits import DocNumber
from service.domain.identity import DocumentType


class NikCheckIn(contract.Body):
    nik: Annotated[
        str,
        Meta(
            max_length=100,
            pattern=contract.ANY_LINE,
            description="The NIK as typed so far (spaces, dots and dashes are ignored)",
        ),
    ]


class NikCheckOut(contract.Reply, omit_defaults=True):
    """Valid: masked, region_code, birth_date. Not valid: fault and the message."""

    valid: bool
    fault: str | None = None
    message: str | None = None
    message_en: str | None = None
    masked: str | None = None
    region_code: str | None = None
    birth_date: date | None = None


class LookupIn(contract.Body):
    doc_type: DocumentType
    doc_number: DocNumber


class LookupOut(contract.Reply, omit_defaults=True):
    """Found: who (to prefill the form); else only ``found: false``."""

    found: bool
    visitor_id: int | None = None
    name: str | None = None
    company: str | None = None
    npwp: str | None = None
    phone: str | None = None


class RevealOut(contract.Reply):
    visit_id: int
    doc_number: str | None
    erased: bool


class DocumentTypeOut(contract.Reply):
    value: DocumentType
    label: str
    label_en: str


# -- card scans --------------------------------------------------------------------------
class Availability(contract.Reply):
    available: bool
    reason: str | None
    reason_id: str | None
    reason_en: str | None


class ScannerOut(contract.Reply):
    name: str
    vendor: str
    model: str
    kind: str


class ScannersOut(contract.Reply):
    ocr: Availability
    sane: Availability
    scanners: list[ScannerOut]


class ScanQuery(contract.Query):
    scanner: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=200,
                pattern=contract.LINE,
                description="A SANE device (GET /api/v1/scanners) to scan from instead of "
                "sending an image",
            ),
        ]
        | None
    ) = None


class FieldOut(contract.Reply):
    value: str
    confidence: float
    low: bool
    note: str | None
    note_en: str | None


class NikScanOut(contract.Reply):
    valid: bool
    trusted: bool
    masked: str
    fault: str | None
    message: str | None
    message_en: str | None
    birth_date_agrees: bool | None
    sex_agrees: bool | None
    encoded_birth_date: date | None
    encoded_sex: Literal["PEREMPUAN", "LAKI-LAKI"] | None
    summary: str | None
    summary_en: str | None


class MrzOut(contract.Reply):
    valid: bool
    checks: dict[str, bool]


class ScanOut(contract.Reply):
    """What was read: each field with its confidence, the NIK's or the MRZ's check."""

    document: str
    doc_type: Literal["ktp", "passport"]
    fields: dict[str, FieldOut]
    nik_check: NikScanOut | None
    mrz_check: MrzOut | None
    card_found: bool
    seconds: float
