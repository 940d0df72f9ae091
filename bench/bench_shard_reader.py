"""One cohort shard read (``read_shard``): CPU and wall seconds, this tree against another.

Issue 16 point 4 ("a reader at the speed of Parquet"), decision 0072.  Each side runs in a
process of its own (``PYTHONPATH`` to its ``src``), the sides alternating ``--rounds`` times;
each process reads the shard once untimed (imports, caches) and then ``--repeat`` times, timed
with ``time.process_time()`` (every thread's CPU) and ``time.perf_counter()``.  The frames and
report of the last read are hashed, so the table also says whether both sides read the same
thing.  ``--threads N`` sets ``POLARS_MAX_THREADS`` (1: CPU without the thread pool's idle
spinning, which a loaded machine inflates).  ``polars.read_parquet`` of the events file is
timed the same way, as the floor.  ``--kernel`` reads as ``cohort grade`` reads a shard, for
the events its kernel reads (decision 0083).

    python bench/bench_shard_reader.py --before /work/main [SHARD_DIR] [--shard 0]
        [--rounds 2] [--repeat 5] [--threads 1] [--kernel]

``SHARD_DIR`` defaults to the issue's cohort (``bench/bench_cohort.py`` generates it into
``/tmp/crswatch-bench``).  Prints a table and the load average; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

DEFAULT = Path("/tmp/crswatch-bench/cohort-300p-seed1-5m-shard50")

_CHILD = r"""
import hashlib, json, sys, time
from pathlib import Path
import polars as pl
import crswatch
from crswatch.cohort._sources import plan_shards, read_shard

root, shard, repeat = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
source = plan_shards(root, shard_size=50)[shard]
options = {}
if sys.argv[4] == "kernel":
    try:  # the read the cohort makes (decision 0083); absent in older trees
        from crswatch.state import UNREAD_ITEMS
        options = {"unread_items": UNREAD_ITEMS}
    except ImportError:
        pass
read_shard(source, **options)
cpus, walls, floor = [], [], []
for _ in range(repeat):
    cpu, wall = time.process_time(), time.perf_counter()
    result = read_shard(source, **options)
    cpus.append(time.process_time() - cpu)
    walls.append(time.perf_counter() - wall)
for _ in range(repeat):
    cpu = time.process_time()
    pl.read_parquet(source.pair.events)
    floor.append(time.process_time() - cpu)
digest = hashlib.sha256()
digest.update(result.events.hash_rows().to_numpy().tobytes())
digest.update(result.patients.hash_rows().to_numpy().tobytes())
digest.update(json.dumps(result.report.to_dict()).encode())
print(json.dumps({
    "src": str(Path(crswatch.__file__).parents[1]), "cpu": cpus, "wall": walls,
    "floor": floor, "events": result.events.height, "digest": digest.hexdigest()[:16],
}))
"""


def _run(src: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(src))
    if args.threads:
        env["POLARS_MAX_THREADS"] = str(args.threads)
    command = [sys.executable, "-c", _CHILD, str(args.root), str(args.shard), str(args.repeat)]
    command.append("kernel" if args.kernel else "whole")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, nargs="?", default=DEFAULT)
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--before", type=Path, required=True, help="the other tree")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="POLARS_MAX_THREADS (0: unset)")
    parser.add_argument(
        "--kernel",
        action="store_true",
        help="read as the cohort does: for the kernel's events (decision 0083; trees that "
        "cannot, read every event, and the digests then differ)",
    )
    args = parser.parse_args()
    sides = {"before": args.before / "src", "after": Path(__file__).parents[1] / "src"}
    print(f"load average before: {os.getloadavg()}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, src in sides.items():
            runs[name].append(_run(src, args))
    print(f"load average after: {os.getloadavg()}")
    threads = args.threads or "all"
    print()
    print(
        f"| side (Polars threads: {threads}) | events | digest "
        "| CPU s best (median) | wall s best | pl.read_parquet CPU s best |"
    )
    print("|---|---:|---|---:|---:|---:|")
    best: dict[str, float] = {}
    for name, results in runs.items():
        cpus = sorted(cpu for result in results for cpu in result["cpu"])
        walls = [wall for result in results for wall in result["wall"]]
        floor = min(cpu for result in results for cpu in result["floor"])
        best[name] = cpus[0]
        digests = {result["digest"] for result in results}
        print(
            f"| {name} | {results[0]['events']:,} | {', '.join(sorted(digests))} "
            f"| {cpus[0]:.3f} ({cpus[len(cpus) // 2]:.3f}) | {min(walls):.3f} | {floor:.3f} |"
        )
    print(f"\nafter / before, best CPU: {best['after'] / best['before']:.2f}")


if __name__ == "__main__":
    main()
