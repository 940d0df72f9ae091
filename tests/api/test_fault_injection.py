"""Fault injection (issue 18, point 3): the server is killed (SIGKILL) at random points of large
ingest batches; every batch is then stored whole with its audit records, or not at all.

A bounded loopback test: a few rounds, each with its own timeout; the server is a subprocess on
127.0.0.1 over the test's database (SQLite file, or PostgreSQL when configured).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crswatch.store import AuditRecord, EventRow, PatientRow, Store, create_user, issue_token
from crswatch.store import verify_chain as verify
from tests.api.conftest import PASSWORD

PATIENTS = 30
EVENTS = 150  # per patient: 4,500 events a batch
ROUNDS = 5
SEED = int(os.environ.get("CRSWATCH_FAULT_SEED", "18"))

_SERVER = """
import sys, uvicorn
from crswatch.api import Settings, create_app
from crswatch.store import Store
app = create_app(Store(sys.argv[1]), Settings(rate_limit_per_minute=0, max_body_bytes=50_000_000))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="error", access_log=False)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, url, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not start within 60 s")


def _batch(number: int) -> list[dict[str, Any]]:
    documents = []
    for p in range(PATIENTS):
        events = [
            {
                "time": f"2024-03-{2 + e // 96:02d}T{(e % 96) // 4:02d}:{(e % 4) * 15:02d}:00Z",
                "item": "temperature",
                "value": 37.0 + (e % 20) / 10,
                "unit": "Cel",
            }
            for e in range(EVENTS)
        ]
        documents.append(
            {
                "format": "crswatch.timeline/1",
                "patient": {
                    "id": f"B{number}-P{p:03d}",
                    "therapy": {"kind": "car_t", "start": "2024-03-01T10:00:00Z"},
                },
                "events": events,
            }
        )
    return documents


def _send(base: str, token: str, body: Any, outcome: dict[str, Any]) -> None:
    try:
        response = httpx.post(
            f"{base}/events/timeline",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        outcome["status"] = response.status_code
    except httpx.HTTPError as exc:
        outcome["error"] = type(exc).__name__


def _stored(store: Store, number: int) -> tuple[int, int, int]:
    prefix = f"B{number}-%"
    with store.transaction() as session:
        patients = session.execute(
            select(func.count()).select_from(PatientRow).where(PatientRow.patient_id.like(prefix))
        ).scalar_one()
        events = session.execute(
            select(func.count())
            .select_from(EventRow)
            .join(PatientRow)
            .where(PatientRow.patient_id.like(prefix))
        ).scalar_one()
        audited = session.execute(
            select(func.count())
            .select_from(AuditRecord)
            .where(
                AuditRecord.patient_id.like(prefix),
                AuditRecord.action == "create",
                AuditRecord.outcome == "success",
            )
        ).scalar_one()
    return patients, events, audited


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_server_stores_each_batch_whole_with_its_audit_or_not_at_all(
    database_url: str,
) -> None:
    store = Store(database_url)
    with store.transaction() as session:
        nurse = create_user(session, "nurse", PASSWORD, "clinician")
        token = issue_token(session, nurse, "t").token
    chooser = random.Random(SEED)
    outcomes: list[dict[str, Any]] = []
    # Round 0 runs to completion and times a batch; later rounds are killed within that time.
    duration = 0.0
    for number in range(ROUNDS):
        process, base = _start(database_url)
        outcome: dict[str, Any] = {"batch": number}
        sender = threading.Thread(target=_send, args=(base, token, _batch(number), outcome))
        started = time.monotonic()
        sender.start()
        if number == 0:
            sender.join(timeout=120)
            duration = time.monotonic() - started
        else:
            time.sleep(chooser.uniform(0.2, 1.1) * duration)
            process.send_signal(signal.SIGKILL)
            sender.join(timeout=120)
        process.kill()
        process.wait(timeout=30)
        assert not sender.is_alive()
        outcomes.append(outcome)
    assert outcomes[0].get("status") == 200, outcomes[0]

    complete = 0
    for outcome in outcomes:
        patients, events, audited = _stored(store, outcome["batch"])
        # All or nothing, and the audit trail matches the data exactly.
        assert (patients, events, audited) in (
            (0, 0, 0),
            (PATIENTS, PATIENTS * EVENTS, PATIENTS),
        ), outcome
        if outcome.get("status") == 200:
            assert patients == PATIENTS, outcome
        complete += patients == PATIENTS
    with store.transaction() as session:
        records = list(session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars())
    assert verify(records).ok
    assert complete >= 1
    store.dispose()
