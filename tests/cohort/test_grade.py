"""``grade_cohort``: the cohort path equals the one-patient path; contract, workers, resume."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crswatch.cohort import (
    COHORT_FORMAT,
    TABLE_SCHEMAS,
    TABLES,
    CohortResult,
    ShardOutcome,
    grade_cohort,
    grade_shard,
    read_cohort,
)
from crswatch.episodes import episodes_from_trajectory, peak_grades, trajectory
from crswatch.errors import CohortOutputError, TimelineFormatError
from crswatch.io import read_path
from crswatch.simulate import iter_cohort, write_cohort
from crswatch.state import StateParameters
from crswatch.timeline import Timeline, response_codes, to_frames
from tests.builders import ev, timeline

PATIENTS, SHARD_SIZE = 16, 4


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "sim"
    write_cohort(path, PATIENTS, seed=11, shard_size=SHARD_SIZE)
    return path


@pytest.fixture(scope="module")
def graded(cohort: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("graded") / "out.parquet"
    grade_cohort(cohort, out)
    return out


def _tables(path: Path) -> dict[str, pl.DataFrame]:
    result = read_cohort(path)
    return {name: result.table(name).collect() for name in TABLES}


def _assert_same_output(left: Path, right: Path) -> None:
    first, second = _tables(left), _tables(right)
    for name in TABLES:
        assert_frame_equal(first[name], second[name], check_exact=True)


# ---------------------------------------------------------------------------- the contract


def test_layout_manifest_and_contract_dtypes(graded: Path, cohort: Path) -> None:
    manifest = json.loads((graded / "manifest.json").read_text())
    assert manifest["format"] == COHORT_FORMAT == "crswatch.cohort/1"
    assert manifest["source"] == str(cohort.resolve())
    assert manifest["engine"] == "local"
    assert manifest["params"] == StateParameters().to_dict()
    assert "icans.astct2019" in manifest["scales"] and "crs.penn2018" in manifest["scales"]
    assert sorted(manifest["shards"]) == ["00000", "00001", "00002", "00003"]
    assert all(
        entry["done"] and entry["patients"] == SHARD_SIZE for entry in manifest["shards"].values()
    )
    for table in TABLES:
        assert sorted(p.name for p in (graded / table).iterdir()) == [
            f"part-0000{n}.parquet" for n in range(4)
        ]
    result = read_cohort(graded)
    assert result.complete
    for name in TABLES:
        assert dict(result.table(name).collect_schema()) == TABLE_SCHEMAS[name], name
    patients = result.patients.collect()
    assert patients.height == PATIENTS
    assert patients["patient_id"].is_unique().all()
    assert sorted(set(patients["shard"].to_list())) == [0, 1, 2, 3]
    assert patients["events"].sum() == sum(e["events"] for e in manifest["shards"].values())


def test_patient_fields_and_regimen(graded: Path) -> None:
    patients = read_cohort(graded).patients.collect()
    car_t = patients.filter(pl.col("therapy_kind") == "car_t")
    blina = patients.filter(pl.col("therapy_kind") == "blinatumomab")
    assert car_t.height and blina.height
    assert car_t["regimen"].null_count() == car_t.height
    assert set(blina["regimen"].to_list()) <= {"step", "flat"}
    # The optional best response (docs/decisions/0022), as the simulator gives it per patient.
    assert patients["response"].null_count() == 0
    assert set(patients["response"].to_list()) <= set(response_codes())


def test_regimen_step_and_flat_from_doses() -> None:
    blina = {"therapy": {"kind": "blinatumomab", "start": "2024-01-01T08:00:00Z"}}
    step = timeline(
        [ev(0, "blinatumomab", 9, "ug/d"), ev(7 * 24, "blinatumomab", 28, "ug/d")], "S", **blina
    )
    flat = timeline(
        [ev(0, "blinatumomab", 28, "ug/d"), ev(7 * 24, "blinatumomab", 28, "ug/d")], "F", **blina
    )
    # A later cycle at a higher dose is not step-up dosing of the first cycle.
    late = timeline(
        [ev(0, "blinatumomab", 9, "ug/d"), ev(42 * 24, "blinatumomab", 28, "ug/d")], "L", **blina
    )
    patients, events = to_frames([step, flat, late])
    regimens = dict(
        grade_shard(patients, events)["patients"].select("patient_id", "regimen").iter_rows()
    )
    assert regimens == {"F": "flat", "L": "flat", "S": "step"}


def test_treatments_and_labs_from_events() -> None:
    record = timeline(
        [
            ev(2, "tocilizumab", 8, "mg/kg"),
            ev(3, "dexamethasone", 10, "mg"),
            ev(4, "norepinephrine", 0.05, "ug/kg/min"),
            ev(5, "ferritin", 12000, "ng/mL"),
            ev(5, "il6", 2, "pg/mL", censored="below_lod"),
            ev(6, "temperature", 39.0, "Cel"),
        ]
    )
    tables = grade_shard(*to_frames([record]))
    treatments = tables["treatments"]
    assert treatments.select("item", "category").rows() == [
        ("tocilizumab", "anti_cytokine"),
        ("dexamethasone", "corticosteroid"),
        ("norepinephrine", "vasopressor"),
    ]
    assert treatments["hours_from_start"].to_list() == [2.0, 3.0, 4.0]
    assert treatments["value"][0] == pytest.approx(560.0)  # 8 mg/kg at 70 kg, canonical mg
    labs = tables["labs"]
    assert labs.select("item", "value", "below_lod").rows() == [
        ("ferritin", 12000.0, False),
        ("il6", 2.0, True),
    ]


# ------------------------------------------------------------ cohort path = one-patient path


def _one_patient(graded_tables: dict[str, pl.DataFrame], record: Timeline) -> None:
    """The patient's rows in the cohort output equal the one-patient API's results."""
    patient_id = record.patient.id
    alone = trajectory([record])
    mine = graded_tables["trajectory"].filter(pl.col("patient_id") == patient_id)
    assert mine.height > 0
    assert_frame_equal(mine, alone, check_exact=True)
    rows = graded_tables["episodes"].filter(pl.col("patient_id") == patient_id)
    got = [
        (
            row["kind"],
            row["scale"],
            row["episode"],
            row["onset"],
            row["peak_grade"],
            row["peak_at"],
            row["peak_upper"],
            row["resolution"],
            row["duration_hours"],
        )
        for row in rows.iter_rows(named=True)
    ]
    numbers: dict[tuple[str, str], int] = {}
    wanted = []
    for e in episodes_from_trajectory(alone):
        numbers[e.kind, e.scale] = numbers.get((e.kind, e.scale), 0) + 1
        wanted.append(
            (
                e.kind,
                e.scale,
                numbers[e.kind, e.scale],
                e.onset,
                e.peak_grade,
                e.peak_at,
                e.peak_upper,
                e.resolution,
                e.duration_hours,
            )
        )
    assert got == wanted
    peaks = graded_tables["peaks"].filter(pl.col("patient_id") == patient_id)
    assert_frame_equal(peaks.drop("episodes"), peak_grades(alone), check_exact=True)
    counts = peaks.select("kind", "scale", "episodes").rows()
    assert counts == [(kind, scale, numbers.get((kind, scale), 0)) for kind, scale, _ in counts]


def test_cohort_equals_one_patient_path(graded: Path, cohort: Path) -> None:
    tables = _tables(graded)
    timelines = read_path(cohort).timelines
    assert len(timelines) == PATIENTS
    for record in timelines[::3]:  # patients from every shard
        _one_patient(tables, record)
    # Someone was graded >= 2 somewhere, so the comparison is not of empty frames.
    assert tables["peaks"]["peak_grade"].max() >= 2  # type: ignore[operator]


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=10_000))
def test_property_shard_kernel_equals_one_patient_path(seed: int) -> None:
    records = list(iter_cohort(3, seed=seed))
    tables = grade_shard(*to_frames(records))
    for record in records:
        _one_patient(tables, record)


# ------------------------------------------------------------------------- engines, resume


def test_workers_two_equals_workers_one(graded: Path, cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "two.parquet"
    summary = grade_cohort(cohort, out, workers=2)
    assert summary.patients == PATIENTS and len(summary.graded) == 4
    _assert_same_output(graded, out)


class _CrashError(RuntimeError):
    pass


def test_interrupted_run_resumes_where_it_stopped(
    graded: Path, cohort: Path, tmp_path: Path
) -> None:
    out = tmp_path / "resumed.parquet"

    def crash_after_two(outcome: ShardOutcome) -> None:
        if outcome.shard == 1:
            raise _CrashError

    with pytest.raises(_CrashError):
        grade_cohort(cohort, out, on_shard=crash_after_two)
    shards = json.loads((out / "manifest.json").read_text())["shards"]
    assert [key for key, entry in shards.items() if entry["done"]] == ["00000", "00001"]
    assert not read_cohort(out).complete
    assert read_cohort(out).patients.collect().height == 2 * SHARD_SIZE  # only done shards

    seen: list[int] = []
    summary = grade_cohort(cohort, out, on_shard=lambda outcome: seen.append(outcome.shard))
    assert seen == [2, 3] and summary.skipped == 2
    _assert_same_output(graded, out)

    # A shard whose done marker is lost (crash between rename and manifest) is graded again.
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["shards"]["00002"] = {"done": False}
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "labs" / "part-00003.parquet").unlink()  # and one whose part file went missing
    # Leftovers a folder glob would read: a shard the input no longer has, a crashed temp file.
    (out / "peaks" / "part-00009.parquet").write_bytes(b"stale")
    (out / "peaks" / ".part-00002.parquet.tmp-1").write_bytes(b"half")
    seen.clear()
    grade_cohort(cohort, out, on_shard=lambda outcome: seen.append(outcome.shard))
    assert seen == [2, 3]
    _assert_same_output(graded, out)
    assert sorted(path.name for path in (out / "peaks").iterdir()) == [
        f"part-0000{n}.parquet" for n in range(4)
    ]


def test_refuses_other_params_scales_or_source_unless_overwrite(
    graded: Path, cohort: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.parquet"
    grade_cohort(cohort, out, scales=["astct2019"])
    other = StateParameters().with_(fever_window=timedelta(hours=12))
    with pytest.raises(CohortOutputError, match=r"params=.*fever_window_hours.*--overwrite"):
        grade_cohort(cohort, out, scales=["astct2019"], params=other)
    with pytest.raises(CohortOutputError, match=r"scales=\['crs.astct2019'\]"):
        grade_cohort(cohort, out)
    summary = grade_cohort(cohort, out, overwrite=True)
    assert len(summary.graded) == 4
    _assert_same_output(graded, out)


def test_never_deletes_a_directory_that_is_not_a_cohort_output(
    cohort: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(CohortOutputError, match=r"not a crswatch\.cohort/1 output"):
        grade_cohort(cohort, out, overwrite=True)
    assert (out / "notes.txt").read_text() == "keep me"


# ------------------------------------------------------------------------------ other input


def test_json_input_in_pseudo_shards(tmp_path: Path) -> None:
    source = tmp_path / "cohort.json"
    write_cohort(source, 5, seed=4)
    summary = grade_cohort(source, tmp_path / "out.parquet", shard_size=2)
    assert summary.shards == 3 and [o.patients for o in summary.graded] == [2, 2, 1]
    tables = _tables(tmp_path / "out.parquet")
    assert tables["patients"]["shard"].to_list() == [0, 0, 1, 1, 2]
    for record in read_path(source).timelines:
        _one_patient(tables, record)


def test_json_directory_reports_duplicates_across_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_cohort(folder / "a.json", 2, seed=4)
    write_cohort(folder / "b.json", 2, seed=4)  # the same two patients again
    summary = grade_cohort(folder, tmp_path / "out.parquet")
    assert [(o.patients, o.patients_rejected) for o in summary.graded] == [(2, 0), (0, 2)]
    assert "duplicate patient" in summary.graded[1].issues[0]
    assert read_cohort(tmp_path / "out.parquet").patients.collect().height == 2


def test_rejected_events_are_counted_and_the_valid_ones_graded(tmp_path: Path) -> None:
    folder = tmp_path / "pair"
    folder.mkdir()
    (folder / "patients.csv").write_text(
        "id,age_years,weight_kg,therapy_kind,therapy_start\nP1,50,70,car_t,2024-01-01T08:00:00Z\n"
    )
    (folder / "events.csv").write_text(
        "patient_id,time,item,value,unit\n"
        "P1,2024-01-02T08:00:00Z,temperature,39.1,Cel\n"
        "P1,2024-01-02T09:00:00Z,temperature,101,Cel\n"
    )
    summary = grade_cohort(folder, tmp_path / "out.parquet")
    (outcome,) = summary.graded
    assert (outcome.patients, outcome.events, outcome.events_rejected) == (1, 1, 1)
    assert "temperature" in outcome.issues[0] and "101" in outcome.issues[0]
    manifest = json.loads((tmp_path / "out.parquet" / "manifest.json").read_text())
    assert manifest["shards"]["00000"]["events_rejected"] == 1
    peaks = read_cohort(tmp_path / "out.parquet").peaks.collect()
    assert peaks.filter(scale="astct2019", kind="crs")["peak_grade"].to_list() == [1]


def test_read_cohort_rejects_other_directories(tmp_path: Path) -> None:
    with pytest.raises(TimelineFormatError, match=r"not a crswatch\.cohort/1 output"):
        read_cohort(tmp_path)


def test_result_type(graded: Path) -> None:
    assert isinstance(read_cohort(graded), CohortResult)


# ---------------------------------------------------------------------------------- the CLI


def test_cli_grade_then_resume(cohort: Path, graded: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from crswatch.cli import app

    out = tmp_path / "cli.parquet"
    runner = CliRunner()
    first = runner.invoke(app, ["cohort", "grade", str(cohort), "-o", str(out)])
    assert first.exit_code == 0, first.output
    assert f"graded {PATIENTS} patient(s)" in first.output
    _assert_same_output(graded, out)
    again = runner.invoke(app, ["cohort", "grade", str(cohort), "-o", str(out)])
    assert again.exit_code == 0 and "4 done before (resumed)" in again.output
    refused = runner.invoke(
        app, ["cohort", "grade", str(cohort), "-o", str(out), "--scale", "lee2014"]
    )
    assert refused.exit_code == 2 and "--overwrite" in refused.output


def test_spark_engine_without_pyspark_names_the_extra(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from crswatch.cohort import SparkUnavailableError

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(SparkUnavailableError, match=r"crswatch\[spark\]"):
        grade_cohort(cohort, tmp_path / "out.parquet", engine="spark")


def test_batches_of_patients_equal_one_kernel_call(cohort: Path) -> None:
    from crswatch.cohort._shard import grade_in_batches
    from crswatch.io import iter_frames

    read = next(iter(iter_frames(cohort)))
    params = StateParameters()
    whole = grade_shard(read.patients, read.events, params=params, shard=0)
    # About one patient per batch (each has some 900 events at 4-hourly vitals).
    batched = grade_in_batches(
        read.patients, read.events, scales=None, params=params, shard=0, batch_events=500
    )
    assert read.patients.height == SHARD_SIZE
    for name in TABLES:
        assert_frame_equal(whole[name], batched[name], check_exact=True)


def test_batches_take_patients_without_events_and_events_in_any_order(cohort: Path) -> None:
    """A batch is a slice of events grouped by patient; ungrouped events are sorted first, and a
    patient without events is graded too: the tables equal one kernel call's."""
    from crswatch.cohort._shard import grade_in_batches
    from crswatch.io import iter_frames

    read = next(iter(iter_frames(cohort)))
    params = StateParameters()
    quiet = read.patients.head(1).with_columns(pl.lit("Z-no-events").alias("patient_id"))
    patients = pl.concat([quiet, read.patients])
    shuffled = read.events.sample(fraction=1.0, shuffle=True, seed=3)
    whole = grade_shard(patients, read.events, params=params, shard=0)
    batched = grade_in_batches(
        patients, shuffled, scales=None, params=params, shard=0, batch_events=1500
    )
    assert "Z-no-events" in batched["patients"]["patient_id"].to_list()
    for name in TABLES:
        assert_frame_equal(whole[name], batched[name], check_exact=True)
