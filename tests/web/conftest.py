"""Dashboard fixtures: an app over a temporary SQLite store holding the test ward and users."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crswatch.api import Settings, create_app
from crswatch.store import Store, create_user, ingest_timelines
from tests.web.ward import NOW, PASSWORD, make_ward

__all__ = ["Dashboard", "csrf_of", "dashboard", "ward_store"]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def fill_store(store: Store) -> None:
    with store.transaction() as session:
        for role in ("viewer", "clinician", "admin"):
            create_user(session, role, PASSWORD, role)
        ingest_timelines(session, make_ward())


@pytest.fixture(scope="session")
def ward_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ward's SQLite file, migrated and filled once (Argon2 hashing and migrations are slow)."""
    path = tmp_path_factory.mktemp("ward") / "crswatch.db"
    store = Store(f"sqlite:///{path}")
    fill_store(store)
    store.dispose()
    return path


@pytest.fixture
def ward_store(ward_database: Path, tmp_path: Path) -> Iterator[Store]:
    """A private copy of the ward database for one test."""
    copy = tmp_path / "crswatch.db"
    shutil.copyfile(ward_database, copy)
    store = Store(f"sqlite:///{copy}")
    yield store
    store.dispose()


@dataclass
class Dashboard:
    client: TestClient
    store: Store

    def login(self, role: str) -> str:
        """Log in as ``role``; returns the session's CSRF token."""
        page = self.client.get("/login")
        response = self.client.post(
            "/login",
            data={"username": role, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return csrf_of(self.client.get("/ward").text)


@pytest.fixture
def dashboard(ward_store: Store) -> Iterator[Dashboard]:
    # Plain-HTTP test client: the cookie must not be Secure or httpx would not send it back.
    settings = Settings(rate_limit_per_minute=0, secure_cookies=False, dashboard_now=NOW)
    client = TestClient(create_app(ward_store, settings))
    yield Dashboard(client, ward_store)
    client.close()
