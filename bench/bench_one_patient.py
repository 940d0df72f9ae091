"""One patient read from Parquet and graded on every scale, in process (issue #16's target).

    python bench/bench_one_patient.py [--days 30] [--every-minutes 5] [--repeat 30]

Writes the API benchmark's patient (``bench_api.patient_document``: seven vital signs every 5
minutes for 30 days, labs, ICE scores, a CRS course; 60,815 events) once as a Parquet table pair
in a temporary directory, then, ``--repeat`` times in this process: reads it with
``crswatch.io.read_table_frames`` (validated, canonical units) and grades it at its last event
on every CRS scale and ICANS with evidence (``crswatch.scales.grade_patient_frames``).  Prints
the median and p95 wall milliseconds of each step and of the two together against the 100 ms
target; the first run of the process is printed apart (imports and first use).  Asserts
nothing about time; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_api import patient_document


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--every-minutes", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    from crswatch.io import find_table_pairs, read_json_document, read_table_frames, write_path
    from crswatch.scales import grade_patient_frames

    with tempfile.TemporaryDirectory() as tmp:
        document = patient_document(args.days, args.every_minutes)
        timelines = read_json_document(document).timelines
        pair = find_table_pairs(write_path(timelines, Path(tmp) / "tables", to="parquet"))[0]
        steps: dict[str, list[float]] = {"read": [], "grade": [], "read + grade": []}
        events = 0
        for run in range(args.repeat + 1):
            began = time.perf_counter()
            read = read_table_frames(pair)
            read_at = time.perf_counter()
            grade_patient_frames(read.patients, read.events)
            done = time.perf_counter()
            events = read.events.height
            timings = {
                "read": read_at - began,
                "grade": done - read_at,
                "read + grade": done - began,
            }
            if run == 0:
                first = timings
                continue
            for name, seconds in timings.items():
                steps[name].append(seconds * 1000)
    print(f"one patient, {events:,} events; load average {os.getloadavg()[0]:.2f}")
    print(f"{'step':<14}{'first run':>12}{'median':>10}{'p95':>10}")
    for name, values in steps.items():
        print(
            f"{name:<14}{first[name] * 1000:>10.1f}ms{statistics.median(values):>8.1f}ms"
            f"{_p95(values):>8.1f}ms"
        )
    met = statistics.median(steps["read + grade"]) <= 100
    print(f"target: read + grade <= 100 ms: {'met' if met else 'missed'} (median)")


if __name__ == "__main__":
    main()
