"""The audit trail (admin): FHIR AuditEvent records and a chain check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from crswatch.api._deps import Admin, StoreDep
from crswatch.store import AuditRecord, to_fhir, verify_chain
from crswatch.timeline import MAX_PATIENT_ID_LENGTH, PATIENT_ID_PATTERN

router = APIRouter(tags=["audit"])
_PATIENT_ID = f"^{PATIENT_ID_PATTERN.pattern}$"


@router.get("/audit", summary="Audit records as a FHIR Bundle of AuditEvents (admin)")
def audit_log(
    store: StoreDep,
    _admin: Admin,
    patient_id: Annotated[
        str | None, Query(max_length=MAX_PATIENT_ID_LENGTH, pattern=_PATIENT_ID)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, Any]:
    query = select(AuditRecord).order_by(AuditRecord.pk)
    if patient_id is not None:
        query = query.where(AuditRecord.patient_id == patient_id)
    with store.transaction() as session:
        records = session.execute(query.limit(limit).offset(offset)).scalars()
        entries = [{"resource": to_fhir(record)} for record in records]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


@router.get("/audit/verify", summary="Walk the hash chain (admin)")
def audit_verify(store: StoreDep, _admin: Admin) -> dict[str, Any]:
    with store.transaction() as session:
        check = verify_chain(
            session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars()
        )
    return {
        "ok": check.ok,
        "records": check.records,
        "broken_at": check.broken_at,
        "reason": check.reason,
    }
