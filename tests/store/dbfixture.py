"""A ``store`` fixture over SQLite (a temporary file) and PostgreSQL.

PostgreSQL comes from ``CRSWATCH_TEST_POSTGRES_URL``; without it the PostgreSQL parameter is
skipped locally, and FAILS when ``CI`` is ``true`` (CI must never skip PostgreSQL silently).
Each test gets an empty schema of its own (per xdist worker and process, dropped when the
process exits), so tests never see each other, nor two test runs against one server.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crswatch.store import Store

BACKENDS = ["sqlite", "postgresql"]


def postgres_url() -> str:
    url = os.environ.get("CRSWATCH_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but CRSWATCH_TEST_POSTGRES_URL is not set: PostgreSQL not tested")
        pytest.skip("CRSWATCH_TEST_POSTGRES_URL is not set")
    return url


#: This process's schemas, dropped when it exits.
_SCHEMAS: set[tuple[str, str]] = set()


def _schema() -> str:
    """The schema of this test process: its xdist worker and its process id, so that two test
    runs against one server (two suites at once on a machine) never share a schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"crswatch_test_{worker}_{os.getpid()}"


def _drop_schemas() -> None:
    for base, schema in _SCHEMAS:
        try:
            admin = create_engine(base)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
        except Exception:  # noqa: BLE001 - a server gone at exit leaves only an empty schema
            pass


atexit.register(_drop_schemas)


def fresh_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'crswatch.db'}"
    base = postgres_url()
    schema = _schema()
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    _SCHEMAS.add((base, schema))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_url(request.param, tmp_path)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    yield opened
    opened.dispose()
