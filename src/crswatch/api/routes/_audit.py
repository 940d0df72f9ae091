"""The audit trail (admin): FHIR AuditEvent records, and a check of the chain and of its keyed
checkpoints (docs/decisions/0062-audit-checkpoints.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from crswatch.api._deps import Admin, StoreDep
from crswatch.store import AuditRecord, audit_check, to_fhir
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


@router.get("/audit/verify", summary="Walk the hash chain and check its keyed checkpoints (admin)")
def audit_verify(store: StoreDep, _admin: Admin) -> dict[str, Any]:
    policy = store.audit_checkpoints
    key = policy.key if policy is not None else None
    with store.transaction() as session:
        check = audit_check(
            session,
            key,
            "this service writes no checkpoints (no key)",
            policy.log if policy is not None else None,
        )
    chain, anchor = check.chain, check.anchor
    return {
        "ok": check.ok,
        "records": chain.records,
        "broken_at": chain.broken_at,
        "reason": chain.reason,
        "checkpoints": {
            "count": anchor.checkpoints,
            "checked": anchor.checked,
            "failed_checkpoint": anchor.failed_checkpoint,
            "problem": anchor.problem,
            "unchecked": anchor.unchecked,
            "newest_written": anchor.newest_written,
            "records_after_newest": anchor.after_newest,
        },
    }
