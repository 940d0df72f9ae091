"""Server-side dashboard sessions (issue 18, point 4): a cookie saved before logout, a password
change or a deactivation reads nothing afterwards; an idle session ends; logins are throttled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from crswatch.api import Settings, create_app
from crswatch.store import AuditRecord, DashboardSession, Store, User, set_active, set_password
from tests.web.conftest import Dashboard, csrf_of
from tests.web.ward import NOW, PASSWORD

COOKIE = "crswatch_session"


def _replay(dashboard: Dashboard, cookie: str) -> int:
    other = TestClient(dashboard.client.app, cookies={COOKIE: cookie})
    return other.get("/ward", follow_redirects=False).status_code


def test_a_cookie_replayed_after_logout_reads_nothing(dashboard: Dashboard) -> None:
    csrf = dashboard.login("clinician")
    saved = dashboard.client.cookies[COOKIE]
    assert _replay(dashboard, saved) == 200
    dashboard.client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert _replay(dashboard, saved) == 303  # to the login form
    with dashboard.store.transaction() as session:
        assert session.execute(select(DashboardSession)).first() is None


def test_password_change_and_deactivation_end_sessions(dashboard: Dashboard) -> None:
    dashboard.login("clinician")
    saved = dashboard.client.cookies[COOKIE]
    with dashboard.store.transaction() as session:
        user = session.execute(select(User).where(User.username == "clinician")).scalar_one()
        set_password(session, user, "a fresh sound pass phrase")
    assert _replay(dashboard, saved) == 303
    dashboard.client.cookies.clear()
    page = dashboard.client.get("/login")
    dashboard.client.post(
        "/login",
        data={
            "username": "viewer",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    viewer_cookie = dashboard.client.cookies[COOKIE]
    assert _replay(dashboard, viewer_cookie) == 200
    with dashboard.store.transaction() as session:
        user = session.execute(select(User).where(User.username == "viewer")).scalar_one()
        set_active(session, user, False)
    assert _replay(dashboard, viewer_cookie) == 303


def test_an_idle_session_ends(ward_store: Store) -> None:
    settings = Settings(
        rate_limit_per_minute=0, secure_cookies=False, dashboard_now=NOW, session_idle_minutes=5
    )
    client = TestClient(create_app(ward_store, settings))
    dashboard = Dashboard(client, ward_store)
    dashboard.login("viewer")
    assert client.get("/ward", follow_redirects=False).status_code == 200
    with ward_store.transaction() as session:
        session.execute(
            update(DashboardSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=6))
        )
    assert client.get("/ward", follow_redirects=False).status_code == 303
    client.close()


def test_dashboard_logins_are_throttled_and_unknown_names_not_stored(
    dashboard: Dashboard,
) -> None:
    statuses = []
    for attempt in range(8):
        page = dashboard.client.get("/login")
        response = dashboard.client.post(
            "/login",
            data={
                "username": f"hunter2-typed-as-name-{attempt}",
                "password": "wrong",
                "csrf_token": csrf_of(page.text),
            },
            follow_redirects=False,
        )
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    assert "too many failed logins" in response.text
    with dashboard.store.transaction() as session:
        actors = set(session.execute(select(AuditRecord.actor)).scalars())
    assert not any("hunter2" in actor for actor in actors)
