"""Cohort grading: ``cohort grade`` on every scale against DuckDB SQL and a pandas loop (ASTCT).

    python bench/bench_cohort.py                      # the full run: 2,000 patients, 5-min vitals
    python bench/bench_cohort.py --patients 200 --pandas-patients 5 --memory-patients 0  # quick
    python bench/bench_cohort.py --memory-only --memory-patients 4000   # the memory run alone

Prints a table; asserts nothing about time (machines here are shared and noisy: compare the rows
of one run with each other, not with a fixed number).  Each measurement runs in a subprocess of
its own, so memory does not mix: seconds are the work inside it (reading the Parquet shards,
grading, writing the results; not the interpreter's start), peak RSS is the largest sum of the
resident memory of the subprocess and its children, sampled every 0.2 s.

- **ours**: ``crswatch.cohort.grade_cohort`` (every CRS scale and ICANS: trajectory, episodes,
  peaks, treatments, labs), with 1 and 2 worker processes.
- **DuckDB**: ``bench/duckdb_astct.sql``, ASTCT 2019 CRS only, writing its change points as our
  trajectory table; 1 thread and DuckDB's default (every core).  Its grades equal ours
  (``tests/bench/test_duckdb_reference.py``; this script checks the trajectory again).
- **pandas**: ``bench/_pandas_astct.py``, ASTCT only, per patient and per evaluation time, on
  the first ``--pandas-patients`` patients; its events per second extrapolate to the cohort.
- **memory**: ``cohort grade`` on a larger cohort (``--memory-patients``, about 28,000 events per
  patient at 5-minute vitals) for the 100-million-event memory target.

Cohorts are generated once (not timed) and kept under ``--cache``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

BENCH = Path(__file__).resolve().parent
#: The vital signs the simulator charts at every slot (crswatch.simulate._vitals).
VITALS = ("temperature", "heart_rate", "sbp", "dbp", "map", "resp_rate", "spo2")


@dataclass(frozen=True, slots=True)
class Measured:
    label: str
    scales: str
    events: int
    seconds: float
    peak_mb: float
    extra: dict[str, Any]

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def _interval(text: str) -> timedelta:
    units = {"m": "minutes", "h": "hours"}
    return timedelta(**{units[text[-1]]: float(text[:-1])})


def _cohort(cache: Path, patients: int, seed: int, every: str, shard_size: int) -> Path:
    """The simulated cohort, generated on first use (generation is not part of any timing)."""
    from crswatch.simulate import write_cohort

    root = cache / f"cohort-{patients}p-seed{seed}-{every}-shard{shard_size}"
    if not (root / "manifest.json").exists():
        print(f"generating {root} (once; not timed) ...", flush=True)
        if root.exists():
            raise SystemExit(f"{root} is incomplete: remove it and run again")
        write_cohort(
            root, patients, seed=seed, shard_size=shard_size, vitals_every=_interval(every)
        )
    return root


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (kB), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces; the parent pid follows the closing parenthesis.
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _measure(label: str, scales: str, command: list[str]) -> Measured:
    """Run ``command``; its last stdout line is JSON with ``events`` and ``seconds``."""
    print(f"running {label} ...", flush=True)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kb(process.pid))
        time.sleep(0.2)
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"{label} failed ({process.returncode}): {' '.join(command)}")
    result = json.loads(output.strip().splitlines()[-1])
    return Measured(label, scales, result["events"], result["seconds"], peak / 1024, result)


def _ours(cohort: Path, out: Path, workers: int) -> list[str]:
    return [sys.executable, __file__, "--child-ours", str(cohort), str(out), str(workers)]


def _child_ours(cohort: Path, out: Path, workers: int) -> None:
    from crswatch.cohort import grade_cohort

    began = time.perf_counter()
    summary = grade_cohort(cohort, out, workers=workers, overwrite=True)
    seconds = time.perf_counter() - began
    shards = len(summary.graded)
    print(json.dumps({"events": summary.events, "seconds": seconds, "shards": shards}))


def _same_trajectory(ours: Path, duckdb: Path) -> tuple[bool, int]:
    """Whether the DuckDB trajectory equals our ASTCT CRS trajectory, and its rows."""
    columns = ["patient_id", "at", "grade", "status", "lower", "upper"]
    mine = (
        pl.scan_parquet(ours / "trajectory" / "*.parquet")
        .filter((pl.col("scale") == "astct2019") & (pl.col("kind") == "crs"))
        .select(columns)
        .collect()
        .sort("patient_id", "at")
    )
    theirs = pl.read_parquet(duckdb).select(columns).sort("patient_id", "at")
    cast = [pl.col(c).cast(pl.Int32) for c in ("grade", "lower", "upper")]
    return mine.with_columns(cast).equals(theirs.with_columns(cast)), theirs.height


def _composition(cohort: Path) -> dict[str, Any]:
    manifest = json.loads((cohort / "manifest.json").read_text())
    events = pl.scan_parquet(cohort / "events" / "*.parquet")
    counts = dict(
        events.select(
            pl.col("item").is_in(VITALS).sum().alias("vitals"),
            (pl.col("item") == "temperature").sum().alias("slots"),
        )
        .collect()
        .row(0, named=True)
    )
    days = (
        events.group_by("patient_id")
        .agg(((pl.col("time").max() - pl.col("time").min()).dt.total_hours() / 24).alias("d"))
        .select(pl.col("d").sum().alias("days"), pl.col("d").median().alias("median"))
        .collect()
        .row(0, named=True)
    )
    return {
        "patients": manifest["n"],
        "events": manifest["counts"]["events"],
        "shards": len(manifest["shards"]),
        **counts,
        **days,
    }


def _print_table(rows: list[Measured], duckdb_best: float) -> None:
    head = f"{'engine':<38}{'scales':<14}{'events':>12}{'seconds':>9}{'events/s':>12}"
    print(head + f"{'peak RSS MB':>13}{'vs DuckDB':>11}")
    for row in rows:
        ratio = row.seconds / duckdb_best
        print(
            f"{row.label:<38}{row.scales:<14}{row.events:>12,}{row.seconds:>9.1f}"
            f"{row.rate:>12,.0f}{row.peak_mb:>13,.0f}{ratio:>10.2f}x"
        )


def _memory_report(memory: Measured, shape: dict[str, Any]) -> None:
    per_shard = memory.events / shape["shards"]
    print(
        f"memory: {memory.events:,} events ({shape['patients']:,} patients, {shape['shards']} "
        f"shards of about {per_shard:,.0f} events) graded with a peak RSS of "
        f"{memory.peak_mb:,.0f} MB in {memory.seconds:,.0f} s "
        f"(target < 4 GB for 100 M events: {'met' if memory.peak_mb < 4096 else 'MISSED'}"
        f"{'' if memory.events >= 100_000_000 else '; fewer than 100 M events measured'})"
    )


def _memory_only(args: argparse.Namespace) -> None:
    big = _cohort(args.cache, args.memory_patients, args.seed, args.vitals_every, args.shard_size)
    with tempfile.TemporaryDirectory(dir=args.cache) as tmp:
        memory = _measure(
            f"cohort grade, {args.memory_patients} patients, 1 worker",
            "9 CRS + ICANS",
            _ours(big, Path(tmp) / "memory.parquet", 1),
        )
    _memory_report(memory, _composition(big))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--vitals-every", default="5m", help="e.g. 5m, 30m, 4h")
    parser.add_argument("--shard-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pandas-patients", type=int, default=20)
    parser.add_argument("--memory-patients", type=int, default=4000, help="0 skips the memory run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--memory-only", action="store_true", help="only the memory run")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/crswatch-bench"))
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.memory_only:
        _memory_only(args)
        return
    cohort = _cohort(args.cache, args.patients, args.seed, args.vitals_every, args.shard_size)
    shape = _composition(cohort)
    rows: list[Measured] = []
    with tempfile.TemporaryDirectory(dir=args.cache) as tmp:
        work = Path(tmp)
        duckdb_script = str(BENCH / "_duckdb_astct.py")
        for threads in (1, None):
            out = work / f"duckdb-{threads}.parquet"
            command = [sys.executable, duckdb_script, str(cohort), "--out", str(out)]
            label = "DuckDB SQL, 1 thread" if threads else "DuckDB SQL, default threads"
            if threads:
                command += ["--threads", str(threads)]
            rows.append(_measure(label, "ASTCT CRS", command))
        for workers in args.workers:
            out = work / f"ours-{workers}.parquet"
            label = f"crswatch cohort grade, {workers} worker{'s' if workers > 1 else ''}"
            rows.append(_measure(label, "9 CRS + ICANS", _ours(cohort, out, workers)))
        same, trajectory_rows = _same_trajectory(
            work / f"ours-{args.workers[0]}.parquet", work / "duckdb-None.parquet"
        )
        pandas = _measure(
            f"pandas loop, {args.pandas_patients} patients",
            "ASTCT CRS",
            [
                sys.executable,
                str(BENCH / "_pandas_astct.py"),
                str(cohort),
                "--patients",
                str(args.pandas_patients),
            ],
        )
        memory: Measured | None = None
        big_shape: dict[str, Any] | None = None
        if args.memory_patients:
            big = _cohort(
                args.cache, args.memory_patients, args.seed, args.vitals_every, args.shard_size
            )
            memory = _measure(
                f"cohort grade, {args.memory_patients} patients, 1 worker",
                "9 CRS + ICANS",
                _ours(big, work / "memory.parquet", 1),
            )
            big_shape = _composition(big)
    duckdb_best = min(row.seconds for row in rows if row.label.startswith("DuckDB"))
    ours_best = min(row.seconds for row in rows if row.label.startswith("crswatch"))
    pandas_seconds = pandas.seconds / pandas.events * shape["events"]
    extrapolated = Measured(
        "pandas loop, extrapolated per event",
        "ASTCT CRS",
        shape["events"],
        pandas_seconds,
        float("nan"),
        {},
    )
    print()
    print(
        f"cohort: {shape['patients']:,} patients in {shape['shards']} shards, "
        f"{shape['days']:,.0f} patient-days (median record {shape['median']:.1f} days), "
        f"vital signs every {args.vitals_every}: {shape['slots']:,} vital-sign sets of "
        f"{len(VITALS)} = {shape['vitals']:,} vital-sign events; {shape['events']:,} events "
        "in all (with labs, cytokines, drugs, infusions, devices, neurology)"
    )
    _print_table([*rows, pandas, extrapolated], duckdb_best)
    print()
    print(f"DuckDB trajectory equals our ASTCT CRS trajectory: {same} ({trajectory_rows:,} rows)")
    ratio = ours_best / duckdb_best
    speedup = pandas_seconds / ours_best
    print(
        f"ours (all scales, best) / DuckDB (ASTCT only, best): {ratio:.2f}x "
        f"(target <= 2x: {'met' if ratio <= 2 else 'MISSED'})"
    )
    print(
        f"ours vs the pandas loop (extrapolated): {speedup:,.0f}x faster "
        f"(target >= 50x: {'met' if speedup >= 50 else 'MISSED'})"
    )
    if memory is not None and big_shape is not None:
        _memory_report(memory, big_shape)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child-ours":
        _child_ours(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
