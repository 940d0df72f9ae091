"""The audit trail: append-only, hash-chained records shaped like a FHIR AuditEvent.

Each record's hash is SHA-256 over the previous record's hash and a canonical JSON of the
record (sorted keys, no whitespace).  The first record links to ``GENESIS``.  ``verify_chain``
walks the log in order and reports the first record whose link or hash does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from crswatch.store._models import AuditRecord

if TYPE_CHECKING:  # _db imports the models, not this module; the type is enough here
    from crswatch.store._db import Store
from crswatch.timeline import format_time

__all__ = [
    "GENESIS",
    "ChainCheck",
    "append_audit",
    "lock_chain",
    "record_audit",
    "record_hash",
    "to_fhir",
    "verify_chain",
]

GENESIS = "0" * 64
Action = Literal["read", "create", "update", "delete", "execute"]
Outcome = Literal["success", "failure"]
_LOCK_KEY = 0x637273  # PostgreSQL advisory lock for appending to the chain

_HASHED = ("recorded", "actor", "role", "action", "resource", "patient_id", "outcome", "detail")


def _canonical(record: AuditRecord) -> str:
    fields = {name: getattr(record, name) for name in _HASHED}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(record: AuditRecord, prev_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{_canonical(record)}".encode()).hexdigest()


def append_audit(
    session: Session,
    *,
    actor: str,
    role: str,
    action: Action,
    resource: str,
    patient_id: str | None,
    outcome: Outcome,
    detail: str = "",
) -> AuditRecord:
    """Append one record in the session's transaction (the caller commits); with a
    checkpoint policy in the session (``Store(audit_checkpoints=...)``), also the keyed
    checkpoint this record makes due, in the same transaction."""
    lock_chain(session)
    last = session.execute(
        select(AuditRecord.hash).order_by(AuditRecord.pk.desc()).limit(1)
    ).scalar_one_or_none()
    record = AuditRecord(
        recorded=format_time(datetime.now(UTC)),
        actor=actor,
        role=role,
        action=action,
        resource=resource,
        patient_id=patient_id,
        outcome=outcome,
        detail=detail,
        prev_hash=last or GENESIS,
    )
    record.hash = record_hash(record, record.prev_hash)
    session.add(record)
    session.flush()
    # Imported here: the checkpoint module builds on this one.
    from crswatch.store._checkpoint import maybe_checkpoint

    maybe_checkpoint(session, record.pk)
    return record


def lock_chain(session: Session) -> None:
    """Serialise appends to the chain and its checkpoints for the rest of the transaction
    (PostgreSQL: an advisory lock, re-entrant; SQLite: BEGIN IMMEDIATE already holds it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def record_audit(
    store: Store,
    *,
    actor: str,
    role: str,
    action: Action,
    resource: str,
    patient_id: str | None,
    outcome: Outcome,
    detail: str = "",
) -> None:
    """Append one record in its own transaction (the API and the dashboard audit this way)."""
    with store.transaction() as session:
        append_audit(
            session,
            actor=actor,
            role=role,
            action=action,
            resource=resource,
            patient_id=patient_id,
            outcome=outcome,
            detail=detail,
        )


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The result of walking the chain: ``broken_at`` is the first bad record's id, or None."""

    records: int
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(records: Iterable[AuditRecord]) -> ChainCheck:
    """Walk records in id order; report the first whose link or content hash is wrong."""
    previous = GENESIS
    count = 0
    for record in records:
        count += 1
        if record.prev_hash != previous:
            return ChainCheck(count, record.pk, "previous-hash link does not match (removed?)")
        if record_hash(record, previous) != record.hash:
            return ChainCheck(count, record.pk, "content does not match its hash (altered)")
        previous = record.hash
    return ChainCheck(count)


_ACTION_CODES = {"read": "R", "create": "C", "update": "U", "delete": "D", "execute": "E"}


def to_fhir(record: AuditRecord) -> dict[str, Any]:
    """The record as a FHIR R4 AuditEvent resource (JSON)."""
    entity: list[dict[str, Any]] = []
    if record.patient_id is not None:
        entity.append(
            {
                "what": {"reference": f"Patient/{record.patient_id}"},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "1",
                    "display": "Person",
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient",
                },
                "description": record.resource,
            }
        )
    else:
        entity.append({"description": record.resource})
    return {
        "resourceType": "AuditEvent",
        "id": str(record.pk),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": record.action}],
        "action": _ACTION_CODES.get(record.action, "E"),
        "recorded": record.recorded,
        "outcome": "0" if record.outcome == "success" else "4",
        "outcomeDesc": record.detail,
        "agent": [
            {
                "who": {"display": record.actor},
                "role": [{"text": record.role}],
                "requestor": True,
            }
        ],
        "source": {"observer": {"display": "crswatch"}},
        "entity": entity,
        "extension": [
            {"url": "urn:crswatch:audit:prev-hash", "valueString": record.prev_hash},
            {"url": "urn:crswatch:audit:hash", "valueString": record.hash},
        ],
    }
