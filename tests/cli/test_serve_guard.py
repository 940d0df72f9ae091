"""``crswatch serve`` beyond loopback (issue 18, point 9): refused while an active user has never
set their own password (a demo's well-known one, or one given by an administrator)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.store import Store, User, create_user, set_password


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CRSWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("CRSWATCH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda _app, **kwargs: calls.append(kwargs))
    return calls


def test_serve_beyond_loopback_refuses_unchanged_passwords(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(f"sqlite:///{data_dir / 'crswatch.db'}")
    with store.transaction() as session:
        create_user(session, "nurse", "a sound pass phrase", "clinician")
    store.dispose()
    calls = _served(monkeypatch)
    refused = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert refused.exit_code == 2
    assert "nurse" in refused.output and "never set" in refused.output
    assert calls == []
    # On loopback it serves (to let the user change the password).
    assert CliRunner().invoke(app, ["serve", "--host", "127.0.0.1"]).exit_code == 0
    assert calls[-1]["host"] == "127.0.0.1"
    store = Store(f"sqlite:///{data_dir / 'crswatch.db'}")
    with store.transaction() as session:
        user = session.execute(select(User).where(User.username == "nurse")).scalar_one()
        set_password(session, user, "a phrase of her own choosing")
    store.dispose()
    assert CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"]).exit_code == 0
    assert calls[-1]["host"] == "0.0.0.0"
