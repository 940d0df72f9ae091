"""Run the DuckDB ASTCT 2019 reference (``bench/duckdb_astct.sql``) over Parquet table pairs.

    python bench/_duckdb_astct.py COHORT_DIR --out trajectory.parquet [--threads N]

``grade_astct`` returns the grade at every evaluation time as a Polars frame (``patient_id, at,
grade, status, lower, upper``; the test compares it with ours).  The command line writes the
change points only, as ``cohort grade`` writes its trajectory, and prints one JSON line (events,
times, rows, seconds) so ``bench/bench_cohort.py`` can time it in a subprocess of its own.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb
import polars as pl

SQL = Path(__file__).with_name("duckdb_astct.sql")

#: The canonical unit of each item the reference reads: it converts nothing, so anything else
#: would be graded wrongly and is refused (crswatch converts; the simulator writes these).
CANONICAL_UNITS = {
    "temperature": "Cel",
    "sbp": "mm[Hg]",
    "norepinephrine": "ug/min",
    "epinephrine": "ug/min",
    "phenylephrine": "ug/min",
    "dopamine": "ug/kg/min",
    "vasopressin": "U/min",
    "o2_flow": "L/min",
}


def tables(root: Path, subfolder: str) -> str:
    """The Parquet files of one table (``events`` or ``patients``) of a cohort or one shard."""
    folder = root / subfolder
    return str(folder / "*.parquet") if folder.is_dir() else str(root / f"{subfolder}.parquet")


def connect(events: str, patients: str, *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the views the SQL reads, units checked."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"CREATE VIEW events_raw AS SELECT * FROM read_parquet('{events}')")
    con.execute(f"CREATE VIEW patients_raw AS SELECT * FROM read_parquet('{patients}')")
    wrong = con.execute(
        "SELECT item, unit, count(*) FROM events_raw WHERE item IN ? "
        "GROUP BY ALL HAVING NOT list_contains(?, item || '|' || coalesce(unit, ''))",
        [
            list(CANONICAL_UNITS),
            [f"{item}|{unit}" for item, unit in CANONICAL_UNITS.items()],
        ],
    ).fetchall()
    if wrong:
        raise ValueError(f"units the DuckDB reference cannot read (item, unit, events): {wrong}")
    return con


def grade_astct(
    events: str, patients: str, *, threads: int | None = None
) -> tuple[pl.DataFrame, int]:
    """ASTCT 2019 CRS grades at every evaluation time, and the number of events read."""
    con = connect(events, patients, threads=threads)
    con.execute(SQL.read_text())
    grades = pl.from_arrow(
        con.sql(
            'SELECT patient_id, "at", grade, status, lower, upper FROM astct_grades '
            'ORDER BY patient_id, "at"'
        ).to_arrow_table()
    )
    (count,) = con.execute("SELECT count(*) FROM ev").fetchone() or (0,)
    con.close()
    assert isinstance(grades, pl.DataFrame)
    return grades, int(count)


def write_changes(
    events: str, patients: str, out: Path, *, threads: int | None = None
) -> tuple[int, int, int]:
    """Grade and write the change points only (as ``cohort grade``'s trajectory table) to ``out``.

    Returns the events read, the evaluation times graded and the trajectory rows written.
    """
    con = connect(events, patients, threads=threads)
    con.execute(SQL.read_text())
    con.execute(
        f"""
        COPY (
            SELECT patient_id, "at", 'crs' AS kind, 'astct2019' AS scale,
                   grade, status, lower, upper
            FROM (
                SELECT *, lag(status) OVER w AS s0, lag(lower) OVER w AS l0,
                       lag(upper) OVER w AS u0
                FROM astct_grades
                WINDOW w AS (PARTITION BY patient_id ORDER BY "at")
            )
            WHERE s0 IS NULL OR s0 <> status OR l0 <> lower OR u0 <> upper
        ) TO '{out}' (FORMAT parquet)
        """
    )
    counts = con.execute(
        f"SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM astct_grades), "
        f"(SELECT count(*) FROM read_parquet('{out}'))"
    ).fetchone()
    con.close()
    assert counts is not None
    return int(counts[0]), int(counts[1]), int(counts[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cohort", type=Path, help="a simulated cohort (events/, patients/)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, required=True, help="the trajectory, as Parquet")
    args = parser.parse_args()
    began = time.perf_counter()
    events, times, rows = write_changes(
        tables(args.cohort, "events"),
        tables(args.cohort, "patients"),
        args.out,
        threads=args.threads,
    )
    seconds = time.perf_counter() - began
    print(json.dumps({"events": events, "times": times, "rows": rows, "seconds": seconds}))


if __name__ == "__main__":
    main()
