"""API fixtures: an app over each database, users of every role and their tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from crswatch.api import Settings, create_app
from crswatch.store import Store, create_user, issue_token
from tests.store.dbfixture import database_url, store

__all__ = ["Api", "api", "database_url", "store"]

PASSWORD = "correct horse battery"


@dataclass
class Api:
    client: TestClient
    store: Store
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def make_api(store: Store, settings: Settings | None = None) -> Api:
    tokens = {}
    with store.transaction() as session:
        for role in ("viewer", "clinician", "admin"):
            user = create_user(session, role, PASSWORD, role)
            tokens[role] = issue_token(session, user, "test").token
    app = create_app(store, settings or Settings(rate_limit_per_minute=0))
    return Api(TestClient(app), store, tokens)


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    made = make_api(store)
    yield made
    made.client.close()
