"""What a scan found, and its JSON: each field with its confidence, the NIK's check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.domain import ktp
from service.domain.identity import mask_number
from service.domain.ktp import Field, NikCheck
from service.i18n import Text, _, as_msg, render


@dataclass(frozen=True, slots=True)
class Reading:
    document: str  # "ktp" or "passport"
    fields: dict[str, Field]
    nik: NikCheck | None
    card_found: bool
    seconds: float = 0.0
    checks: dict[str, bool] | None = None  # a passport's check digits, by what they cover


def _field_json(found: Field) -> dict[str, Any]:
    note = ktp.NOTES.get(found.note or "")
    return {
        "value": found.value,
        "confidence": round(found.confidence, 2),
        "low": found.low,
        "note": render(note) if note else None,
        "note_en": render(note, "en") if note else None,
    }


def as_json(reading: Reading) -> dict[str, Any]:
    """The answer of ``POST /api/v1/identity/scan``."""
    fields = {key: _field_json(found) for key, found in sorted(reading.fields.items())}
    check = reading.nik
    nik_json: dict[str, Any] | None = None
    if check is not None:
        nik_json = {
            "valid": check.valid,
            "trusted": check.trusted,
            "masked": mask_number(check.number),
            "fault": check.fault,
            "message": check.message_id,
            "message_en": check.message_en,
            "birth_date_agrees": check.birth_date_agrees,
            "sex_agrees": check.sex_agrees,
            "encoded_birth_date": check.encoded_birth_date.isoformat()
            if check.encoded_birth_date
            else None,
            "encoded_sex": None
            if check.encoded_female is None
            else ("PEREMPUAN" if check.encoded_female else "LAKI-LAKI"),
        }
        nik_json.update(_disagreement(check))
    mrz_json = None
    if reading.checks is not None:
        mrz_json = {"valid": all(reading.checks.values()), "checks": reading.checks}
    return {
        "document": reading.document,
        "doc_type": "ktp" if reading.document == "ktp" else "passport",
        "fields": fields,
        "nik_check": nik_json,
        "mrz_check": mrz_json,
        "card_found": reading.card_found,
        "seconds": round(reading.seconds, 2),
    }


def _summary(text: Text | None) -> dict[str, str | None]:
    if text is None:
        return {"summary": None, "summary_en": None}
    return {"summary": render(text), "summary_en": render(text, "en")}


def _disagreement(check: NikCheck) -> dict[str, str | None]:
    """The one sentence the clerk reads about the NIK, in both languages."""
    if not check.valid:
        fault = as_msg((check.message_id or "", check.message_en or ""))
        return _summary(_("NIK hasil pindaian tidak valid: {fault}").with_params(fault=fault))
    if check.birth_date_agrees is False:
        return _summary(_("Tanggal lahir dalam NIK berbeda dengan yang tercetak; periksa kartu."))
    if check.sex_agrees is False:
        return _summary(_("Jenis kelamin dalam NIK berbeda dengan yang tercetak; periksa kartu."))
    if check.birth_date_agrees is None:
        return _summary(_("Tanggal lahir tercetak tidak terbaca; cocokkan NIK dengan kartu."))
    return _summary(None)
