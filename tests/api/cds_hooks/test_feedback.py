"""Feedback (CDS Hooks 2.0, "Feedback"): stored with its sender, audited, bad items named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crswatch.api import Settings, create_app
from crswatch.store import AuditRecord, CdsFeedback, Store
from tests.api.cds_hooks.conftest import BASE, ISSUER, Cds, Issuer, cds_settings
from tests.store.dbfixture import database_url, store

__all__ = ["database_url", "store"]

URL = "/cds-services/crswatch-order-sign/feedback"
CARD = "4e0a3a1e-3283-4575-ab82-028d55fe2719"
SUGGESTION = "e56e1945-20b3-4393-8503-a1a20fd73152"


@pytest.fixture
def on_both(store: Store, issuer: Issuer) -> Iterator[Cds]:
    """The service over SQLite and PostgreSQL (the migration runs on both)."""
    app = create_app(store, Settings(rate_limit_per_minute=0), cds_hooks=cds_settings(issuer))
    with TestClient(app) as client:
        yield Cds(client, store, issuer)


def _post(cds: Cds, body: Any, audience: str = BASE + URL) -> Any:
    return cds.client.post(URL, json=body, headers=cds.issuer.headers(audience))


def test_accepted_and_overridden_are_stored_and_audited(on_both: Cds) -> None:
    body = {
        "feedback": [
            {
                "card": CARD,
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": SUGGESTION}],
                "outcomeTimestamp": "2026-03-01T12:05:31Z",
            },
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"code": "d7ecf885", "system": "https://ehr.example.org/override"},
                    "userComment": "Dose agreed with haematology on call.",
                },
                "outcomeTimestamp": "2026-03-01T12:06:00Z",
            },
        ]
    }
    response = _post(on_both, body)
    assert response.status_code == 200 and response.json() == {"stored": 2}
    with on_both.store.transaction() as session:
        rows = list(session.execute(select(CdsFeedback).order_by(CdsFeedback.pk)).scalars())
        audit = session.execute(select(AuditRecord).order_by(AuditRecord.pk.desc())).scalar()
    assert [(r.card_uuid, r.outcome) for r in rows] == [
        (CARD, "accepted"),
        ("9368d37b-283f-44a0-93ea-547cebab93ed", "overridden"),
    ]
    assert rows[0].service_id == "crswatch-order-sign"
    assert rows[0].client == ISSUER and rows[0].tenant == "ward-7"
    assert rows[0].accepted_suggestions == [{"id": SUGGESTION}]
    assert rows[0].outcome_timestamp == datetime(2026, 3, 1, 12, 5, 31, tzinfo=UTC)
    assert rows[1].override_reason["userComment"] == "Dose agreed with haematology on call."
    assert audit is not None and audit.action == "create" and audit.outcome == "success"
    assert CARD in audit.detail and audit.actor == ISSUER


def test_service_url_is_accepted_as_audience(on_both: Cds) -> None:
    body = {
        "feedback": [
            {"card": CARD, "outcome": "overridden", "outcomeTimestamp": "2026-03-01T12:00:00Z"}
        ]
    }
    response = _post(on_both, body, BASE + "/cds-services/crswatch-order-sign")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"outcome": "accepted", "acceptedSuggestions": [{"id": "s"}]}, "feedback[0].card"),
        ({"card": CARD, "outcome": "ignored"}, "feedback[0].outcome"),
        ({"card": CARD, "outcome": "accepted"}, "feedback[0].acceptedSuggestions"),
        (
            {"card": CARD, "outcome": "overridden", "outcomeTimestamp": "yesterday"},
            "feedback[0].outcomeTimestamp",
        ),
        (
            {"card": CARD, "outcome": "overridden", "overrideReason": "no"},
            "feedback[0].overrideReason",
        ),
    ],
)
def test_bad_items_are_400_naming_the_field(cds: Cds, item: dict[str, Any], field: str) -> None:
    item.setdefault("outcomeTimestamp", "2026-03-01T12:00:00Z")
    response = _post(cds, {"feedback": [item]})
    assert response.status_code == 400
    assert response.json()["error"]["issues"][0]["field"] == field
    with cds.store.transaction() as session:
        assert session.execute(select(CdsFeedback)).first() is None, "nothing stored"


def test_a_bad_item_stores_none_of_the_batch(cds: Cds) -> None:
    good = {"card": CARD, "outcome": "overridden", "outcomeTimestamp": "2026-03-01T12:00:00Z"}
    response = _post(cds, {"feedback": [good, {"card": CARD, "outcome": "maybe"}]})
    assert response.status_code == 400
    with cds.store.transaction() as session:
        assert session.execute(select(CdsFeedback)).first() is None


def test_feedback_needs_the_jwt_and_a_known_service(cds: Cds) -> None:
    assert cds.client.post(URL, json={"feedback": []}).status_code == 401
    response = cds.client.post(
        "/cds-services/nope/feedback",
        json={"feedback": []},
        headers=cds.issuer.headers(BASE + "/cds-services/nope/feedback"),
    )
    assert response.status_code == 404
