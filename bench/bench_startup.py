"""Command-line start-up against its references, side by side in one run (issue 16, point 5).

    python bench/bench_startup.py [--runs 15]

Targets: ``crswatch --help`` within 2x the time of ``python -c "import typer, rich"``, and
``crswatch scales`` within 2x of ``python -c "import typer, rich, polars"``.  Every run is a
fresh interpreter (``subprocess``), wall time from start to exit; the commands and their
references are interleaved run by run, so that a busy neighbour slows both alike.  Prints the
median and the spread of ``--runs`` runs of each, the ratio to its reference, met or missed,
and the load average before and after (the machine is shared: figures are comparable within
one run only).  Asserts nothing about time; ``tests/cli/test_startup.py`` checks, untimed,
that importing the command line loads none of the heavy libraries.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: The ratio each command must stay within against its reference.
TARGET_RATIO = 2.0


@dataclass(frozen=True, slots=True)
class Case:
    label: str
    command: list[str]


@dataclass(frozen=True, slots=True)
class Pair:
    """A command and the reference it is measured against."""

    command: Case
    reference: Case


def _crswatch() -> list[str]:
    """The installed console script beside this interpreter, else the same entry point."""
    script = Path(sys.executable).with_name("crswatch")
    if script.exists():
        return [str(script)]
    found = shutil.which("crswatch")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from crswatch.cli import main; sys.exit(main())"]


def _pairs() -> list[Pair]:
    python = sys.executable
    crswatch = _crswatch()
    return [
        Pair(
            Case("crswatch --help", [*crswatch, "--help"]),
            Case('python -c "import typer, rich"', [python, "-c", "import typer, rich"]),
        ),
        Pair(
            Case("crswatch scales", [*crswatch, "scales"]),
            Case(
                'python -c "import typer, rich, polars"',
                [python, "-c", "import typer, rich, polars"],
            ),
        ),
    ]


def _time(case: Case) -> float:
    started = time.perf_counter()
    done = subprocess.run(case.command, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"{case.label} exited {done.returncode}: {done.stderr.decode(errors='replace')}"
        )
    return elapsed


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min; {os.cpu_count()} CPUs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (median)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs={args.runs!r} must be at least 1")
    pairs = _pairs()
    load_before = _load()
    # One warm-up of each: the first start reads the files from disk and writes the bytecode.
    for pair in pairs:
        _time(pair.command)
        _time(pair.reference)
    times: dict[str, list[float]] = {}
    for _ in range(args.runs):
        for pair in pairs:
            for case in (pair.reference, pair.command):
                times.setdefault(case.label, []).append(_time(case))
    load_after = _load()

    def cell(label: str) -> str:
        values = times[label]
        median = statistics.median(values) * 1000
        return f"{median:7.0f} ms ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"

    python = sys.version.split()[0]
    print(f"Start-up, median of {args.runs} fresh processes each (min-max); Python {python}")
    print(f"load average before: {load_before}")
    print()
    columns = (
        f"{'command':<18}",
        f"{'median (min-max)':<24}",
        f"{'reference':<40}",
        f"{'median (min-max)':<24}",
        "ratio",
        "target",
        "result",
    )
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("-" * (len(column) + 2) for column in columns) + "|")
    for pair in pairs:
        ratio = statistics.median(times[pair.command.label]) / statistics.median(
            times[pair.reference.label]
        )
        verdict = "met" if ratio <= TARGET_RATIO else "missed"
        print(
            f"| {pair.command.label:<18} | {cell(pair.command.label):<24} | "
            f"{pair.reference.label:<40} | {cell(pair.reference.label):<24} | "
            f"{ratio:5.2f} | <= {TARGET_RATIO:g}x | {verdict:<6} |"
        )
    print()
    print(f"load average after:  {load_after}")


if __name__ == "__main__":
    main()
