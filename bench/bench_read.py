"""Reading throughput: events per second through full validation, per input form.

Prints a table; asserts nothing about time (machines here are shared and noisy: compare the
rows of one run with each other, not with a fixed number).

    python bench/bench_read.py [--patients 200] [--events 500]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crswatch.io import read_json_document, read_path, write_path

ITEMS = [
    ("temperature", 37.0, "Cel"),
    ("temperature", 99.0, "[degF]"),
    ("sbp", 110.0, "mm[Hg]"),
    ("heart_rate", 90.0, "/min"),
    ("crp", 5.0, "mg/dL"),
    ("norepinephrine", 0.05, "ug/kg/min"),
    ("creatinine", 80.0, "umol/L"),
]


def _document(index: int, events: int) -> dict[str, Any]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(events):
        item, value, unit = ITEMS[n % len(ITEMS)]
        moment = start + timedelta(minutes=10 * n)
        rows.append({"time": moment.isoformat(), "item": item, "value": value, "unit": unit})
    return {
        "format": "crswatch.timeline/1",
        "patient": {
            "id": f"P{index:06d}",
            "age_years": 50,
            "weight_kg": 70.0,
            "therapy": {"kind": "car_t", "start": start.isoformat()},
        },
        "events": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--events", type=int, default=500)
    args = parser.parse_args()
    documents = [_document(i, args.events) for i in range(args.patients)]
    timelines = read_json_document(documents, "bench").timelines
    total = args.patients * args.events
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        json_path = Path(tmp) / "cohort.json"
        json_path.write_text(json.dumps(documents))
        forms = {
            "json (mixed units)": json_path,
            "csv (canonical)": write_path(timelines, Path(tmp) / "csv", to="csv"),
            "parquet (canonical)": write_path(timelines, Path(tmp) / "pq", to="parquet"),
        }
        for label, path in forms.items():
            began = time.perf_counter()
            result = read_path(path)
            seconds = time.perf_counter() - began
            assert result.report.ok
            rows.append((label, total, seconds, total / seconds))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'form':<22}{'events':>10}{'seconds':>10}{'events/s':>12}")
    for label, events, seconds, rate in rows:
        print(f"{label:<22}{events:>10}{seconds:>10.2f}{rate:>12.0f}")
    print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
