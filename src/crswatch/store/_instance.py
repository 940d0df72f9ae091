"""One service process per database: the lock ``crswatch serve`` holds while it serves.

The login throttle, the per-address rate limit, the Argon2 verification slots and (unless
``CRSWATCH_SESSION_SECRET`` is set) the session cookie's key live in the service's process.  A
second process serving the same database would double every one of those budgets, silently;
so ``crswatch serve`` takes this lock first and a second one refuses to start
(docs/decisions/0063-one-service-process.md).

- SQLite: an exclusive ``flock`` on ``<database>.serve.lock`` beside the database file (the
  lock file holds the process id, for the message).
- PostgreSQL: a session advisory lock keyed on the database and schema, held on a connection
  of its own for the life of the process.

Both are released by the operating system or the database when the process ends, however it
ends (a crash or ``kill -9`` leaves no stale lock).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from crswatch.errors import CRSWatchError

if TYPE_CHECKING:  # _db imports the models, not this module; the type is enough here
    from crswatch.store._db import Store

__all__ = ["InstanceLock", "ServiceRunningError"]

_PG_KEY = "hashtextextended('crswatch.serve:' || current_database() || '.' || current_schema(), 0)"


class ServiceRunningError(CRSWatchError):
    """Another process already serves this database."""


class InstanceLock:
    """Held by the one process that serves ``store``'s database (a context manager)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._descriptor: int | None = None
        self._connection: Connection | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`ServiceRunningError` saying who holds it."""
        if self._store.dialect == "postgresql":
            self._acquire_postgresql()
        elif self._store.dialect == "sqlite":
            self._acquire_sqlite()

    def _acquire_sqlite(self) -> None:
        database = make_url(self._store.url).database
        if not database or database == ":memory:":
            return  # a private in-memory database: no other process can serve it
        path = Path(f"{database}.serve.lock")
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode(errors="replace").strip()
            os.close(descriptor)
            raise ServiceRunningError(
                f"another crswatch service (process {holder or 'unknown'}) is serving "
                f"{database}; one process per database (lock file {path})"
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._descriptor = descriptor

    def _acquire_postgresql(self) -> None:
        connection = self._store.engine.connect()
        taken = connection.execute(text(f"SELECT pg_try_advisory_lock({_PG_KEY})")).scalar()
        connection.commit()  # the session lock outlives the transaction; no transaction stays open
        if not taken:
            connection.close()
            where = make_url(self._store.url).render_as_string(hide_password=True)
            raise ServiceRunningError(
                f"another crswatch service is serving {where}; one process per database"
            )
        self._connection = connection

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the file releases the flock
            self._descriptor = None
        if self._connection is not None:
            self._connection.execute(text(f"SELECT pg_advisory_unlock({_PG_KEY})"))
            self._connection.commit()
            self._connection.close()
            self._connection = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
