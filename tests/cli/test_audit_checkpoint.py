"""``crswatch audit checkpoint`` and ``crswatch audit verify`` with keyed checkpoints (issue 18,
point 10), on SQLite and PostgreSQL; ``init`` and ``serve`` make the key while the database has
no checkpoint, and refuse to replace a lost one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.store import Store, append_audit
from tests.store.dbfixture import database_url, store

__all__ = ["database_url", "store"]


@pytest.fixture
def env(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The database under test; the key file's path (not made yet)."""
    monkeypatch.setenv("CRSWATCH_DATABASE_URL", store.url)
    monkeypatch.setenv("CRSWATCH_DATA_DIR", str(tmp_path / "data"))
    key = tmp_path / "secret" / "audit.key"
    monkeypatch.setenv("CRSWATCH_AUDIT_KEY_FILE", str(key))
    return key


def _append(store: Store, count: int) -> None:
    for _ in range(count):
        with store.transaction() as session:
            append_audit(session, actor="nurse", role="viewer", action="read",
                         resource="patient", patient_id="P-1", outcome="success")  # fmt: skip


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def said(result: Any) -> str:
    """The output with Rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_checkpoint_on_demand_then_verify(store: Store, env: Path) -> None:
    assert "no record yet" in said(run("audit", "checkpoint"))
    assert env.stat().st_mode & 0o777 == 0o600  # made on first use, owner-only
    _append(store, 5)
    written = run("audit", "checkpoint")
    assert written.exit_code == 0, written.output
    assert "5 records up to record" in said(written) and "signature" in said(written)
    assert (env.parent / "audit-checkpoints.log").exists()  # the copy outside the database
    _append(store, 2)
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "audit chain intact (7 records)" in said(verified)
    assert "1 keyed checkpoint(s) verified" in said(verified)
    assert "2 record(s) after it" in said(verified)


def test_verify_fails_naming_the_checkpoint_when_the_tail_is_cut(store: Store, env: Path) -> None:
    _append(store, 6)
    assert run("audit", "checkpoint").exit_code == 0
    with store.transaction() as session:
        if store.dialect == "postgresql":
            session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            session.execute(text("DROP TRIGGER audit_log_no_delete"))
        session.execute(text("DELETE FROM audit_log WHERE pk > 3"))
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    message = said(broken)
    assert "audit checkpoint check failed" in message
    assert "checkpoint 1 (written" in message and "removed from its end" in message


def test_a_missing_key_is_a_clear_message(store: Store, env: Path) -> None:
    fresh = run("audit", "verify")  # no key and no checkpoint yet: the chain alone, said so
    assert fresh.exit_code == 0, fresh.output
    assert "no keyed checkpoint yet" in said(fresh) and not env.exists()
    _append(store, 2)
    assert run("audit", "checkpoint").exit_code == 0
    env.unlink()
    missing = run("audit", "verify")
    assert missing.exit_code == 2
    assert missing.exception is None or isinstance(missing.exception, SystemExit)
    message = said(missing)
    assert "audit chain intact (2 records)" in message
    assert "1 keyed checkpoint(s) were not checked" in message
    assert f"no audit key file at {env}" in message
    # Nor is a new key made behind the administrator's back.
    refused = run("audit", "checkpoint")
    assert refused.exit_code == 2 and "restore that key file" in said(refused)
    assert not env.exists()


def test_a_key_others_can_read_is_refused(store: Store, env: Path) -> None:
    _append(store, 1)
    assert run("audit", "checkpoint").exit_code == 0
    env.chmod(0o644)
    loose = run("audit", "verify")
    assert loose.exit_code == 2 and "chmod 600" in said(loose)


def test_init_and_serve_make_the_key_and_serve_anchors_the_store(
    store: Store, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_kwargs: served.append(app))
    monkeypatch.setenv("CRSWATCH_AUDIT_CHECKPOINT_EVERY", "3")
    initialised = run("init")
    assert initialised.exit_code == 0, initialised.output
    assert env.exists() and str(env) in said(initialised)
    assert run("serve").exit_code == 0
    served_store = served[0].state.store
    assert served_store.audit_checkpoints is not None
    assert served_store.audit_checkpoints.every == 3
    # A lost key with checkpoints in the database: the service does not start.
    _append(served_store, 1)
    env.unlink()
    refused = run("serve")
    assert refused.exit_code == 2 and "restore that key file" in said(refused)
    assert len(served) == 1


def test_a_second_serve_on_the_same_database_refuses(
    store: Store, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One process per database (docs/decisions/0063): the throttle is the process's own.
    import uvicorn

    from crswatch.store import InstanceLock

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_kwargs: served.append(app))
    with InstanceLock(store):
        refused = run("serve")
    assert refused.exit_code == 2, refused.output
    assert "another crswatch service" in said(refused) and served == []
    assert run("serve").exit_code == 0 and len(served) == 1  # the lock was released
