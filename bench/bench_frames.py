"""Table reading throughput: the per-event Python path against the column-wise (Polars) reader.

Both read the same simulated shard into the frames the engines use, with full validation:
``read_table_pair`` + ``to_frames`` against ``read_table_frames``; their results are compared
before anything is printed.  Prints a table; asserts nothing about time (machines here are shared
and noisy: compare the rows of one run with each other, not with a fixed number).

    python bench/bench_frames.py [--patients 2000] [--seed 1] [--repeat 3] [--csv]

``--csv`` adds the same shard written as CSV (``crswatch convert --to csv``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from crswatch.io import (
    TablePair,
    find_table_pairs,
    read_table_frames,
    read_table_pair,
    write_tables,
)
from crswatch.simulate import write_cohort
from crswatch.timeline import IngestReport, Timeline, conversion_for, to_frames

Frames = tuple[pl.DataFrame, pl.DataFrame, IngestReport]


def _best(read: Callable[[], Frames], repeat: int) -> tuple[float, Frames]:
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = read()
        best = min(best, time.perf_counter() - began)
    assert result is not None
    return best, result


def _compare(pair: TablePair, repeat: int) -> tuple[int, float, float, list[Timeline]]:
    """Events read, seconds of each path (the vectorized one best of ``repeat``), timelines."""

    def python_path() -> Frames:
        result = read_table_pair(pair)
        timelines.extend(result.timelines)
        return (*to_frames(result.timelines), result.report)

    def vectorized_path() -> Frames:
        result = read_table_frames(pair)
        return result.patients, result.events, result.report

    timelines: list[Timeline] = []
    vectorized_path()  # compile the expressions' regular expressions once
    python_seconds, (patients, events, report) = _best(python_path, 1)
    vector_seconds, (got_patients, got_events, got_report) = _best(vectorized_path, repeat)
    assert_frame_equal(got_patients, patients)
    assert_frame_equal(got_events, events)
    assert got_report.to_dict() == report.to_dict()
    return report.events_read, python_seconds, vector_seconds, timelines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="best of N (vectorized path)")
    parser.add_argument("--csv", action="store_true", help="also the shard written as CSV")
    args = parser.parse_args()
    conversion_for("temperature", "[degF]")  # load the unit registry outside the timings
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cohort"
        write_cohort(root, args.patients, seed=args.seed, shard_size=args.patients)
        (pair,) = find_table_pairs(root)
        total, python_seconds, vector_seconds, timelines = _compare(pair, args.repeat)
        rows.append(("Parquet", total, python_seconds, vector_seconds))
        if args.csv:
            csv_pair = write_tables(timelines, Path(tmp) / "csv", suffix=".csv")
            del timelines
            total, python_seconds, vector_seconds, _ = _compare(csv_pair, args.repeat)
            rows.append(("CSV", total, python_seconds, vector_seconds))
    print(f"one simulated shard of {args.patients} patients; both paths give identical results")
    print(f"{'form':<9}{'path':<30}{'events':>10}{'seconds':>9}{'events/s':>12}{'speed-up':>10}")
    for form, total, python_seconds, vector_seconds in rows:
        for label, seconds in (
            ("read_table_pair + to_frames", python_seconds),
            ("read_table_frames (Polars)", vector_seconds),
        ):
            print(
                f"{form:<9}{label:<30}{total:>10}{seconds:>9.2f}{total / seconds:>12,.0f}"
                f"{python_seconds / seconds:>9.1f}x"
            )


if __name__ == "__main__":
    main()
