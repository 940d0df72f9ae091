"""ASTCT 2019 CRS grading as a per-patient pandas loop: the baseline a first analysis would write.

Loop over patients; for each evaluation time filter the patient's frame for the window and take
the maximum, the minimum, the last record.  The rules are those of ``bench/duckdb_astct.sql``
(read that file's header for the semantics and sources: Lee 2019 ASTCT CRS grading table and the
interpretations in ``src/crswatch/scales/astct2019.py``); the evaluation times are computed the
same way.  Unknown is ``None`` and combined with Kleene logic, as crswatch's criteria are.

    python bench/_pandas_astct.py COHORT_DIR [--patients 20]

prints one JSON line (patients, events, rows, seconds) for ``bench/bench_cohort.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import pandas as pd

WINDOW = pd.Timedelta(hours=24)
PRESSORS = ("norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin")
WAIVING = (
    "tocilizumab",
    "siltuximab",
    "anakinra",
    "dexamethasone",
    "methylprednisolone",
    "hydrocortisone",
    "prednisone",
)
NASAL = ("nasal_cannula", "high_flow_nasal_cannula")
MASKS = ("face_mask", "non_rebreather_mask", "venturi_mask")
POSITIVE_PRESSURE = ("cpap", "bipap", "mechanical_ventilation")

Tri = bool | None


def _and(*values: Tri) -> Tri:
    if any(value is False for value in values):
        return False
    return None if any(value is None for value in values) else True


def _or(*values: Tri) -> Tri:
    if any(value is True for value in values):
        return True
    return None if any(value is None for value in values) else False


def _cmp(value: float | None, op: str, threshold: float) -> Tri:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    value = round(value, 9)
    return {
        ">=": value >= threshold,
        ">": value > threshold,
        "<=": value <= threshold,
        "<": value < threshold,
    }[op]


def _sbp_threshold(age: float | None) -> float:
    if age is None or math.isnan(age):
        return 90.0
    if age < 1:
        return 70.0
    return 70.0 + 2.0 * math.floor(age) if math.floor(age) <= 10 else 90.0


def _in_window(frame: pd.DataFrame, at: pd.Timestamp) -> bool:
    """Any reading of ``frame`` in [at - 24 h, at]."""
    return bool(((frame["time"] >= at - WINDOW) & (frame["time"] <= at)).any())


def _last(frame: pd.DataFrame, at: pd.Timestamp) -> pd.Series | None:
    before = frame[frame["time"] <= at]
    return None if before.empty else before.iloc[-1]


def grade_patient(patient: pd.Series, events: pd.DataFrame) -> list[dict[str, object]]:
    """ASTCT 2019 bounds at every evaluation time of one patient."""
    events = events.sort_values("time", kind="stable")
    events = events.assign(
        num=pd.to_numeric(events["value"], errors="coerce"),
        attributable=events["cause"].fillna("") != "other",
    )
    start = patient["therapy_start"]
    temps = events[(events["item"] == "temperature") & events["attributable"]]
    sbps = events[(events["item"] == "sbp") & events["attributable"]]
    # Readings charted with another cause: measured, not counted (decision 0026 §5).
    other_temps = events[(events["item"] == "temperature") & ~events["attributable"]]
    other_sbps = events[(events["item"] == "sbp") & ~events["attributable"]]
    febrile = temps[(temps["num"] >= 38.0) & (temps["time"] >= start)]
    onset = febrile["time"].min() if not febrile.empty else None
    waivers = events[events["item"].isin(WAIVING)]
    waiver = None
    if onset is not None and not waivers[waivers["time"] >= onset].empty:
        waiver = waivers[waivers["time"] >= onset]["time"].min()
    pressors = {
        drug: events[(events["item"] == drug) & events["attributable"]] for drug in PRESSORS
    }
    devices = events[(events["item"] == "o2_device") & events["attributable"]]
    flows = events[(events["item"] == "o2_flow") & events["attributable"]]
    deaths = events[events["item"] == "death"]
    true_deaths = deaths[deaths["value"].str.lower() == "true"]

    expiring = events[events["item"].isin(["temperature", "sbp"])]["time"]
    tick = pd.Timedelta(microseconds=1)
    # Each instant evaluated, with the time it is reported at: a reading leaving its window at
    # time + 24 h (evaluated 1 us later); none after the record's last event (decision 0030).
    reported: dict[pd.Timestamp, pd.Timestamp] = {}
    for moment in expiring:
        reported[moment + WINDOW + tick] = moment + WINDOW
    for moment in [*events["time"], *events["end"].dropna(), start]:
        reported[moment] = moment
    until = max(events["time"].max(), start) if not events.empty else start
    latest: dict[pd.Timestamp, dict[str, object]] = {}
    for at in sorted(moment for moment in reported if moment <= until):
        in_window = temps[(temps["time"] >= at - WINDOW) & (temps["time"] <= at)]
        temp_max = None if in_window.empty else float(in_window["num"].max())
        sbp_window = sbps[(sbps["time"] >= at - WINDOW) & (sbps["time"] <= at)]
        sbp_min = None if sbp_window.empty else float(sbp_window["num"].min())
        temp_other = _in_window(other_temps, at)
        sbp_other = _in_window(other_sbps, at)
        age = patient["age_years"]
        if isinstance(patient["birth_date"], str):
            days = (at.tz_convert("UTC").date() - pd.Timestamp(patient["birth_date"]).date()).days
            age = days / 365.25
        running = {}
        for drug, frame in pressors.items():
            last = _last(frame, at)
            on = last is not None and (pd.isna(last["end"]) or last["end"] > at)
            rate = 0.0 if last is None or not on or pd.isna(last["num"]) else float(last["num"])
            running[drug] = rate > 0
        n_pressors = sum(running.values())
        n_excl = n_pressors - int(running["vasopressin"])
        device_row = _last(devices, at)
        device = "room_air"
        if device_row is not None and (pd.isna(device_row["end"]) or device_row["end"] > at):
            device = str(device_row["value"])
        flow = None
        flow_row = _last(flows, at)
        if (
            device != "room_air"
            and device_row is not None
            and flow_row is not None
            and flow_row["time"] >= device_row["time"]
            and (pd.isna(flow_row["end"]) or flow_row["end"] > at)
        ):
            flow = float(flow_row["num"])
        death_row = _last(deaths, at)
        true_row = _last(true_deaths, at)
        died = death_row is not None and str(death_row["value"]).lower() == "true"
        attributable_death = died and true_row is not None and bool(true_row["attributable"])
        onset_at = onset if onset is not None and onset <= at else None

        fever = False if temp_max is None and temp_other else _cmp(temp_max, ">=", 38.0)
        waived = waiver is not None and waiver <= at
        febrile_or_waived = _or(waived, fever)
        nasal = device in NASAL
        hypotension = (
            False if sbp_min is None and sbp_other else _cmp(sbp_min, "<", _sbp_threshold(age))
        )
        documented = (
            temp_max is not None or temp_other or (waived and (sbp_min is not None or sbp_other))
        )
        # Interpretation 8: afebrile (documented) after the onset and no waiver: [0, g].
        afebrile = onset_at is not None and not waived and fever is False
        low_flow = _or(
            device == "blow_by",
            _and(
                nasal,
                _or(
                    _cmp(flow, "<=", 6.0),
                    device == "nasal_cannula" and flow is None,
                ),
            ),
        )
        if flow is None:
            nasal_high: Tri = True if device == "high_flow_nasal_cannula" else None
        else:
            nasal_high = _cmp(flow, ">", 6.0)
        high_flow = _or(device in MASKS, _and(nasal, nasal_high))
        criteria: list[tuple[int, Tri]] = [
            (1, fever),
            (2, _and(febrile_or_waived, hypotension, n_pressors == 0)),
            (2, _and(febrile_or_waived, low_flow)),
            (3, _and(febrile_or_waived, n_pressors >= 1)),
            (3, _and(febrile_or_waived, high_flow)),
            (4, _and(febrile_or_waived, n_excl >= 2)),
            (4, _and(febrile_or_waived, device in POSITIVE_PRESSURE)),
            (5, attributable_death and onset_at is not None),
        ]
        companions: list[tuple[int, Tri]] = [
            (2, _and(afebrile, _or(_and(hypotension, n_pressors == 0), low_flow))),
            (3, _and(afebrile, _or(n_pressors >= 1, high_flow))),
            (4, _and(afebrile, _or(n_excl >= 2, device in POSITIVE_PRESSURE))),
        ]
        raw_lower = max([0] + [grade for grade, met in criteria if met is True])
        upper_met = max([raw_lower] + [grade for grade, met in companions if met is True])
        unknown = max([0] + [grade for grade, met in [*criteria, *companions] if met is None])
        gap_from_missing = unknown > max(raw_lower, upper_met)
        # The CRS-context rule (decision 0023): established by the onset or the waiver; not
        # established (a temperature charted in the window) is ASTCT's own grade 0; unknown (no
        # temperature) keeps lower at 0 and is a gap from missing data.
        established: Tri = (
            True
            if onset_at is not None or waived
            else (False if temp_max is not None or temp_other else None)
        )
        lower = raw_lower if established is True else 0
        upper = 0 if established is False else max(raw_lower, upper_met, unknown)
        gap_from_missing = gap_from_missing or established is None
        held = established is not True and raw_lower > 0
        # Decision 0026 §4.
        if lower == upper:
            status = "graded"
        elif gap_from_missing and (held or upper_met > raw_lower):
            status = "not_assessable"
        elif gap_from_missing:
            status = "provisional" if lower > 0 or documented else "not_assessable"
        else:
            status = "ambiguous"
        # Of two instants reported at one time, the later (the state from then on) is kept.
        latest[reported[at]] = {
            "patient_id": patient["id"],
            "at": reported[at],
            "grade": lower if status in ("graded", "provisional") else None,
            "status": status,
            "lower": lower,
            "upper": upper,
        }
    return list(latest.values())


def _first_table(cohort: Path, name: str) -> Path:
    """The first shard's table of a simulated cohort, or the table of one table pair."""
    folder = cohort / name
    return sorted(folder.glob("*.parquet"))[0] if folder.is_dir() else cohort / f"{name}.parquet"


def grade_cohort(cohort: Path, patients: int | None = None) -> tuple[pd.DataFrame, int]:
    """Grade the first ``patients`` of the cohort's first shard (or all of it); rows, events."""
    patient_frame = pd.read_parquet(_first_table(cohort, "patients"))
    if patients is not None:
        patient_frame = patient_frame.head(patients)
    event_frame = pd.read_parquet(
        _first_table(cohort, "events"),
        filters=[("patient_id", "in", list(patient_frame["id"]))],
    )
    rows = []
    for _, patient in patient_frame.iterrows():
        rows += grade_patient(patient, event_frame[event_frame["patient_id"] == patient["id"]])
    return pd.DataFrame(rows), len(event_frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cohort", type=Path)
    parser.add_argument("--patients", type=int, default=20)
    args = parser.parse_args()
    began = time.perf_counter()
    grades, events = grade_cohort(args.cohort, args.patients)
    seconds = time.perf_counter() - began
    print(
        json.dumps(
            {"patients": args.patients, "events": events, "rows": len(grades), "seconds": seconds}
        )
    )


if __name__ == "__main__":
    main()
