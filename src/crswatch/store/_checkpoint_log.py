"""The checkpoint log: a copy of every checkpoint kept outside the database.

Checkpoints live in the database with the chain; someone who can write the database but not
the key cannot forge one, but could delete the newest checkpoints together with the records
they cover, leaving a shorter chain whose remaining checkpoints all agree.  So each checkpoint
the service (or ``crswatch audit checkpoint``) writes is also appended, once its transaction
has committed, to a log file beside the key (``audit-checkpoints.log``, or
``CRSWATCH_AUDIT_CHECKPOINT_LOG``; owner-only).  ``audit verify`` then requires every logged
checkpoint of this trail to be in the database with the same signature.

A line names its trail by the hash of the chain's first record (``root``), so the demo's
database and the site's, sharing one data directory, keep apart.  A line is written after the
commit: a crash in between loses that line (the log is a subset of the checkpoints, never a
superset), so a logged checkpoint missing from the database was removed from it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crswatch.store._models import AuditCheckpoint, AuditRecord

__all__ = [
    "LOG_FILE_NAME",
    "append_log",
    "checkpoint_log_path",
    "flush_pending",
    "log_entry",
    "logged_problem",
    "read_log",
]

LOG_FILE_NAME = "audit-checkpoints.log"
log = logging.getLogger("crswatch.store")


def checkpoint_log_path(key_path: Path, environ: Mapping[str, str] | None = None) -> Path:
    """``CRSWATCH_AUDIT_CHECKPOINT_LOG``, else ``audit-checkpoints.log`` beside the key file."""
    env = os.environ if environ is None else environ
    configured = env.get("CRSWATCH_AUDIT_CHECKPOINT_LOG")
    return Path(configured) if configured else key_path.parent / LOG_FILE_NAME


def log_entry(session: Session, checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """The log line of ``checkpoint`` (read in its transaction)."""
    root = session.execute(
        select(AuditRecord.hash).order_by(AuditRecord.pk).limit(1)
    ).scalar_one_or_none()
    return {
        "root": root,
        "checkpoint": checkpoint.pk,
        "written": checkpoint.written,
        "records": checkpoint.records,
        "last_pk": checkpoint.last_pk,
        "mac": checkpoint.mac,
    }


def append_log(path: Path, entries: Iterable[Mapping[str, Any]]) -> None:
    """Append lines, each in one ``write`` (O_APPEND: processes do not interleave them)."""
    lines = [json.dumps(dict(entry), sort_keys=True, separators=(",", ":")) for entry in entries]
    if not lines:
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        for line in lines:
            os.write(descriptor, (line + "\n").encode())
    finally:
        os.close(descriptor)


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every well-formed line (a line cut short by a crash is skipped); none without a file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("checkpoint"), int):
            entries.append(entry)
    return entries


def logged_problem(
    logged: Iterable[Mapping[str, Any]], root: str | None, macs: Mapping[int, str]
) -> tuple[int, str] | None:
    """The first logged checkpoint of trail ``root`` that the database (checkpoint id to MAC)
    lacks or holds with another signature, as (id, reason)."""
    if root is None:
        return None
    ours = sorted((e for e in logged if e.get("root") == root), key=lambda e: e["checkpoint"])
    for entry in ours:
        pk = entry["checkpoint"]
        where = f"checkpoint {pk} (written {entry.get('written')}, kept in the checkpoint log)"
        if pk not in macs:
            return pk, (
                f"{where} is missing from the database: checkpoints were removed, with the "
                f"records they covered ({entry.get('records')} records up to record "
                f"{entry.get('last_pk')})"
            )
        if macs[pk] != entry.get("mac"):
            return pk, f"{where} differs from the database's: checkpoints were replaced"
    return None


def flush_pending(path: Path, pending: list[dict[str, Any]]) -> None:
    """Append what the committed transaction queued; a log that cannot be written is reported
    in the service's log and does not fail the request (the checkpoint is in the database)."""
    try:
        append_log(path, pending)
    except OSError as exc:
        log.error("audit checkpoint log %s not written: %s", path, type(exc).__name__)
    finally:
        pending.clear()
