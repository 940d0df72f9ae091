"""Benchmark the synthetic cohort generator (no assertions on time; read the table).

    python bench/bench_simulate.py [--patients 2000] [--shard-size 1000] [--seed 1]

Times the Parquet shard writer (the path a 100,000-patient cohort takes), the JSON writer and the
one-patient ``simulate_patient`` path on a smaller count, and prints patients/s, events/s and the
process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from crswatch.simulate import CohortManifest, simulate_patient, write_cohort


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _timed(run: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    events = run()
    return time.perf_counter() - start, events


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    n = arguments.patients
    rows: list[tuple[str, int, float, int]] = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)

        def parquet() -> int:
            manifest: CohortManifest = write_cohort(
                root / "cohort", n, seed=arguments.seed, shard_size=arguments.shard_size
            )
            return manifest.n_events

        seconds, events = _timed(parquet)
        rows.append(
            (f"write_cohort -> Parquet shards of {arguments.shard_size}", n, seconds, events)
        )
        small = max(1, n // 10)

        def json_file() -> int:
            return write_cohort(root / "cohort.json", small, seed=arguments.seed).n_events

        seconds, events = _timed(json_file)
        rows.append(("write_cohort -> JSON", small, seconds, events))

        def one_by_one() -> int:
            return sum(
                len(simulate_patient(index, seed=arguments.seed).events) for index in range(small)
            )

        seconds, events = _timed(one_by_one)
        rows.append(("simulate_patient (validated Timeline)", small, seconds, events))

    print(f"{'path':44} {'patients':>9} {'seconds':>8} {'patients/s':>11} {'events/s':>10}")
    for name, patients, seconds, events in rows:
        rate, event_rate = patients / seconds, events / seconds
        print(f"{name:44} {patients:9d} {seconds:8.2f} {rate:11.0f} {event_rate:10.0f}")
    print(f"peak RSS {_peak_rss_mb():.0f} MB; {rows[0][3] / n:.0f} events per patient")


if __name__ == "__main__":
    main()
