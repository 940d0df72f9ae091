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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crswatch.store._models import StoreVersion

__all__ = ["bump_store_version", "store_version"]

_ROW = 1


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
