"""One patient from Parquet: crswatch's validated read against a plain ``polars.read_parquet``.

Issue 16 point 4 ("a reader at the speed of Parquet").  The patient is the service benchmark's
(``bench_api.patient_document``: 30 days, seven vital signs every 5 minutes, daily labs; 60,815
events) written as a Parquet table pair, and the same record with every temperature charted in
[degF] (a non-canonical unit, so the unit registry and the conversion run).  ``--simulated``
adds a patient of ``crswatch simulate --therapy car_t --vitals-every 5m``.

Rows, each timed ``--repeat`` times in this process after one untimed read (median and p95):

- ``polars.read_parquet``: both files of the pair read into frames, nothing checked (the floor);
- ``read_table_frames``: crswatch's column-wise reader: every check of the data contract, units,
  conflicts, and the frames the engines use;
- ``read_path``: the same pair read into ``Timeline`` objects (one Python object per event),
  ``--path-repeat`` times;
- ``first read in a new process``: ``read_table_frames`` once in a fresh interpreter (after its
  imports), ``--cold`` processes: what a CLI command or a worker pays for its first patient.

Prints a table and the load average; asserts nothing about time (shared, noisy machine: compare
the rows of one run with each other).

    python bench/bench_reader.py [--repeat 30] [--path-repeat 3] [--cold 5] [--simulated]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from crswatch.io import (
    EVENT_SCHEMA,
    find_table_pairs,
    read_json_document,
    read_path,
    read_table_frames,
    timelines_to_tables,
)

_COLD = """
import sys, time
from pathlib import Path
from crswatch.io import find_table_pairs, read_table_frames
(pair,) = find_table_pairs(Path(sys.argv[1]))
began = time.perf_counter()
read_table_frames(pair)
print(time.perf_counter() - began)
"""


def _bench_api() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_api", Path(__file__).with_name("bench_api.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _in_fahrenheit(document: dict[str, Any]) -> dict[str, Any]:
    events = []
    for event in document["events"]:
        if event["item"] == "temperature":
            event = {**event, "unit": "[degF]", "value": round(event["value"] * 9 / 5 + 32, 2)}
        events.append(event)
    return {**document, "events": events}


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _write(document: dict[str, Any], directory: Path) -> Path:
    """The document as a Parquet table pair of the contract's schema (values as charted, units
    as given: the form ``crswatch simulate`` and ``crswatch convert --to parquet`` write)."""
    timelines = read_json_document(document, "bench").timelines
    patients = timelines_to_tables(timelines)[0]
    rows = [
        {
            "patient_id": document["patient"]["id"],
            "time": _instant(event["time"]),
            "item": event["item"],
            "value": str(event["value"]),
            "unit": event.get("unit"),
            "end": _instant(event.get("end")),
        }
        for event in document["events"]
    ]
    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(patients, directory / "patients.parquet")
    pq.write_table(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA), directory / "events.parquet")
    return directory


def _timed(read: Callable[[], object], repeat: int) -> list[float]:
    read()  # compile the expressions, warm the caches
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        read()
        seconds.append(time.perf_counter() - began)
    return seconds


def _cold(directory: Path, runs: int) -> list[float]:
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", _COLD, str(directory)],
                check=True,
                capture_output=True,
                text=True,
                env=os.environ,
            ).stdout
        )
        for _ in range(runs)
    ]


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--path-repeat", type=int, default=3)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--simulated", action="store_true")
    args = parser.parse_args()
    bench_api = _bench_api()
    document = bench_api.patient_document(30, 5)
    rows: list[tuple[str, int, str, list[float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {
            "30 d, canonical units": _write(document, Path(tmp) / "canonical"),
            "30 d, temperatures in [degF]": _write(_in_fahrenheit(document), Path(tmp) / "degf"),
        }
        if args.simulated:
            from crswatch.simulate import write_cohort

            simulated = Path(tmp) / "simulated"
            write_cohort(simulated, 1, seed=1, therapy="car_t", vitals_every=timedelta(minutes=5))
            inputs["simulated car_t, 5 min"] = simulated
        for label, directory in inputs.items():
            (pair,) = find_table_pairs(directory)
            result = read_table_frames(pair)
            assert result.report.ok, result.report.issues[:3]
            events = result.events.height
            rows.append(
                (
                    label,
                    events,
                    "polars.read_parquet (both files)",
                    _timed(
                        lambda p=pair: (pl.read_parquet(p.patients), pl.read_parquet(p.events)),
                        args.repeat,
                    ),
                )
            )
            rows.append(
                (
                    label,
                    events,
                    "read_table_frames",
                    _timed(lambda p=pair: read_table_frames(p), args.repeat),
                )
            )
            rows.append(
                (
                    label,
                    events,
                    "read_path (Timeline objects)",
                    _timed(lambda d=directory: read_path(d), args.path_repeat),
                )
            )
            if args.cold:
                rows.append(
                    (label, events, "first read in a new process", _cold(directory, args.cold))
                )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores")
    print(f"{'patient':<30}{'events':>8}  {'reader':<34}{'runs':>5}{'median ms':>11}{'p95 ms':>9}")
    for label, events, reader, seconds in rows:
        print(
            f"{label:<30}{events:>8}  {reader:<34}{len(seconds):>5}"
            f"{statistics.median(seconds) * 1000:>11.1f}{_p95(seconds) * 1000:>9.1f}"
        )


if __name__ == "__main__":
    main()
