"""Queries, bodies and replies of the books, the sealed archive and the personal-data
requests (:mod:`service.api.handlers.reports`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from msgspec import Meta

from service.api import contract
from service.domain.identity import DocumentType

Format = Literal["pdf", "xlsx", "csv"]
FILE_MEDIA = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/csv",
)
SEALED_MEDIA = (*FILE_MEDIA, "application/octet-stream")
MONTH_PARAM: dict[str, Any] = {
    "type": "string",
    "pattern": r"^20[0-9]{2}-(0[1-9]|1[0-2])$",
    "format": "year-month",
    "description": "YYYY-MM, from 2000-01 to one year after today",
}
FILE_NAME_PARAM: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": contract.LINE,
}


class ReportQuery(contract.Query):
    format: Format = "pdf"


class BooksQuery(ReportQuery):
    book: Literal["all", "access", "usage"] = "all"


class VerifyQuery(contract.Query):
    day: contract.Day | None = None  # default: everything


class Fault(contract.Reply):
    place: str
    problem: str


class VerifyOut(contract.Reply):
    ok: bool
    faults: list[Fault]


class SealedFileOut(contract.Reply):
    name: str
    sha256: str
    size: int
    url: str


class PurgeIn(contract.Body):
    """``dry_run`` must be said: ``false`` erases, ``true`` only shows what would go."""

    dry_run: bool


class PurgeOut(contract.Reply):
    cutoff: date
    visitor_ids: list[int]
    visits: int
    dry_run: bool
    help_ids: list[int]
    fields: list[str]


class ExportIn(contract.Body):
    nik: Annotated[str, Meta(min_length=1, max_length=40, pattern=contract.LINE)]
    doc_type: DocumentType = DocumentType.KTP


class ExportOut(contract.Reply):
    document_type: str
    exported_at: contract.Stamp
    exported_by: str
    # Every row held about the person, table by table, as stored (columns vary by table).
    visitors: list[dict[str, Any]]
