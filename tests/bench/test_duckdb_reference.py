"""The benchmark's DuckDB ASTCT references grade exactly as crswatch does (and the pandas loop too).

A reference is only a credible yardstick for ``cohort grade`` if it computes the same thing.
Two scripts grade by the same rules (docs/decisions/0021-benchmarks.md, 0059):

- ``bench/duckdb_astct_every_event.sql`` evaluates at every event time, end and window expiry;
- ``bench/duckdb_astct.sql`` (the reference) evaluates only where a thresholded input can change,
  and each of its instants is one of the every-event script's.

Each is compared with crswatch's ASTCT 2019 CRS trajectory over time: every row of either side
must equal the other side's grade at that time (its last row at or before it), and the change
points must be equal.  That does not depend on which instants crswatch's engine evaluates, so it
holds across the engine's change-point rewrite (issue #16).

They run on simulated cohorts and on hand-made edge cases, including adversarial ones (readings
exactly 24 h apart or 24 h + 1 us apart, of several kinds at one instant, charted with another
cause, a child's birthday moving the hypotension threshold, a window expiry at an event's very
microsecond, vasopressin alone, devices without a flow, fevers before the therapy start).
Deliberately broken copies of the change-point script must fail the comparison, so it can fail.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest

from crswatch.episodes import trajectory_of_frames
from crswatch.io import find_table_pairs, read_table_frames, write_tables
from crswatch.simulate import write_cohort
from crswatch.state import StateParameters
from crswatch.timeline import format_time
from tests.builders import at, ev, timeline

BENCH = Path(__file__).resolve().parents[2] / "bench"
COMPARED = ["patient_id", "at", "grade", "status", "lower", "upper"]
SIGNATURE = ["grade", "status", "lower", "upper"]
#: The references implement the ASTCT fever waiver after anticytokine therapy or steroids, held
#: for the rest of the record (no episode resolution): crswatch's named options for that reading
#: (decision 0026); the statuses, cause-other rule and interpretation 8 are the default ones.
REFERENCE_PARAMETERS = StateParameters(
    fever_waiver="anticytokine_or_steroid", crs_resolution_window=None
)
#: The vital signs no ASTCT criterion reads.
UNREAD_VITALS = (
    ("heart_rate", 90, "/min"),
    ("dbp", 60, "mm[Hg]"),
    ("map", 70, "mm[Hg]"),
    ("resp_rate", 18, "/min"),
    ("spo2", 96, "%"),
)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


duckdb_astct = _load("_duckdb_astct")
pandas_astct = _load("_pandas_astct")
CHANGE_POINT: Path = duckdb_astct.SCRIPTS["change_point"]
EVERY_EVENT: Path = duckdb_astct.SCRIPTS["every_event"]


def _ours(root: Path) -> pl.DataFrame:
    """crswatch's ASTCT 2019 CRS grade at every one of its evaluation times."""
    frames = []
    for pair in find_table_pairs(root):
        result = read_table_frames(pair)
        assert result.report.ok
        frames.append(
            trajectory_of_frames(
                result.patients,
                result.events,
                scales=["astct2019"],
                changes_only=False,
                params=REFERENCE_PARAMETERS,
            ).filter(pl.col("kind") == "crs")
        )
    return pl.concat(frames).select(COMPARED)


def _reference(root: Path, sql: Path = EVERY_EVENT) -> pl.DataFrame:
    grades, _ = duckdb_astct.grade_astct(
        duckdb_astct.tables(root, "events"), duckdb_astct.tables(root, "patients"), sql=sql
    )
    return grades.select(COMPARED)


def _changes(grades: pl.DataFrame) -> pl.DataFrame:
    """The change points of a trajectory at some instants (as ``cohort grade`` writes them)."""
    signature = pl.struct("status", "lower", "upper")
    ordered = grades.select(COMPARED).sort("patient_id", "at")
    changed = signature != signature.shift(1).over("patient_id")
    return ordered.filter(changed.fill_null(True)).with_columns(
        pl.col("grade", "lower", "upper").cast(pl.Int32)
    )


def _carried_differs(rows: pl.DataFrame, other: pl.DataFrame) -> pl.DataFrame:
    """The ``rows`` whose grade differs from ``other``'s then (its last row at or before)."""
    carried = rows.sort("patient_id", "at").join_asof(
        other.sort("patient_id", "at").with_columns(_other_at=pl.col("at")),
        on="at",
        by="patient_id",
        strategy="backward",
        suffix="_other",
        check_sortedness=False,
    )
    return carried.filter(
        pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_other")) for c in SIGNATURE)
    )


def _differences(reference: pl.DataFrame, ours: pl.DataFrame) -> list[str]:
    """How a reference's trajectory differs from ours (empty: the same).

    Each side grades at its own instants (ours at crswatch's evaluation times, which the engine
    chooses); the grade at any time is the row at the last instant at or before it.  Compared:
    every row of each side against the other side's grade at that time, and the change points.
    So the comparison does not depend on which instants either side evaluates.
    """
    problems = []
    for name, rows, other in (("reference", reference, ours), ("ours", ours, reference)):
        differing = _carried_differs(rows, other)
        if differing.height:
            problems.append(f"{name}: grades differ from the other's at that time:\n{differing}")
    if not _changes(reference).equals(_changes(ours)):
        problems.append(f"change points differ:\n{_changes(reference)}\nours:\n{_changes(ours)}")
    return problems


def _assert_same(reference: pl.DataFrame, ours: pl.DataFrame) -> None:
    """Two trajectories at the same times are equal row for row."""
    joined = reference.join(ours, on=["patient_id", "at"], how="left", suffix="_ours")
    assert joined.filter(pl.col("status_ours").is_null()).height == 0, "times not graded"
    differing = joined.filter(
        pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_ours")) for c in SIGNATURE)
    )
    assert differing.height == 0, differing.head(20)


def _assert_both_equal_ours(root: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Both scripts against ours and each other; returns (change point, every event, ours)."""
    ours = _ours(root)
    every = _reference(root, EVERY_EVENT)
    change_point = _reference(root, CHANGE_POINT)
    problems = _differences(every, ours) + _differences(change_point, ours)
    assert not problems, "\n".join(problems)
    assert _changes(change_point).equals(_changes(every))
    # Every instant of the change-point script is one of the every-event script's.
    foreign = change_point.join(every, on=["patient_id", "at"], how="anti")
    assert foreign.height == 0, foreign
    return change_point, every, ours


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench") / "cohort"
    write_cohort(root, 20, seed=11, shard_size=10)
    return root


def test_references_equal_ours_on_a_simulated_cohort(simulated: Path) -> None:
    change_point, every, ours = _assert_both_equal_ours(simulated)
    # Not vacuous: every patient, most rows, and grades 0 to 4 and an undecided stretch.
    assert every["patient_id"].n_unique() == 20
    assert change_point["patient_id"].n_unique() == 20
    assert every.height > 0.8 * ours.height
    assert set(every["lower"]) >= {0, 1, 2, 3}
    assert set(every["status"]) - {"graded"}, "an undecided stretch"
    # The change-point script evaluates far fewer instants.
    assert change_point.height < every.height / 3


def test_references_equal_ours_at_five_minute_vital_signs(tmp_path: Path) -> None:
    root = tmp_path / "cohort"
    write_cohort(root, 2, seed=11, shard_size=2, vitals_every=timedelta(minutes=5))
    change_point, every, _ = _assert_both_equal_ours(root)
    assert every.height > 5000
    # Five-minute vital signs do not multiply the instants: the islands do not grow with them.
    assert change_point.height < every.height / 50


def _edge_cases() -> list[Any]:
    adult = [
        ev(2, "temperature", 37.0, "Cel"),
        ev(10, "temperature", 38.0, "Cel"),  # exactly the threshold: fever, CRS onset
        ev(11, "temperature", 39.5, "Cel", cause="other"),  # not attributable: ignored
        ev(12, "sbp", 89, "mm[Hg]"),  # < 90: hypotension (2)
        ev(13, "norepinephrine", 5, "ug/min", end_hours=20),  # a vasopressor (3)
        ev(14, "vasopressin", 0.03, "U/min"),  # vasopressin never makes it "multiple"
        ev(16, "phenylephrine", 50, "ug/min"),  # two non-vasopressin pressors (4)
        ev(17, "phenylephrine", 0, "ug/min"),  # a rate of 0 stops it
        ev(18, "tocilizumab", 560, "mg"),  # after onset: fever no longer required
        ev(20, "o2_device", "nasal_cannula"),  # no flow: at least 2, perhaps 3
        ev(21, "vasopressin", 0, "U/min"),
        ev(22, "o2_flow", 8, "L/min"),  # > 6 L/min: high flow (3)
        ev(25, "o2_device", "cpap"),  # positive pressure (4)
        ev(30, "o2_device", "room_air"),
        ev(34, "temperature", 37.0, "Cel"),
        ev(36, "sbp", 120, "mm[Hg]"),  # the SBP of hour 12 is still in [T - 24 h, T]
    ]
    child = [
        ev(1, "dexamethasone", 4, "mg"),  # premedication before onset: no waiver
        ev(5, "temperature", 38.5, "Cel"),
        ev(6, "sbp", 79, "mm[Hg]"),  # age 5: < 70 + 2 x 5
        ev(7, "o2_device", "high_flow_nasal_cannula"),  # no flow recorded: high flow (3)
        ev(8, "o2_flow", 4, "L/min"),  # <= 6 L/min: low flow (2)
        ev(9, "o2_device", "blow_by"),  # the earlier flow is stale
        ev(31, "death", True),  # after onset, no other cause: grade 5
    ]
    unknown_fever = [
        ev(5, "o2_device", "face_mask"),  # no temperature at all: 0 to 3
        ev(6, "sbp", 83, "mm[Hg]"),  # born 2016: age 7, threshold 84
        ev(7, "death", True, cause="other"),
    ]
    return [
        timeline(adult, "E1"),
        timeline(child, "E2", age_years=5),
        timeline(unknown_fever, "E3", age_years=None, birth_date="2016-06-01"),
    ]


def test_references_equal_ours_on_edge_cases(tmp_path: Path) -> None:
    write_tables(_edge_cases(), tmp_path / "edge", suffix=".parquet")
    _, every, _ = _assert_both_equal_ours(tmp_path / "edge")
    peaks = dict(every.group_by("patient_id").agg(pl.col("lower").max()).iter_rows())
    assert peaks == {"E1": 4, "E2": 5, "E3": 0}
    assert every.filter(pl.col("patient_id") == "E3")["upper"].max() == 3


def _at(hours: float, microseconds: int = 0) -> str:
    """An event time ``hours`` after the builders' start, to the microsecond."""
    return format_time(at(hours) + timedelta(microseconds=microseconds))


def _adversarial() -> list[Any]:
    """Timelines built to break a change-point evaluation that misses an instant."""
    # Fevers exactly 24 h apart form one island; 24 h + 1 us apart, two.  Readings of several
    # classes at one instant (two readings of one item at one time are refused by the reader);
    # readings charted with another cause only: measured, no fever (0026 §5).
    exact_day = [
        ev(10, "temperature", 39.0, "Cel"),
        ev(10, "sbp", 85, "mm[Hg]"),
        ev(20, "temperature", 40.0, "Cel", cause="other"),
        ev(34, "temperature", 39.0, "Cel"),
        ev(34, "sbp", 84, "mm[Hg]", cause="other"),
        ev(34, "norepinephrine", 3, "ug/min", end_hours=58),
        ev(58, "temperature", 39.0, "Cel"),
        ev(0, "temperature", 38.2, "Cel", time=_at(82, 1)),
        ev(12, "sbp", 120, "mm[Hg]"),
        ev(36, "sbp", 85, "mm[Hg]"),
        ev(70, "sbp", 80, "mm[Hg]", cause="other"),
        ev(120, "temperature", 36.5, "Cel", cause="other"),
        ev(150, "heart_rate", 80, "/min"),
    ]
    # A window expiry at an event's very microsecond: the fever of hour 10 leaves the window
    # 1 us after hour 34, when a heart rate (which no criterion reads) is charted; the SBP of
    # hour 11 leaves it when an infusion ends.  At hour 34 itself (an oxygen device) the fever
    # is still in [T - 24 h, T].
    same_microsecond = [
        ev(10, "temperature", 39.0, "Cel"),
        ev(11, "sbp", 85, "mm[Hg]"),
        ev(34, "o2_device", "nasal_cannula"),
        ev(0, "heart_rate", 95, "/min", time=_at(34, 1)),
        ev(2, "blinatumomab", 28, "ug/d", end=_at(35, 1)),
        ev(40, "heart_rate", 80, "/min"),
    ]
    # Born 2020-01-03: 4 years old (threshold 78 mm Hg, was 76) from 2024-01-03 00:00 UTC, hour
    # 40.  An SBP of 77 becomes hypotension there, at that midnight (docs/decisions/0065), not at
    # the next instant (a heart rate at hour 40.5, or a fever's window expiry after it).
    birthday_next_event = [
        *(ev(h, "temperature", 39.0, "Cel") for h in (5, 15, 25, 35, 45)),
        *(ev(h, "sbp", 77, "mm[Hg]") for h in (5, 15, 25, 35, 45)),
        ev(40.5, "heart_rate", 120, "/min"),
        ev(60, "heart_rate", 110, "/min"),
    ]
    birthday_next_expiry = [
        ev(16.5, "temperature", 39.0, "Cel"),
        ev(30, "temperature", 39.0, "Cel"),
        ev(30, "sbp", 77, "mm[Hg]"),
        ev(50, "heart_rate", 110, "/min"),
    ]
    # An infant (< 1 year: 70 mm Hg); vasopressin alone is one vasopressor (3) and never makes
    # two (interpretation 3); an infusion that ends; a rate of 0.
    infant = [
        ev(1, "temperature", 38.6, "Cel"),
        ev(2, "sbp", 69, "mm[Hg]"),
        ev(3, "vasopressin", 0.02, "U/min"),
        ev(5, "norepinephrine", 4, "ug/min", end_hours=9),
        ev(6, "phenylephrine", 40, "ug/min"),
        ev(7, "phenylephrine", 0, "ug/min"),
        ev(11, "vasopressin", 0, "U/min"),
        ev(12, "sbp", 75, "mm[Hg]"),
        ev(40, "spo2", 97, "%"),
    ]
    # Oxygen without a flow, a flow that ends, a device that ends, a device charted with another
    # cause (not counted), a flow before a device change (stale).
    oxygen = [
        ev(1, "temperature", 38.4, "Cel"),
        ev(2, "o2_device", "nasal_cannula"),
        ev(3, "o2_flow", 3, "L/min", end_hours=4),
        ev(5, "o2_device", "high_flow_nasal_cannula"),
        ev(6, "o2_flow", 5, "L/min"),
        ev(7, "o2_device", "face_mask", cause="other"),
        ev(8, "o2_device", "non_rebreather_mask", end_hours=9),
        ev(10, "o2_device", "nasal_cannula"),
        ev(11, "o2_device", "bipap"),
        ev(30, "resp_rate", 18, "/min"),
    ]
    # Fevers before the therapy start (no onset), the onset after it, a steroid before the
    # onset (no waiver) and an anti-cytokine after it; afebrile later with a low SBP: grade 0 up
    # to 2 (interpretation 8) until the waiver; death after the onset (5).
    pre_therapy = [
        ev(-5, "temperature", 39.0, "Cel"),
        ev(-2, "dexamethasone", 10, "mg"),
        ev(-1, "temperature", 38.5, "Cel"),
        ev(1, "temperature", 38.1, "Cel"),
        ev(27, "temperature", 37.0, "Cel"),
        ev(27.5, "sbp", 82, "mm[Hg]"),
        ev(29, "siltuximab", 800, "mg"),
        ev(33, "death", True),
    ]
    # Nothing any criterion reads: one row, from the first instant.
    unread = [ev(h, *vital) for h, vital in zip((2, 4, 6, 8, 10), UNREAD_VITALS, strict=True)]
    return [
        timeline(exact_day, "A1-exact-day"),
        timeline(same_microsecond, "A2-same-microsecond"),
        timeline(birthday_next_event, "A3-birthday-event", age_years=None, birth_date="2020-01-03"),
        timeline(
            birthday_next_expiry, "A4-birthday-expiry", age_years=None, birth_date="2020-01-03"
        ),
        timeline(infant, "A5-infant", age_years=0.5),
        timeline(oxygen, "A6-oxygen"),
        timeline(pre_therapy, "A7-pre-therapy"),
        timeline(unread, "A8-unread"),
    ]


@pytest.fixture(scope="module")
def adversarial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("adversarial")
    write_tables(_adversarial(), root, suffix=".parquet")
    return root


def test_references_equal_ours_on_adversarial_cases(adversarial: Path) -> None:
    change_point, _, _ = _assert_both_equal_ours(adversarial)
    rows = {patient: frame.sort("at") for (patient,), frame in change_point.group_by("patient_id")}

    def grade_at(patient: str, hours: float, microseconds: int = 0) -> tuple[Any, ...]:
        moment = at(hours) + timedelta(microseconds=microseconds)
        row = rows[patient].filter(pl.col("at") <= moment).tail(1)
        return row.select("lower", "upper", "status").row(0)

    # Not vacuous: the cases do what their comments say.
    assert grade_at("A1-exact-day", 81)[:2] == (1, 1)  # one island from hour 10 to 82
    # A temperature charted with another cause only: measured, no fever, grade 0 (provisional: no
    # SBP, and afebrile hypotension after the onset could make it 2); nothing charted: unknown.
    assert grade_at("A1-exact-day", 130) == (0, 2, "provisional")
    assert grade_at("A1-exact-day", 150) == (0, 2, "not_assessable")
    assert grade_at("A3-birthday-event", 39.99)[:2] == (1, 1)
    assert grade_at("A3-birthday-event", 40)[:2] == (2, 2)
    assert grade_at("A4-birthday-expiry", 39.99)[:2] == (1, 1)
    assert grade_at("A4-birthday-expiry", 40)[:2] == (2, 2)
    assert grade_at("A5-infant", 4)[:2] == (3, 3)  # vasopressin alone
    assert grade_at("A5-infant", 6.5)[:2] == (4, 4)
    assert grade_at("A7-pre-therapy", 33)[:2] == (5, 5)
    assert rows["A8-unread"].height == 1
    assert rows["A3-birthday-event"]["at"].to_list().count(at(40)) == 1
    assert at(34) + timedelta(microseconds=1) in rows["A2-same-microsecond"]["at"].to_list()


def test_unread_vital_signs_make_no_instant(tmp_path: Path) -> None:
    """Heart rate, DBP, MAP, breathing rate and SpO2 add no instant (after the first)."""
    base = [
        ev(0, "temperature", 37.0, "Cel"),
        ev(10, "temperature", 38.9, "Cel"),
        ev(11, "sbp", 88, "mm[Hg]"),
        ev(60, "temperature", 37.0, "Cel"),
    ]
    busy = base + [
        ev(minutes / 60, *vital) for minutes in range(5, 60 * 60, 5) for vital in UNREAD_VITALS
    ]
    write_tables([timeline(base, "P")], tmp_path / "base", suffix=".parquet")
    write_tables([timeline(busy, "P")], tmp_path / "busy", suffix=".parquet")
    quiet = _reference(tmp_path / "base", CHANGE_POINT)
    loud = _reference(tmp_path / "busy", CHANGE_POINT)
    assert loud.equals(quiet)
    assert _reference(tmp_path / "busy", EVERY_EVENT).height > 100 * quiet.height
    assert not _differences(loud, _ours(tmp_path / "busy"))


#: Deliberate faults in the change-point script (text replaced, once each): each must make the
#: comparison with ours fail on the adversarial cases.
FAULTS = {
    "window open at T - 24 h": (
        "AND a.ts <= s.last_t + INTERVAL 24 HOUR",
        "AND a.ts < s.last_t + INTERVAL 24 HOUR",
    ),
    "no birthday instants": (
        "    UNION ALL\n    SELECT patient_id, ts, expiry FROM birthday_moments\n",
        "\n",
    ),
    "no collision check": ("WHERE i.expiry AND p.sub_second", "WHERE FALSE"),
    "no death instants": ("       OR item = 'death'\n", "\n"),
    "islands split at a gap of exactly 24 h": (
        "coalesce(lead(first_us) OVER w - last_us > 86400000000, TRUE) AS closes",
        "coalesce(lead(first_us) OVER w - last_us >= 86400000000, TRUE) AS closes",
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_comparison_fails_on_a_faulty_script(
    fault: str, adversarial: Path, tmp_path: Path
) -> None:
    before, after = FAULTS[fault]
    text = CHANGE_POINT.read_text()
    assert text.count(before) == 1, f"the fault {fault!r} no longer applies to the script"
    faulty = tmp_path / "faulty.sql"
    faulty.write_text(text.replace(before, after))
    grades = _reference(adversarial, faulty)
    assert _differences(grades, _ours(adversarial)), f"{fault}: the comparison did not fail"


def test_pandas_loop_equals_the_reference(simulated: Path) -> None:
    looped, events = pandas_astct.grade_cohort(simulated, 4)
    assert events > 0
    got = pl.from_pandas(looped).with_columns(
        pl.col("at").cast(pl.Datetime("us", "UTC")),
        pl.col("grade", "lower", "upper").cast(pl.Int32),
    )
    reference = _reference(simulated).filter(
        pl.col("patient_id").is_in(got["patient_id"].unique().implode())
    )
    assert got.height == reference.height
    _assert_same(got.select(COMPARED), reference)


@pytest.mark.parametrize("item", ["temperature", "norepinephrine"])
def test_a_unit_the_reference_cannot_read_is_refused(
    item: str, adversarial: Path, tmp_path: Path
) -> None:
    """The reference converts nothing: an item in another unit is named and refused."""
    (tmp_path / "events").mkdir()
    (tmp_path / "patients").mkdir()
    events = pl.read_parquet(adversarial / "events.parquet").with_columns(
        unit=pl.when(pl.col("item") == item).then(pl.lit("kU/h")).otherwise(pl.col("unit"))
    )
    events.write_parquet(tmp_path / "events" / "part.parquet")
    pl.read_parquet(adversarial / "patients.parquet").write_parquet(
        tmp_path / "patients" / "part.parquet"
    )
    for sql in (CHANGE_POINT, EVERY_EVENT):
        with pytest.raises(ValueError, match=rf"'{item}', 'kU/h'"):
            _reference(tmp_path, sql)
