"""One cohort shard read and graded in a fresh process: peak RSS and seconds, step by step.

Issue 16's target "peak memory <= 0.5 GB per worker at any cohort size": a ``cohort grade``
worker holds one shard at a time, so its peak is one shard's read (``read_shard``: the
validated frames and the ingest report) and grading (``grade_in_batches``).  Each measurement
runs in a process of its own, so the peaks do not mix:

- ``imports``: the interpreter with crswatch's reader and cohort kernel imported (the floor);
- ``read``: ``read_shard`` of the shard (peak RSS of the process, wall and CPU seconds);
- ``read + grade``: as ``grade_source``: ``read_shard`` for the kernel's events (decision 0083,
  where the tree can), then ``grade_in_batches`` on every scale (``--scale`` for one);
- ``grade alone``: the frames read in a first process and written to a temporary Parquet
  file, loaded here and graded, so the grading's own peak is seen without the reader's.

``--before DIR`` runs every measurement also against another tree's ``src`` (``PYTHONPATH``),
interleaved with this tree's, for before/after figures in one run; ``--chunks`` and
``--batches`` compare the reader's chunk size (``crswatch.io._frames.CHUNK_EVENTS``) and the
grading batch size (``crswatch.cohort._shard.BATCH_EVENTS``).  Each process sets up Polars'
allocator as ``crswatch cohort grade`` does (one arena, decision 0075) unless ``--allocator
default``.

    python bench/bench_shard_memory.py [SHARD_DIR] [--shard 0] [--repeat 2] [--before DIR]
    python bench/bench_shard_memory.py --chunks 1e5,2e5 --batches 5e5,1e6

``SHARD_DIR`` defaults to the issue's cohort (``bench/bench_cohort.py`` generates it into
``/tmp/crswatch-bench``).  Prints a table and the load average; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT = Path("/tmp/crswatch-bench/cohort-300p-seed1-5m-shard50")

_CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

mode, root, shard, scales, frames, chunk, batch, allocator = sys.argv[1:9]
scales = None if scales == "all" else scales.split(",")
if allocator == "cohort":
    try:  # as `crswatch cohort grade` and its workers (decision 0075); absent in older trees
        from crswatch._runtime import use_cohort_runtime
        use_cohort_runtime()
    except ImportError:
        pass
import polars as pl
import crswatch
from crswatch.io import _frames
from crswatch.cohort import _shard
from crswatch.cohort._shard import grade_in_batches
if chunk != "default":
    _frames.CHUNK_EVENTS = int(chunk)
if batch != "default":
    _shard.BATCH_EVENTS = int(batch)
from crswatch.cohort._sources import plan_shards, read_shard
from crswatch.state import StateParameters
params = StateParameters()
out = {"src": str(Path(crswatch.__file__).parents[1]), "imports_mb": peak_mb()}
source = plan_shards(Path(root), shard_size=50)[int(shard)]
if mode == "grade":
    events = pl.read_parquet(frames + ".events")
    patients = pl.read_parquet(frames + ".patients")
    out["loaded_mb"] = peak_mb()
    out["loaded_rss_mb"] = rss_mb()
else:
    options = {}
    if mode == "both":
        try:  # as grade_source: for the kernel's events (decision 0083); absent in older trees
            from crswatch.state import UNREAD_ITEMS
            options = {"unread_items": UNREAD_ITEMS}
        except ImportError:
            pass
    cpu0, wall0 = cpu(), time.perf_counter()
    read = read_shard(source, **options)
    out["read_s"], out["read_cpu_s"] = time.perf_counter() - wall0, cpu() - cpu0
    out["read_mb"] = peak_mb()
    out["read_rss_mb"] = rss_mb()
    patients, events = read.patients, read.events
    out["events"] = events.height
    out["frame_mb"] = events.estimated_size() / 1e6
    out["rejected"] = read.report.events_rejected
    if mode == "write":
        events.write_parquet(frames + ".events")
        patients.write_parquet(frames + ".patients")
if mode in ("grade", "both"):
    cpu0, wall0 = cpu(), time.perf_counter()
    if mode == "both":
        try:  # as grade_source: only the kernel's events kept while grading (decision 0075)
            from crswatch.cohort._kernel import kernel_events
            counts = getattr(read, "event_counts", None)
            if counts is None:
                events = kernel_events(events)
            else:
                events = kernel_events(events, counts=counts)
            del read
        except ImportError:
            pass
    tables = grade_in_batches(
        patients, events, scales=scales, params=params, shard=int(shard),
        batch_events=_shard.BATCH_EVENTS,
    )
    out["grade_s"], out["grade_cpu_s"] = time.perf_counter() - wall0, cpu() - cpu0
out["peak_mb"] = peak_mb()
print(json.dumps(out))
"""


def _run(side: Side, mode: str, args: argparse.Namespace, frames: str) -> dict[str, Any]:
    env = dict(os.environ)
    if side.src is not None:
        env["PYTHONPATH"] = str(side.src)
    command = [sys.executable, "-c", _CHILD, mode, str(args.root), str(args.shard), args.scale]
    command += [frames, side.chunk, side.batch, args.allocator]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@dataclass(frozen=True)
class Side:
    """One tree (``src``: another tree's, or this one) with its chunk and batch sizes."""

    name: str
    src: Path | None
    chunk: str = "default"
    batch: str = "default"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--scale", default="all", help="comma-separated scales, or all")
    parser.add_argument("--before", type=Path, help="another tree: its src is measured too")
    parser.add_argument(
        "--chunks", default="default", help="reader chunk sizes (events) to compare, e.g. 1e5,2e5"
    )
    parser.add_argument(
        "--batches", default="default", help="grading batch sizes (events), e.g. 5e5,1e6"
    )
    parser.add_argument(
        "--allocator",
        choices=("cohort", "default"),
        default="cohort",
        help="Polars' allocator options: the cohort command's (one arena), or Polars' defaults",
    )
    args = parser.parse_args()
    sides = [Side("before", args.before / "src")] if args.before is not None else []
    for chunk in args.chunks.split(","):
        for batch in args.batches.split(","):
            chunk_size = chunk if chunk == "default" else str(int(float(chunk)))
            batch_size = batch if batch == "default" else str(int(float(batch)))
            label = f"after (chunk {chunk_size}, batch {batch_size})"
            sides.append(Side(label, None, chunk_size, batch_size))
    print(f"load average before: {os.getloadavg()}", flush=True)
    rows: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(args.repeat):
            for position, side in enumerate(sides):
                frames = f"{tmp}/{position}"
                read = _run(side, "write", args, frames)
                both = _run(side, "both", args, frames)
                alone = _run(side, "grade", args, frames)
                rows[side.name].append({"read": read, "both": both, "grade": alone})
                print(f"run {number + 1} {side.name}: {read['src']}", flush=True)
    print(f"load average after: {os.getloadavg()}")
    print()
    print(
        "| side | events | frame MB | imports MB | read s (CPU s) | peak after read MB "
        "| read + grade: peak MB | grade s (CPU s) | grade alone: peak MB (RSS, frames loaded) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, runs in rows.items():
        for run in runs:
            read, both, alone = run["read"], run["both"], run["grade"]
            print(
                f"| {name} | {read['events']:,} | {read['frame_mb']:.0f} "
                f"| {read['imports_mb']:.0f} "
                f"| {read['read_s']:.2f} ({read['read_cpu_s']:.2f}) | {read['read_mb']:.0f} "
                f"| {both['peak_mb']:.0f} | {both['grade_s']:.2f} ({both['grade_cpu_s']:.2f}) "
                f"| {alone['peak_mb']:.0f} ({alone['loaded_rss_mb']:.0f}) |"
            )


if __name__ == "__main__":
    main()
