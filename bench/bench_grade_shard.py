"""Grading one cohort shard in process: CPU and wall seconds of ``grade_in_batches`` alone.

    python bench/bench_grade_shard.py COHORT [--shard 0] [--repeat 3] [--scale astct2019]

Reads one shard of a cohort (``bench/bench_cohort.py`` generates the issue's cohort under
``/tmp/crswatch-bench``) once, untimed, then grades it ``--repeat`` times after one warm-up run
and prints one JSON line: the events, and the best CPU and wall seconds.  To compare two trees
side by side, run it alternately with ``PYTHONPATH`` on each tree's ``src`` (docs/benchmarks.md
§10): on a shared machine, CPU seconds of processes run back to back are the figure to read.
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from crswatch.cohort._shard import grade_in_batches
from crswatch.cohort._sources import plan_shards, read_shard
from crswatch.state import StateParameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cohort", type=Path)
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", action="append", default=None)
    args = parser.parse_args()
    read = read_shard(plan_shards(args.cohort)[args.shard])
    params = StateParameters()

    def grade() -> None:
        grade_in_batches(read.patients, read.events, scales=args.scale, params=params, shard=0)

    grade()
    cpu, wall = [], []
    for _ in range(args.repeat):
        began_cpu, began = time.process_time(), time.perf_counter()
        grade()
        cpu.append(time.process_time() - began_cpu)
        wall.append(time.perf_counter() - began)
    record = {"events": read.events.height, "cpu_s": round(min(cpu), 3)}
    record["wall_s"] = round(min(wall), 3)
    print(json.dumps(record))


if __name__ == "__main__":
    main()
