"""The persistent store: SQLAlchemy 2 models, Alembic migrations, users, tokens and audit."""

from crswatch.store._audit import ChainCheck, append_audit, record_audit, to_fhir, verify_chain
from crswatch.store._cache import TimelineCache, app_timeline_cache
from crswatch.store._db import Store, database_url, make_engine, migrate
from crswatch.store._frames import load_frames
from crswatch.store._models import ApiToken, AuditRecord, CdsFeedback, EventRow, PatientRow, User
from crswatch.store._patients import (
    IngestSummary,
    StoreConflict,
    count_events,
    get_patient_row,
    ingest_timelines,
    list_patients,
    load_timeline,
    patient_from_record,
)
from crswatch.store._users import (
    ROLES,
    IssuedToken,
    Principal,
    UserError,
    authenticate,
    create_user,
    find_user,
    issue_token,
    resolve_token,
    revoke_token,
)

__all__ = [
    "ROLES",
    "ApiToken",
    "AuditRecord",
    "CdsFeedback",
    "ChainCheck",
    "EventRow",
    "IngestSummary",
    "IssuedToken",
    "PatientRow",
    "Principal",
    "Store",
    "StoreConflict",
    "TimelineCache",
    "User",
    "UserError",
    "app_timeline_cache",
    "append_audit",
    "authenticate",
    "count_events",
    "create_user",
    "database_url",
    "find_user",
    "get_patient_row",
    "ingest_timelines",
    "issue_token",
    "list_patients",
    "load_frames",
    "load_timeline",
    "make_engine",
    "migrate",
    "patient_from_record",
    "record_audit",
    "resolve_token",
    "revoke_token",
    "to_fhir",
    "verify_chain",
]
