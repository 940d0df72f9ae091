"""SQLAlchemy 2 models: patients, events, users, API tokens and the audit log.

Times are stored in UTC (``UTCDateTime``); a value read back is always timezone-aware UTC,
whatever the database does with time zones (SQLite keeps none, PostgreSQL converts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditRecord",
    "Base",
    "CdsFeedback",
    "DashboardSession",
    "EventRow",
    "PatientRow",
    "StoreVersion",
    "UTCDateTime",
    "User",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class PatientRow(Base):
    __tablename__ = "patients"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    #: The patient object of crswatch.timeline/1 (``Patient.to_dict()``).
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    events: Mapped[list[EventRow]] = relationship(back_populates="patient")


class EventRow(Base):
    """One canonical event, as the readers produce it (value split by type)."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("patient_pk", "item", "time", name="uq_events_item_time"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_pk: Mapped[int] = mapped_column(ForeignKey("patients.pk"), index=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime())
    item: Mapped[str] = mapped_column(String(100))
    #: Which value column holds the value: num, code, bool or json.
    value_type: Mapped[str] = mapped_column(String(8))
    value_num: Mapped[float | None] = mapped_column(Double())
    value_code: Mapped[str | None] = mapped_column(Text())
    value_bool: Mapped[bool | None] = mapped_column(Boolean())
    value_json: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    unit: Mapped[str | None] = mapped_column(String(100))
    end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ref_low: Mapped[float | None] = mapped_column(Double())
    ref_high: Mapped[float | None] = mapped_column(Double())
    censored: Mapped[str | None] = mapped_column(String(20))
    cause: Mapped[str | None] = mapped_column(String(20))
    event_id: Mapped[str | None] = mapped_column(Text())
    source: Mapped[str | None] = mapped_column(Text())
    #: The value and unit as sent, when a conversion changed them ({"value": ...} or null).
    original_value: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    original_unit: Mapped[str | None] = mapped_column(String(100))
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())

    patient: Mapped[PatientRow] = relationship(back_populates="events")


class User(Base):
    __tablename__ = "users"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(Text())
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean(), default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the user last set their own password; None: still the one chosen at creation (by
    #: an administrator, or a demo's well-known one), which bars serving beyond loopback.
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class DashboardSession(Base):
    """A dashboard login, kept server-side so that logout and password changes end it.

    Only the SHA-256 of the session secret is stored (the cookie carries the secret).
    """

    __tablename__ = "dashboard_sessions"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.pk"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A bearer token; only the SHA-256 of the secret is kept."""

    __tablename__ = "api_tokens"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.pk"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")


class AuditRecord(Base):
    """One append-only, hash-chained audit record (see ``crswatch.store._audit``)."""

    __tablename__ = "audit_log"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recorded: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(10))
    resource: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[str | None] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str] = mapped_column(Text())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(Base):
    """A keyed checkpoint of the audit chain (see ``crswatch.store._checkpoint``): how many
    records the chain had, up to which record and with which hash, under an HMAC whose key is
    kept outside the database."""

    __tablename__ = "audit_checkpoints"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    written: Mapped[str] = mapped_column(String(40))
    records: Mapped[int] = mapped_column(Integer)
    last_pk: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64), unique=True)


class CdsFeedback(Base):
    """One CDS Hooks feedback item: what the clinician did with a card (accepted, overridden)."""

    __tablename__ = "cds_feedback"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received: Mapped[datetime] = mapped_column(UTCDateTime())
    service_id: Mapped[str] = mapped_column(String(100), index=True)
    #: The JWT issuer (the EHR) that sent it, and its tenant when given.
    client: Mapped[str] = mapped_column(Text())
    tenant: Mapped[str | None] = mapped_column(Text())
    card_uuid: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    outcome_timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    #: ``acceptedSuggestions`` ([{"id": ...}]) and ``overrideReason`` as sent.
    accepted_suggestions: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    override_reason: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))


class StoreVersion(Base):
    """One row: a counter bumped in the transaction of every write of patient data.

    What a page or an API read shows of the stored patients changes only when this number does:
    the dashboard's ward refresh and the API's patient reads answer "not modified" from it
    without computing anything (``crswatch.store._version``; docs/decisions/0057).
    """

    __tablename__ = "store_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
