"""Database selection, engines, migrations and transactions.

``CRSWATCH_DATABASE_URL`` selects the database (PostgreSQL: ``postgresql+psycopg://...``);
otherwise SQLite in WAL mode, a file in ``CRSWATCH_DATA_DIR`` (default ``./crswatch-data``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from crswatch.store._checkpoint import POLICY_INFO, CheckpointPolicy, install_log_hooks

__all__ = ["Store", "database_url", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(environ: dict[str, str] | None = None) -> str:
    """The database URL: ``CRSWATCH_DATABASE_URL``, else the SQLite file in the data dir."""
    env = os.environ if environ is None else environ
    url = env.get("CRSWATCH_DATABASE_URL")
    if url:
        return url
    data_dir = Path(env.get("CRSWATCH_DATA_DIR") or "crswatch-data")
    return f"sqlite:///{data_dir / 'crswatch.db'}"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so that BEGIN IMMEDIATE can be issued:
        # every transaction holds the write lock from its start, which keeps the audit hash
        # chain linear across threads and processes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _private_file(database: Path) -> None:
    """The data directory (when crswatch creates it) and the database file: the owner's only.

    SQLite gives the -wal and -shm files the database file's mode.
    """
    if not database.parent.exists():
        database.parent.mkdir(parents=True, mode=0o700)
    if not database.exists():
        database.touch(mode=0o600)
    if database.stat().st_mode & 0o077:
        database.chmod(0o600)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            _private_file(Path(database))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        _sqlite_setup(engine)
        return engine
    # hide_parameters: a database error's text never carries the statement's values (patient
    # records) into a log or a traceback.
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with the Alembic migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


class Store:
    """The database: an engine, a session factory and the current schema.

    ``audit_checkpoints``: write keyed checkpoints of the audit chain as records are appended
    (``crswatch.store._checkpoint``); the service's store has it, a store opened for tests or
    one-off commands need not.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        run_migrations: bool = True,
        audit_checkpoints: CheckpointPolicy | None = None,
    ) -> None:
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The checkpoint log is written after a commit (``_checkpoint_log``).
        install_log_hooks(self._sessions)
        self.audit_checkpoints: CheckpointPolicy | None = None
        if audit_checkpoints is not None:
            self.anchor_audit(audit_checkpoints)
        if run_migrations:
            migrate(self.engine)

    def anchor_audit(self, policy: CheckpointPolicy) -> None:
        """Write keyed checkpoints by ``policy`` in every later transaction's appends."""
        self.audit_checkpoints = policy
        self._sessions.configure(info={POLICY_INFO: policy})

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar() == 1

    def dispose(self) -> None:
        self.engine.dispose()
