"""Instructions per bedside call, counted by callgrind: repeatable on a shared, noisy machine.

    python bench/bench_instructions.py [--before DIR] [--calls 3] [--days 30]

Wall and CPU seconds of one 100 ms call move by a fifth from run to run when other work shares
the cores; ``valgrind --tool=callgrind`` counts the instructions executed, which are the same
for the same inputs whatever else runs (one Polars thread, so no thread scheduling enters).
Writes the API benchmark's patient (``bench_api.patient_document``: 30 days, 5-minute vital
signs, 60,815 events) once as Parquet, then for each call runs the process under callgrind with
``--calls`` calls and with none: the difference divided by ``--calls`` is one call's count
(imports, reading and the first call's set-up cancel out).  ``--before DIR`` counts another
tree's ``src`` too (``PYTHONPATH``).  Needs valgrind (Debian package ``valgrind``); takes about
a minute per call and tree.  Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

#: What each measured call does, run in the child (``--child``).
CALLS = {
    "state": "clinical_state at the last event",
    "prepared": "prepared_state_at the last event (prepare_state once, untimed)",
    "grade": "grade_state, every scale, the state at the last event",
    "read": "read_table_frames of the Parquet pair",
    "all": "grade_patient_frames (state + grade, every scale)",
}


def _child(pair_dir: str, call: str, calls: int) -> None:
    import polars as pl

    from crswatch.io import find_table_pairs, read_table_frames
    from crswatch.scales import grade_patient_frames, grade_state
    from crswatch.state import StateParameters, clinical_state

    pair = find_table_pairs(Path(pair_dir))[0]
    read = read_table_frames(pair)
    params = StateParameters()
    last = pl.lit(read.events["time"].max()).cast(pl.Datetime("us", "UTC"))
    times = read.patients.select("patient_id", last.alias("at"))
    state = clinical_state(read.patients, read.events, times, params)
    grade_state(state, params=params)
    if call == "prepared":
        from crswatch.state import prepare_state, prepared_state_at

        prepared = prepare_state(read.patients, read.events, params)
        prepared_state_at(prepared, times)
    run = {
        "state": lambda: clinical_state(read.patients, read.events, times, params),
        "prepared": lambda: prepared_state_at(prepared, times),
        "grade": lambda: grade_state(state, params=params),
        "read": lambda: read_table_frames(pair),
        "all": lambda: grade_patient_frames(read.patients, read.events),
    }[call]
    for _ in range(calls):
        run()


def _instructions(src: Path, pair_dir: str, call: str, calls: int) -> int:
    environment = {**os.environ, "PYTHONPATH": str(src), "POLARS_MAX_THREADS": "1"}
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        pair_dir,
        call,
        str(calls),
    ]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count from callgrind: {done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another tree: its src is counted too")
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--only", nargs="+", choices=sorted(CALLS), default=list(CALLS))
    args = parser.parse_args()

    from bench_api import patient_document

    from crswatch.io import read_json_document, write_path

    trees = {"this tree": Path(__file__).resolve().parent.parent / "src"}
    if args.before is not None:
        trees = {"before": args.before.resolve() / "src", **trees}
    with tempfile.TemporaryDirectory() as tmp:
        timelines = read_json_document(patient_document(args.days, 5)).timelines
        pair_dir = str(write_path(timelines, Path(tmp) / "tables", to="parquet"))
        print(f"millions of instructions per call ({args.calls} calls minus none, callgrind)")
        print(f"| call | {' | '.join(trees)} |")
        print(f"|---|{'---:|' * len(trees)}")
        for call in args.only:
            if call == "prepared" and "before" in trees:
                counts = ["–"]  # a tree from before decision 0071 has no prepared state
                sources = [trees["this tree"]]
            else:
                counts, sources = [], list(trees.values())
            for src in sources:
                with_calls = _instructions(src, pair_dir, call, args.calls)
                without = _instructions(src, pair_dir, call, 0)
                counts.append(f"{(with_calls - without) / args.calls / 1e6:,.1f}")
            print(f"| {CALLS[call]} | {' | '.join(counts)} |")


if __name__ == "__main__":
    main()
