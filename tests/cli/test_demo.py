"""``crswatch demo`` (the main job): load a ward into the demo database, print, and serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.cli._demo import DEMO_DB, DEMO_PASSWORD, _free_port, _Loaded, _ward_table
from crswatch.simulate import ward_beds
from crswatch.state import StateParameters
from crswatch.store import Store, User, authenticate, list_patients

runner = CliRunner()


def _store(data: Path) -> Store:
    return Store(f"sqlite:///{data / DEMO_DB}")


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_serve_loads_the_ward_users_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("CRSWATCH_DATA_DIR", str(data))
    result = runner.invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    # Nothing is served: no URL; what was loaded, and how to serve it (issue 19, point 3).
    assert "http://" not in result.stdout and "Serving" not in result.stdout
    assert f"Loaded: 24 patients in the demo database {data / DEMO_DB}" in result.stdout
    assert "To serve this ward: crswatch demo --keep, or crswatch serve --demo." in result.stdout
    assert f"Password of both users: {DEMO_PASSWORD} (loopback only)." in result.stdout
    assert "ward-01" in result.stdout and "ward-24" in result.stdout
    # Why a grade may outlast the simulated course, with the windows the state really uses.
    said = " ".join(result.stdout.split())
    assert (
        "(fever, hypotension and fluid boluses: the last 24 hours), so a course that has just "
        "ended keeps its grade until its last sign leaves the window" in said
    )
    windows = StateParameters()
    assert windows.fever_window == windows.hypotension_window == timedelta(hours=24)
    assert windows.fluid_window == timedelta(hours=24)
    store = _store(data)
    with store.transaction() as session:
        rows, total = list_patients(session, 100, 0)
        assert total == 24
        assert [row.patient_id for row in rows][:2] == ["ward-01", "ward-02"]
        users = {u.username: u.role for u in session.execute(select(User)).scalars()}
        assert users == {"clinician": "clinician", "viewer": "viewer"}
        assert authenticate(session, "clinician", DEMO_PASSWORD) is not None
    store.dispose()
    ward = json.loads((data / "demo-ward.json").read_text())
    assert len(ward) == 24
    # The JSON serves the command-line tour.
    graded = runner.invoke(app, ["grade", str(data / "demo-ward.json"), "--json"])
    assert graded.exit_code == 0, graded.output


def test_keep_serves_the_stored_ward_and_reset_recreates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("CRSWATCH_DATA_DIR", str(data))
    assert runner.invoke(app, ["demo", "--no-serve", "--patients", "3"]).exit_code == 0
    kept = runner.invoke(app, ["demo", "--no-serve", "--keep", "--patients", "5"])
    assert kept.exit_code == 0, kept.output
    assert "Loaded: 3 patients" in kept.stdout and "demo --keep" in kept.stdout
    # A kept database has the well-known password: not on an address others can reach.
    exposed = runner.invoke(app, ["demo", "--no-serve", "--keep", "--host", "0.0.0.0"])
    assert exposed.exit_code == 2 and "host" in exposed.stderr
    reset = runner.invoke(app, ["demo", "--no-serve", "--patients", "2"])
    assert reset.exit_code == 0 and "Loaded: 2 patients" in reset.stdout


def test_a_non_loopback_host_gets_fresh_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("CRSWATCH_DATA_DIR", str(data))
    result = runner.invoke(app, ["demo", "--no-serve", "--patients", "2", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert f"password {DEMO_PASSWORD}" not in result.stdout and "not loopback" in result.stderr
    assert f"users: {DEMO_PASSWORD}" not in result.stdout
    # Fresh passwords for a host others can reach are shown once, even when nothing is served.
    assert result.stdout.count("password ") == 2
    store = _store(data)
    with store.transaction() as session:
        assert authenticate(session, "viewer", DEMO_PASSWORD) is None
    store.dispose()


def test_a_busy_port_is_replaced_by_the_next_free_one() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        chosen = _free_port("127.0.0.1", port)
    assert chosen != port and port < chosen < port + 20


def test_the_course_column_describes_each_patient_at_the_ward_clock() -> None:
    clock = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    beds = ward_beds(6, clock=clock)
    loaded = _Loaded([b.timeline for b in beds], {b.timeline.patient.id: b.now for b in beds}, None)
    table = _ward_table(loaded.ward, clock, loaded.courses)
    shown = dict(zip(table.columns[0].cells, table.columns[1].cells, strict=True))
    assert shown == {b.timeline.patient.id: b.now for b in beds}
    # ward-02 was filled for its ventilation, and is ventilated at the clock.
    assert shown["ward-02"].startswith("CRS 4 (") and "ventilated" in shown["ward-02"]
    # A kept ward's clock has moved on: no course is claimed for it.
    kept = _ward_table(loaded.ward, clock + timedelta(days=3), {})
    assert set(kept.columns[1].cells) == {"-"}


def _get(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_demo_serves_until_terminated(tmp_path: Path) -> None:
    port = _free_loopback_port()
    env_dir = str(tmp_path / "data")
    env = {**os.environ, "CRSWATCH_DATA_DIR": env_dir}
    env.pop("CRSWATCH_DATABASE_URL", None)
    command = [sys.executable, "-c", "from crswatch.cli import main; main()"]
    server = subprocess.Popen(
        [*command, "demo", "--patients", "4", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = _get(f"{base}/health")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert health == {"status": "ok", "database": "sqlite"}, server.poll()
        login = {"username": "clinician", "password": DEMO_PASSWORD}
        token = _get(f"{base}/auth/login", login)["access_token"]
        patients = _get(f"{base}/patients", token=token)
        assert "ward-01" in json.dumps(patients)
        # A second demo on the same data directory would reset the database this one serves:
        # it refuses, naming the one that runs, and the served ward is still there.
        second = runner.invoke(app, ["demo", "--no-serve"], env={"CRSWATCH_DATA_DIR": env_dir})
        assert second.exit_code != 0
        said = " ".join(second.output.split())
        assert f"another crswatch service (process {server.pid}) is serving" in said
        assert "give this demo a data directory of its own (CRSWATCH_DATA_DIR)" in said
        assert _get(f"{base}/patients", token=token) == patients
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert f"http://127.0.0.1:{port}/" in output
