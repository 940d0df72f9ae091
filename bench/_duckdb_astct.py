"""Run a DuckDB ASTCT 2019 reference over Parquet table pairs.

    python bench/_duckdb_astct.py COHORT_DIR --out OUT.parquet [--threads N] [--sql every_event]

Two scripts grade by the same rules (decision 0059): ``bench/duckdb_astct.sql`` (the reference:
evaluated only at the instants where a thresholded input can change) and
``bench/duckdb_astct_every_event.sql`` (the first reference, evaluated at every event time, end
and window expiry; kept for comparison).  ``grade_astct`` returns the grade at each instant the
script evaluates as a Polars frame (``patient_id, at, grade, status, lower, upper``; the test
compares it with ours).  The command line writes the change points only, as ``cohort grade``
writes its trajectory, and prints one JSON line (events, times, rows, seconds) so
``bench/bench_cohort.py`` can time it in a subprocess of its own.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb
import polars as pl

#: The change-point script (the reference) and the every-event one, by name.
SCRIPTS = {
    "change_point": Path(__file__).with_name("duckdb_astct.sql"),
    "every_event": Path(__file__).with_name("duckdb_astct_every_event.sql"),
}
SQL = SCRIPTS["change_point"]

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


def connect(
    events: str, patients: str, *, threads: int | None = None, check_units: bool = True
) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the views the SQL reads, units checked unless told not to.

    The change-point script checks the units in its own passes over the data (table
    ``wrong_units``, read by ``run``): a separate pass would cost as much as a third of its time.
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"CREATE VIEW events_raw AS SELECT * FROM read_parquet('{events}')")
    con.execute(f"CREATE VIEW patients_raw AS SELECT * FROM read_parquet('{patients}')")
    if not check_units:
        return con
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


def run(
    events: str, patients: str, *, threads: int | None = None, sql: Path = SQL
) -> duckdb.DuckDBPyConnection:
    """A connection on which ``sql`` has run (table ``astct_grades``), units checked."""
    own_check = sql == SCRIPTS["change_point"]
    con = connect(events, patients, threads=threads, check_units=not own_check)
    con.execute(sql.read_text())
    if own_check:
        wrong = con.execute("SELECT * FROM wrong_units ORDER BY ALL").fetchall()
        if wrong:
            con.close()
            raise ValueError(
                f"units the DuckDB reference cannot read (item, unit, events): {wrong}"
            )
    return con


def grade_astct(
    events: str, patients: str, *, threads: int | None = None, sql: Path = SQL
) -> tuple[pl.DataFrame, int]:
    """ASTCT 2019 CRS grades at each instant ``sql`` evaluates, and the number of events read."""
    con = run(events, patients, threads=threads, sql=sql)
    grades = pl.from_arrow(
        con.sql(
            'SELECT patient_id, "at", grade, status, lower, upper FROM astct_grades '
            'ORDER BY patient_id, "at"'
        ).to_arrow_table()
    )
    (count,) = con.execute("SELECT count(*) FROM events_raw").fetchone() or (0,)
    con.close()
    assert isinstance(grades, pl.DataFrame)
    return grades, int(count)


def write_changes(
    events: str, patients: str, out: Path, *, threads: int | None = None, sql: Path = SQL
) -> tuple[int, int, int]:
    """Grade and write the change points only (as ``cohort grade``'s trajectory table) to ``out``.

    Returns the events read, the evaluation times graded and the trajectory rows written.
    """
    con = run(events, patients, threads=threads, sql=sql)
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
        f"SELECT (SELECT count(*) FROM events_raw), (SELECT count(*) FROM astct_grades), "
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
    parser.add_argument(
        "--sql", choices=sorted(SCRIPTS), default="change_point", help="which script grades"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    events, times, rows = write_changes(
        tables(args.cohort, "events"),
        tables(args.cohort, "patients"),
        args.out,
        threads=args.threads,
        sql=SCRIPTS[args.sql],
    )
    seconds = time.perf_counter() - began
    print(json.dumps({"events": events, "times": times, "rows": rows, "seconds": seconds}))


if __name__ == "__main__":
    main()
