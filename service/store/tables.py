"""The tables, declared once. Each entity table mirrors an entity of
:mod:`service.domain.model` column for column (plus the sealed columns listed in
:data:`STORE_ONLY`), so the store writes the rows ``apply`` returns generically;
the rest (staff, sessions, tokens, data keys, journal, sealed files, amended rows)
belong to the store alone. ``tests/integration/test_schema.py`` checks the model,
these tables and the Alembic migrations against each other.

Times are stored in UTC (:class:`UTCDateTime`) and shown in the site's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every engine."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012
        datetime: UTCDateTime,
        date: Date,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class VisitorRow(Base):
    __tablename__ = "visitors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200))
    doc_type: Mapped[str] = mapped_column(String(20))
    doc_masked: Mapped[str] = mapped_column(String(40))
    npwp_masked: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]
    # Personal numbers: ciphertext under the visitor's own key, and keyed lookup hashes.
    doc_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    doc_enc: Mapped[str | None] = mapped_column(Text)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    npwp_enc: Mapped[str | None] = mapped_column(Text)
    npwp_hash: Mapped[str | None] = mapped_column(String(64), index=True)


class DataKeyRow(Base):
    """A data subject's key (``visitor:12``, ``help:5``), wrapped by the site key.

    Erasing it at the end of retention shreds every copy sealed under it.
    """

    __tablename__ = "data_keys"
    subject: Mapped[str] = mapped_column(String(40), primary_key=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    shredded_at: Mapped[datetime | None]


class VisitRow(Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(index=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    tender_code: Mapped[str] = mapped_column(String(100), default="")
    devices: Mapped[list[Any]]
    state: Mapped[str] = mapped_column(String(20), index=True)
    wanted_kind: Mapped[str | None] = mapped_column(String(40))
    facility_id: Mapped[int | None]
    badge_id: Mapped[int | None]
    ticket_id: Mapped[int | None]
    inside: Mapped[bool] = mapped_column(Boolean)
    entered_at: Mapped[datetime | None]
    exited_at: Mapped[datetime | None]
    form_started_at: Mapped[datetime]
    registered_at: Mapped[datetime]
    badge_issued_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)
    forced: Mapped[bool] = mapped_column(Boolean)
    back_entered: Mapped[bool] = mapped_column(Boolean)
    officer: Mapped[str] = mapped_column(String(100))
    rules_ack: Mapped[bool] = mapped_column(Boolean)
    privacy_ack: Mapped[bool] = mapped_column(Boolean)
    devices_checked: Mapped[bool | None] = mapped_column(Boolean)


class DepositRow(Base):
    __tablename__ = "deposits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(20))
    doc_masked: Mapped[str] = mapped_column(String(40))
    slot: Mapped[str] = mapped_column(String(20))
    taken_at: Mapped[datetime]
    taken_by: Mapped[str] = mapped_column(String(100))
    returned_at: Mapped[datetime | None]
    returned_to: Mapped[str | None] = mapped_column(String(200))
    returned_by: Mapped[str | None] = mapped_column(String(100))


class BadgeRow(Base):
    __tablename__ = "badges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uid: Mapped[str] = mapped_column(String(20), unique=True)
    label: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(20))
    visit_id: Mapped[int | None]
    enrolled_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)


class FacilityRow(Base):
    __tablename__ = "facilities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    reader: Mapped[str | None] = mapped_column(String(100))
    visit_id: Mapped[int | None]
    reserved_ticket_id: Mapped[int | None]
    available_from: Mapped[datetime | None]
    out_of_service: Mapped[bool] = mapped_column(Boolean)
    service_by: Mapped[str | None] = mapped_column(String(100))
    service_at: Mapped[datetime | None]
    service_note: Mapped[str | None] = mapped_column(Text)


class UsageRow(Base):
    __tablename__ = "usages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    started_by: Mapped[str] = mapped_column(String(40))
    ended_by: Mapped[str | None] = mapped_column(String(40))


class TicketRow(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(20))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    state: Mapped[str] = mapped_column(String(20))
    priority: Mapped[bool] = mapped_column(Boolean)
    priority_reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime]
    called_at: Mapped[datetime | None]
    hold_until: Mapped[datetime | None]
    served_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    facility_id: Mapped[int | None]


class HelpRow(Base):
    __tablename__ = "help_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    facility_id: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(40))
    problem: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    opened_at: Mapped[datetime] = mapped_column(index=True)
    opened_by: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)


class DayRow(Base):
    __tablename__ = "days"
    id: Mapped[date] = mapped_column(Date, primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    signed_at: Mapped[datetime | None]
    signed_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class JustificationRow(Base):
    __tablename__ = "justifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(index=True)
    step: Mapped[str] = mapped_column(String(4))
    subject: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]


class AccessEventRow(Base):
    __tablename__ = "access_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)
    reader: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    uid: Mapped[str] = mapped_column(String(20))
    badge_id: Mapped[int | None]
    visit_id: Mapped[int | None] = mapped_column(index=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    anomaly: Mapped[str | None] = mapped_column(String(40))
    reported_at: Mapped[datetime | None]


class ArmedIssueRow(Base):
    """The front desk's pending badge issue, per front-desk reader."""

    __tablename__ = "armed_issues"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    visit_id: Mapped[int]
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(100))
    asked_visit_id: Mapped[int | None]
    asked_at: Mapped[datetime | None]


class EnrolArmedRow(Base):
    """The front desk's pending badge enrolment, per front-desk reader."""

    __tablename__ = "enrol_armed"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    label: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(100))


class AmendmentRow(Base):
    """What happened after a day was signed, dated when it happened; the Head signs it."""

    __tablename__ = "amendments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    rows: Mapped[list[Any]]
    signed_at: Mapped[datetime | None]
    signed_by: Mapped[str | None] = mapped_column(String(100))


class AmendedRowRow(Base):
    """A later version of a signed day's row, kept beside the row (which never changes)."""

    __tablename__ = "amended_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(String(40))
    visitor_id: Mapped[int | None] = mapped_column(index=True)
    row: Mapped[dict[str, Any]]


class AlarmRow(Base):
    """A door or reader alarm until staff acknowledge it (who, when, note)."""

    __tablename__ = "alarms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reader: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(index=True)
    repeats: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None] = mapped_column(index=True)
    acked_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class JournalRow(Base):
    """Append-only, hash-chained: each row's hash covers the previous row's hash."""

    __tablename__ = "journal"
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(index=True)
    recorded_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class StaffRow(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class SessionRow(Base):
    """A staff login: ends at ``expires_at`` (absolute) or after the idle timeout since
    ``last_seen_at`` (written at most once a minute), or when deleted (logout, password
    change, account disabled, role changed)."""

    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class ApiTokenRow(Base):
    """Bearer tokens for API clients and devices (remote agents).

    ``readers``: the reader names the token may tap and send heartbeats for (a device
    token always has them; ``None`` on a staff token means any reader).
    """

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    readers: Mapped[list[Any] | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    last_used_at: Mapped[datetime | None]  # written at most once a minute


class LoginThrottleRow(Base):
    """Failed logins in a row per subject: ``account:<username>``, ``address:<ip>`` or
    ``device:<id>`` (a browser that logged in before). Shared by every daemon on the
    database; a lock stays until an admin lifts it (see service/throttle.py)."""

    __tablename__ = "login_throttle"
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime]
    locked_at: Mapped[datetime | None]


class SealedFileRow(Base):
    """A book generated at sign-off, with its SHA-256 and the journal head it covers."""

    __tablename__ = "sealed_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    journal_seq: Mapped[int]
    journal_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class NoticeRow(Base):
    """Something an admin must see and acknowledge (a database file moved aside).

    Not room state: it is not journaled, and it survives in the new database file
    because it is written there (see service/notices.py).
    """

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]]
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(100))


class MusterRow(Base):
    """An evacuation roll call (muster): started, ended, who was inside at its start."""

    __tablename__ = "musters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(index=True)
    started_by: Mapped[str] = mapped_column(String(100))
    present: Mapped[list[Any]]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(100))


class MusterMarkRow(Base):
    """A person marked safe during a muster, by whom and when."""

    __tablename__ = "muster_marks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    muster_id: Mapped[int] = mapped_column(ForeignKey("musters.id"), index=True)
    visit_id: Mapped[int]
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(100))


Index("ix_tickets_kind_state", TicketRow.kind, TicketRow.state)


def table_of(cls: type[Base]) -> Table:
    return cast(Table, cls.__table__)


ENTITY_TABLES: dict[str, Table] = {
    "visitor": table_of(VisitorRow),
    "visit": table_of(VisitRow),
    "deposit": table_of(DepositRow),
    "badge": table_of(BadgeRow),
    "facility": table_of(FacilityRow),
    "usage": table_of(UsageRow),
    "ticket": table_of(TicketRow),
    "help": table_of(HelpRow),
    "day": table_of(DayRow),
    "justification": table_of(JustificationRow),
    "access_event": table_of(AccessEventRow),
    "armed": table_of(ArmedIssueRow),
    "amendment": table_of(AmendmentRow),
    "alarm": table_of(AlarmRow),
    "enrol": table_of(EnrolArmedRow),
    "muster": table_of(MusterRow),
    "muster_mark": table_of(MusterMarkRow),
}
# Columns of entity tables that are not entity fields: sealed personal numbers.
STORE_ONLY: dict[str, frozenset[str]] = {
    "visitor": frozenset({"doc_hash", "doc_enc", "phone_enc", "npwp_enc", "npwp_hash"}),
}
# Insert order that respects the foreign keys.
INSERT_ORDER = (
    "visitor",
    "badge",
    "facility",
    "visit",
    "deposit",
    "ticket",
    "usage",
    "help",
    "day",
    "justification",
    "access_event",
    "armed",
    "amendment",
    "alarm",
    "enrol",
    "muster",
    "muster_mark",
)


class IdempotencyKeyRow(Base):
    """A request sent with an ``Idempotency-Key`` header and the answer it got, so a
    retry with the same key and body gets that answer again instead of running twice
    (see service/idempotency.py). Keyed by who sent it and the key; ``status`` is None
    while the first request is still being answered. Not room state: not journaled;
    rows older than the key lifetime (24 h) are purged."""

    __tablename__ = "idempotency_keys"
    principal: Mapped[str] = mapped_column(String(120), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(100))
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(index=True)
    completed_at: Mapped[datetime | None]
