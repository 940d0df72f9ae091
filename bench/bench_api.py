"""Single-patient latency of ``GET /patients/{id}/grade`` through a real server.

    python bench/bench_api.py [--requests 200] [--cold 5] [--days 30] [--vitals-every-minutes 5]
                              [--steps 10] [--postgres URL]

Starts the service (``crswatch.api.create_app`` over a fresh SQLite store in a temporary
directory) with uvicorn on 127.0.0.1 in a subprocess, ingests one patient with ``--days`` of
seven vital signs every 5 minutes (about 60,000 events for 30 days, plus labs, ICE scores, a
CRS course with a vasopressor, oxygen and tocilizumab), then times the grade endpoint (every
CRS scale and ICANS) on three paths, kept apart (decision 0025):

- **cold**: the first grade after a write (``--cold`` times: one new event ingested, then one
  grade): the marker query, the events written since the cached version read and added to its
  frames (decision 0067; a patient not cached is read whole, column-wise), the state computed
  and graded;
- **warm, computed**: the frames cached, the grade computed (``--requests`` grades, each at its
  own time, one second apart before the last event, so that no result is reused);
- **warm, result kept**: the same grade again (at the last event, ``--requests`` times) on an
  unchanged record: the marker query, the kept result, serialisation and the audit record;
- **not modified (304)**: the same grade with ``If-None-Match`` naming its ETag (decision 0057):
  the store's version, the tag and the audit record, nothing loaded or graded.

Prints, per path, p50/p95/p99 of the server time (measured inside the server process around the
ASGI app, from the request's arrival to the end of the response: ``ServerTimer``) and of the
client's wall time (adds HTTP on loopback), the 100 ms p95 target of issue 16 met or missed,
then times the route's steps in this process to say where the time goes (the frames read
before, through SQLAlchemy Core rows, and after, column-wise on the driver's cursor, on SQLite and
with ``--postgres URL`` on PostgreSQL too).  Asserts nothing
about time; the machine is shared: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from crswatch.timeline import format_time

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
PATIENT = "BENCH-30D"
#: The vital signs charted at every slot, with a baseline and the daily noise (canonical units).
VITALS = {
    "temperature": ("Cel", 36.8, 0.2),
    "heart_rate": ("/min", 82.0, 6.0),
    "sbp": ("mm[Hg]", 118.0, 7.0),
    "dbp": ("mm[Hg]", 72.0, 5.0),
    "map": ("mm[Hg]", 87.0, 5.0),
    "resp_rate": ("/min", 16.0, 1.5),
    "spo2": ("%", 97.0, 1.0),
}
LABS = {
    "crp": ("mg/L", 12.0),
    "ferritin": ("ng/mL", 450.0),
    "alt": ("U/L", 30.0),
    "ast": ("U/L", 28.0),
    "bilirubin": ("mg/dL", 0.8),
    "creatinine": ("mg/dL", 0.9),
    "fibrinogen": ("mg/dL", 320.0),
    "platelets": ("10*3/uL", 140.0),
    "il6": ("pg/mL", 20.0),
}


def _event(
    hours: float, item: str, value: Any, unit: str | None = None, **extra: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "time": format_time(START + timedelta(hours=hours)),
        "item": item,
        "value": value,
    }
    if unit is not None:
        event["unit"] = unit
    event.update(extra)
    return event


def patient_document(days: int, every_minutes: int, seed: int = 7) -> dict[str, Any]:
    """One patient: vital signs every ``every_minutes`` for ``days`` and a grade 3 CRS course."""
    rng = np.random.default_rng(seed)
    slots = np.arange(0.0, days * 24.0, every_minutes / 60.0)
    fever = np.where((slots >= 30) & (slots <= 96), 1.6 * np.sin((slots - 30) / 66 * np.pi), 0.0)
    hypotension = np.where((slots >= 50) & (slots <= 70), 30.0, 0.0)
    events: list[dict[str, Any]] = []
    for item, (unit, base, noise) in VITALS.items():
        values = base + rng.normal(0.0, noise, slots.size)
        if item == "temperature":
            values = np.minimum(values, 37.6) + fever
        if item in ("sbp", "map"):
            values = values - hypotension
        if item == "spo2":
            values = np.minimum(values, 100.0)
        digits = 1 if item == "temperature" else 0
        events += [
            _event(float(t), item, round(float(v), digits), unit)
            for t, v in zip(slots, values, strict=True)
        ]
    for day in range(days):
        for item, (unit, base) in LABS.items():
            scale = 3.0 if 1 <= day <= 4 and item in ("crp", "ferritin", "il6") else 1.0
            value = round(base * scale * float(rng.uniform(0.9, 1.1)), 2)
            events.append(_event(day * 24 + 6.5, item, value, unit))
        for hours in (day * 24 + 8.25, day * 24 + 20.25):
            events.append(_event(hours, "ice_score", 10))
    events += [
        _event(54.1, "norepinephrine", 6, "ug/min", end=format_time(START + timedelta(hours=70))),
        _event(56.1, "o2_device", "nasal_cannula"),
        _event(56.1, "o2_flow", 3, "L/min"),
        _event(60.1, "tocilizumab", 560, "mg"),
        _event(80.1, "o2_device", "room_air"),
    ]
    return {
        "format": "crswatch.timeline/1",
        "patient": {
            "id": PATIENT,
            "age_years": 58,
            "weight_kg": 70.0,
            "height_cm": 172,
            "therapy": {"kind": "car_t", "start": format_time(START + timedelta(hours=24))},
        },
        "events": events,
    }


class ServerTimer:
    """An ASGI wrapper timing every HTTP request inside the server (milliseconds, by path).

    ``log``: a file each request appends one line to (``status path ms``), for a server in
    another process; the same lines are kept in ``records`` for one in this process.
    """

    def __init__(self, app: Any, log: Path | None = None) -> None:
        self.app = app
        self.log = log
        self.records: list[tuple[int, str, float]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 0

        async def capture(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            record = (status, str(scope["path"]), (time.perf_counter() - began) * 1000)
            self.records.append(record)
            if self.log is not None:
                with self.log.open("a", encoding="utf-8") as handle:
                    handle.write(f"{record[0]} {record[1]} {record[2]:.3f}\n")

    def take(self) -> list[tuple[int, str, float]]:
        """The requests timed since the last call (from the file for another process)."""
        if self.log is None:
            taken, self.records = self.records, []
            return taken
        lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        self.log.write_text("", encoding="utf-8")
        found = []
        for line in lines:
            status, path, ms = line.split(" ")
            found.append((int(status), path, float(ms)))
        return found


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min; {os.cpu_count()} CPUs)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(url: str, port: int, log: str) -> None:
    """The server subprocess: the service over the store at ``url``, on loopback, timed."""
    import uvicorn

    from crswatch.api import Settings, create_app
    from crswatch.store import Store

    settings = Settings(rate_limit_per_minute=0, max_body_bytes=200 * 1024 * 1024)
    app = ServerTimer(create_app(Store(url), settings), Path(log))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _token(url: str) -> str:
    from crswatch.store import Store, create_user, issue_token

    store = Store(url)
    with store.transaction() as session:
        user = create_user(session, "bench", "correct horse battery", "clinician")
        token = issue_token(session, user, "bench").token
    store.dispose()
    return token


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def _steps(url: str, repeat: int) -> dict[str, float]:
    """Median milliseconds of the grade route's steps, run in this process."""
    import polars as pl

    from crswatch.api._deps import audit
    from crswatch.api.routes._analysis import _grade_frames
    from crswatch.io import read_json_document
    from crswatch.scales import grade_state, grade_timelines
    from crswatch.state import StateParameters, clinical_state, prepare_state
    from crswatch.store import (
        Principal,
        Store,
        TimelineCache,
        ingest_timelines,
        load_frames,
        load_timeline,
    )
    from crswatch.store._frames import load_stored

    store = Store(url)
    principal = Principal(username="bench", role="clinician", token_id="bench")
    timings: dict[str, list[float]] = {}
    patient = patient_document(1, 60)["patient"]

    def timed(name: str, step: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = step()
        timings.setdefault(name, []).append((time.perf_counter() - began) * 1000)
        return result

    def read(step: Callable[[Any], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with store.transaction() as session:
                return step(session)

        return run

    def write_one(number: int) -> None:
        """One more event (untimed): the next read through the cache is "cold after a write"."""
        (batch,) = read_json_document(
            {
                "format": "crswatch.timeline/1",
                "patient": patient,
                "events": [_event(-100 - number, "heart_rate", 80, "/min")],
            }
        ).timelines
        with store.transaction() as session:
            ingest_timelines(session, [batch])

    cache = TimelineCache()
    read(lambda session: cache.frames(session, PATIENT))()
    params = StateParameters()
    for number in range(repeat):
        stored = timed(
            "Core rows read (the frames' path before)", read(lambda s: load_stored(s, PATIENT))
        )
        timed("Core rows -> frames (before)", stored.frames)
        patients, events = timed(
            "load_frames: read + frames, column-wise (after)",
            read(lambda s: load_frames(s, PATIENT)),
        )
        timed("load_timeline (rows -> Timeline)", read(lambda s: load_timeline(s, PATIENT)))
        write_one(number)
        timed(
            "cache after a one-event write (appends the new rows)",
            read(lambda s: cache.frames(s, PATIENT)),
        )
        timed("marker query + cache hit (warm)", read(lambda s: cache.frames(s, PATIENT)))
        timeline = stored.timeline()
        times = patients.select(
            "patient_id", pl.lit(events["time"].max()).cast(pl.Datetime("us", "UTC")).alias("at")
        )
        state = timed(
            "clinical_state at one time", partial(clinical_state, patients, events, times, params)
        )
        timed("grade_state (all scales)", lambda state=state: grade_state(state, params=params))
        result = timed(
            "grade from frames (state + grade + to_dict)",
            lambda patients=patients, events=events: _grade_frames(
                patients, events, None, None, params, prepare_state(patients, events, params)
            ),
        )
        timed(
            "grade_timelines from the Timeline (before)",
            lambda timeline=timeline: grade_timelines([timeline])[0],
        )
        timed("json.dumps", lambda result=result: json.dumps(result, default=str))
        timed(
            "audit record",
            lambda: audit(store, principal, "read", "grade", PATIENT, "success"),
        )
    store.dispose()
    return {name: statistics.median(values) for name, values in timings.items()}


def _postgres_steps(url: str, document: dict[str, Any], repeat: int) -> dict[str, float]:
    """The same steps on PostgreSQL (``--postgres URL``, a database or schema of its own)."""
    from crswatch.io import read_json_document
    from crswatch.store import Store, ingest_timelines, load_frames

    store = Store(url)
    with store.transaction() as session:
        if load_frames(session, PATIENT) is None:
            ingest_timelines(session, read_json_document(document).timelines)
    store.dispose()
    return _steps(url, repeat)


def percentiles(values: list[float]) -> str:
    p50, p95, p99 = (_percentile(values, q) for q in (50, 95, 99))
    return f"{p50:>8.1f}{p95:>8.1f}{p99:>8.1f}"


def _row(name: str, server: list[float], client: list[float], target: float | None) -> str:
    verdict = "-"
    if target is not None:
        verdict = "met" if _percentile(server, 95) < target else "missed"
        verdict = f"{verdict} (< {target:g})"
    return (
        f"| {name:<26} | {len(server):>5} | {percentiles(server)} | {percentiles(client)} "
        f"| {verdict:<14} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--vitals-every-minutes", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="in-process runs of each step")
    parser.add_argument("--cold", type=int, default=5, help="grades right after a write")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also time the in-process steps on this PostgreSQL database (the patient is "
        "ingested there if absent; use a database or schema of its own)",
    )
    args = parser.parse_args()
    document = patient_document(args.days, args.vitals_every_minutes)
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        token = _token(url)
        port = _free_port()
        log = Path(tmp) / "server-times.txt"
        timer = ServerTimer(None, log)
        server = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port), str(log)])
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
                for _ in range(300):
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                began = time.perf_counter()
                response = client.post("/events/timeline", json=document)
                ingest = time.perf_counter() - began
                if response.status_code >= 300:
                    raise SystemExit(f"ingest failed: {response.text[:2000]}")
                path = f"/patients/{PATIENT}/grade"
                for _ in range(5):  # warm-up: imports, query plans (not a cache: see --cold)
                    client.get(path).raise_for_status()
                last = START + timedelta(hours=args.days * 24 - args.vitals_every_minutes / 60)

                def timed(params: dict[str, str] | None = None, tag: str | None = None) -> float:
                    sent = {} if tag is None else {"If-None-Match": tag}
                    began = time.perf_counter()
                    reply = client.get(path, params=params, headers=sent)
                    elapsed = (time.perf_counter() - began) * 1000
                    if reply.status_code != (304 if tag else 200):
                        raise SystemExit(f"{path}: {reply.status_code} {reply.text[:500]}")
                    return elapsed

                def server_times(status: int) -> list[float]:
                    return [ms for code, at, ms in timer.take() if at == path and code == status]

                cold = []
                server_cold = []
                for number in range(args.cold):
                    # A new event changes the stored version: the next grade reloads.
                    extra = {**document, "events": [_event(-1 - number, "heart_rate", 80, "/min")]}
                    client.post("/events/timeline", json=extra).raise_for_status()
                    timer.take()
                    cold.append(timed())
                    server_cold += server_times(200)
                timer.take()
                computed = [
                    timed({"at": format_time(last - timedelta(seconds=1 + n))})
                    for n in range(args.requests)
                ]
                server_computed = server_times(200)
                # The first grade at the last event computes it again (the computed series
                # above pushed it out of the per-patient results); the rest reuse it.
                tag = client.get(path).headers["etag"]
                timer.take()
                kept = [timed() for _ in range(args.requests)]
                server_kept = server_times(200)
                unchanged = [timed(tag=tag) for _ in range(args.requests)]
                server_unchanged = server_times(304)
        finally:
            server.terminate()
            server.wait(timeout=30)
        _print_table(args, document, path, ingest, load_before, [
            ("cold (after a write)", server_cold, cold, 200.0),
            ("warm, computed", server_computed, computed, 100.0),
            ("warm, result kept", server_kept, kept, 100.0),
            ("not modified (304)", server_unchanged, unchanged, 100.0),
        ])  # fmt: skip
        steps = _steps(url, args.steps)
    _print_steps(f"SQLite, median of {args.steps} in-process runs", steps)
    if args.postgres:
        steps = _postgres_steps(args.postgres, document, args.steps)
        _print_steps(f"PostgreSQL, median of {args.steps} in-process runs", steps)
    print(f"\nload average at the end: {load_average()}")


def _print_steps(title: str, steps: dict[str, float]) -> None:
    print(f"\nwhere the time goes ({title}):")
    for name, milliseconds in steps.items():
        print(f"  {name:<54}{milliseconds:>8.0f} ms")


def _print_table(
    args: argparse.Namespace,
    document: dict[str, Any],
    path: str,
    ingest: float,
    load_before: str,
    rows: list[tuple[str, list[float], list[float], float]],
) -> None:
    events = len(document["events"])
    print(
        f"one patient, {args.days} days, 7 vital signs every {args.vitals_every_minutes} min: "
        f"{events:,} events; ingest {ingest:.1f} s; GET {path} (all scales)"
    )
    print(f"load average before: {load_before}")
    print(f"load average after:  {load_average()}")
    print()
    print(f"| {'path':<26} | {'n':>5} | {'server ms p50 / p95 / p99':>24} "
          f"| {'client ms p50 / p95 / p99':>24} | {'p95 target ms':<14} |")  # fmt: skip
    print(f"|{'-' * 28}|{'-' * 7}|{'-' * 26}|{'-' * 26}|{'-' * 16}|")
    for name, server, client, target in rows:
        if server:
            print(_row(name, server, client, target))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
