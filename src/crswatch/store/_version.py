"""The store's version: a counter bumped in the same transaction as every write of patient data.

Readers that show stored patients (the dashboard's ward, the API's patient reads) read it first
and answer "not modified" when it and everything else their answer depends on are unchanged,
without loading or grading anything (docs/decisions/0057-store-version.md).

Exact on both databases: the bump is an ``UPDATE`` of one row inside the writing transaction,
so it commits with the data or not at all, and concurrent writers are serialised on that row
(PostgreSQL row lock; SQLite takes the write lock at ``BEGIN IMMEDIATE``).  A reader that reads
version *v* and then loads the data sees data at least as new as *v*; if it is newer, the next
read sees a newer version and answers in full again, so a stale "not modified" is impossible.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crswatch.store._models import StoreVersion

__all__ = ["bump_store_version", "entity_tag", "etag_matches", "store_version"]

_ROW = 1
#: This server process: a restart (new code, new settings, a restored database) changes every
#: tag, so an answer kept by a client is never taken for one this process would give.
_PROCESS = secrets.token_hex(8)


def store_version(session: Session) -> int:
    """The current version (0 for a store no patient data was ever written to)."""
    found = session.execute(select(StoreVersion.version).where(StoreVersion.id == _ROW)).scalar()
    if found is None:  # the row the migration creates was removed by hand: never "unchanged"
        raise LookupError("the store_version row is missing; run crswatch init")
    return int(found)


def bump_store_version(session: Session) -> None:
    """Count one write of patient data, in ``session``'s transaction."""
    done = session.execute(
        update(StoreVersion)
        .where(StoreVersion.id == _ROW)
        .values(version=StoreVersion.version + 1)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise LookupError("the store_version row is missing; run crswatch init")


def entity_tag(version: int, *parts: str) -> str:
    """A weak HTTP entity tag for an answer that depends only on the store at ``version`` and
    on ``parts`` (the request, the user, the minute: whatever else the answer shows).

    Weak (``W/``): equal tags mean the same content, not the same bytes.
    """
    digest = hashlib.sha256()
    for part in (_PROCESS, str(version), *parts):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")  # a separator no part can forge by running into the next
    return f'W/"{digest.hexdigest()[:32]}"'


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``tag`` (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    wanted = tag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False
