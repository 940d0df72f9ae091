"""Shared helpers of the Lee 2014, CTCAE v4.03/v5.0 and MSKCC scale tests.

Two ways in: :func:`grade` reads a compact timeline (as the golden harness does) and grades it
end to end; :func:`state_row` builds one clinical-state row by hand, every column the four
scales read with a normal default, for Kleene-logic and property tests of the criteria alone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import polars as pl

from crswatch.io import read_json_document
from crswatch.scales import GradeResult, Scale, get_scale, grade_frame, grade_timelines
from crswatch.state import StateParameters
from crswatch.timeline import Timeline, format_time
from tests.golden._harness import START, relative

AT = datetime(2024, 1, 3, 8, 0, tzinfo=UTC)

#: A normal state: afebrile, normotensive, room air, no pressor, all organ labs grade 0.
NORMAL: dict[str, Any] = {
    "temp_max_c": 37.0,
    "temp_max_c_other_n": 0,
    "sbp_min_other_n": 0,
    "fever_waived": False,
    "episode_onset_at": None,
    "sbp_min": 118.0,
    "sbp_threshold": 90.0,
    "hypotension": False,
    "fluid_boluses_n": 0,
    "pressors_running": 0,
    "norepinephrine_ug_min": 0.0,
    "epinephrine_ug_min": 0.0,
    "phenylephrine_ug_min": 0.0,
    "dopamine_ug_kg_min": 0.0,
    "vasopressin_u_min": 0.0,
    "ne_equivalent_ug_min": 0.0,
    "high_dose_now": False,
    "high_dose_since": None,
    "high_dose_sustained": False,
    "pressor_hours": 0.0,
    "o2_device": "room_air",
    "fio2_pct": 21.0,
    "fio2_source": "room_air",
    "positive_pressure": False,
    "invasive_ventilation": False,
    "organ_tox_v4_max": 0,
    "organ_tox_v4_max_excl_transaminitis": 0,
    "transaminitis_v4": 0,
    "organ_tox_v4_complete": True,
    "organ_tox_v4_missing": [],
    "death": False,
    "death_attributable": False,
    "onset_at": None,
}
_SCHEMA: dict[str, Any] = {
    "patient_id": pl.String,
    "at": pl.Datetime("us", "UTC"),
    "temp_max_c": pl.Float64,
    "temp_max_c_other_n": pl.UInt32,
    "sbp_min_other_n": pl.UInt32,
    "fever_waived": pl.Boolean,
    "episode_onset_at": pl.Datetime("us", "UTC"),
    "sbp_min": pl.Float64,
    "sbp_threshold": pl.Float64,
    "hypotension": pl.Boolean,
    "fluid_boluses_n": pl.Int64,
    "pressors_running": pl.Int32,
    "ne_equivalent_ug_min": pl.Float64,
    "high_dose_now": pl.Boolean,
    "high_dose_since": pl.Datetime("us", "UTC"),
    "high_dose_sustained": pl.Boolean,
    "pressor_hours": pl.Float64,
    "o2_device": pl.String,
    "fio2_pct": pl.Float64,
    "fio2_source": pl.String,
    "positive_pressure": pl.Boolean,
    "invasive_ventilation": pl.Boolean,
    "organ_tox_v4_max": pl.Int8,
    "organ_tox_v4_max_excl_transaminitis": pl.Int8,
    "transaminitis_v4": pl.Int8,
    "organ_tox_v4_complete": pl.Boolean,
    "organ_tox_v4_missing": pl.List(pl.String),
    "death": pl.Boolean,
    "death_attributable": pl.Boolean,
    "onset_at": pl.Datetime("us", "UTC"),
}


#: Columns derived from others unless a row gives them (``_derived``).
DERIVED = ("fio2_low_pct", "fio2_high_pct", "refractory_hypotension", "sbp_on_high_dose")


def state_row(**changes: Any) -> dict[str, Any]:
    """A state row: :data:`NORMAL` with ``changes``."""
    unknown = set(changes) - set(NORMAL) - set(DERIVED)
    assert not unknown, f"not a state column of these scales: {sorted(unknown)}"
    return {"patient_id": "p", "at": AT, **NORMAL, **changes}


def _derived(row: dict[str, Any]) -> dict[str, Any]:
    """The derived columns a row does not give: a charted FiO2 (``fio2_low_pct`` and
    ``fio2_high_pct`` equal to ``fio2_pct``), and no SBP measured on a sustained high dose
    (``refractory_hypotension`` unknown while one is sustained, else False)."""
    defaults = {
        "fio2_low_pct": row["fio2_pct"],
        "fio2_high_pct": row["fio2_pct"],
        "refractory_hypotension": None if row["high_dose_sustained"] else False,
        "sbp_on_high_dose": None,
    }
    return {**defaults, **row}


def state_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows of :func:`state_row` as a typed state table."""
    rows = [_derived(row) for row in rows]
    schema = {name: _SCHEMA.get(name, pl.Float64) for name in rows[0]}
    schema["refractory_hypotension"] = pl.Boolean
    return pl.DataFrame(rows, schema=schema)


def bounds_of(scale_id: str, rows: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """``(status, lower, upper)`` of each row on one scale (the vectorized path).

    These tests read each scale's literal criteria, so the CRS-context rule is off
    (``scale_literal``); tests/scales/test_crs_context.py tests the rule.
    """
    graded = grade_frame(get_scale(scale_id), state_frame(rows), crs_definition="scale_literal")
    return [
        (row["status"], row["lower"], row["upper"])
        for row in graded.select("status", "lower", "upper").iter_rows(named=True)
    ]


def timeline(events: list[dict[str, Any]], **patient: Any) -> Timeline:
    """A timeline from compact events (``t: 2d1h`` offsets from the therapy start)."""
    document = {
        "format": "crswatch.timeline/1",
        "patient": {
            "id": "P",
            "age_years": 50,
            "weight_kg": 70.0,
            "height_cm": 170,
            "therapy": {"kind": "car_t", "start": format_time(START)},
            **patient,
        },
        "events": [
            {**{k: v for k, v in e.items() if k != "t"}, "time": format_time(relative(e["t"]))}
            for e in events
        ],
    }
    result = read_json_document(document, "test")
    assert not result.report.issues, [issue.message for issue in result.report.issues]
    return result.timelines[0]


def grade(
    scale_id: str,
    events: list[dict[str, Any]],
    *,
    at: str | None = None,
    params: StateParameters | None = None,
    **patient: Any,
) -> GradeResult:
    """The result of one scale for a compact timeline, at ``at`` (default: the last event).

    The scale's literal criteria: the CRS-context rule is off (``scale_literal``).
    """
    when = relative(at) if at is not None else None
    literal = (params or StateParameters()).with_(crs_definition="scale_literal")
    (graded,) = grade_timelines(
        [timeline(events, **patient)], at=when, scales=[scale_id], params=literal
    )
    return graded.crs[scale_id]


def normal_labs(t: str) -> list[dict[str, Any]]:
    """ALT, AST, bilirubin and creatinine within their reference ranges at ``t``."""
    return [
        {"t": t, "item": "alt", "value": 30, "unit": "U/L", "ref_high": 40},
        {"t": t, "item": "ast", "value": 30, "unit": "U/L", "ref_high": 40},
        {"t": t, "item": "bilirubin", "value": 0.8, "unit": "mg/dL", "ref_high": 1.2},
        {"t": t, "item": "creatinine", "value": 0.9, "unit": "mg/dL", "ref_high": 1.2},
    ]


_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def assert_labelled(scale: Scale, module_doc: str | None) -> None:
    """peers.md §5 (MDCalc shows Lee 2014 under "CRS Grading"): a scale always says what it is.

    Id, version, title and citation present; a DOI, or the docstring's reason for having none;
    criteria ids non-empty, unique and prefixed by the scale id; interpretations read from the
    docstring and every "interpretation N" a note cites exists.
    """
    assert scale.id and scale.version and scale.title and scale.citation
    assert scale.kind == "crs"
    if scale.doi is None:
        assert "No DOI:" in (module_doc or ""), f"{scale.id}: no DOI and no reason given"
    else:
        assert _DOI.match(scale.doi), scale.doi
        assert f"doi:{scale.doi}" in (module_doc or ""), "the docstring cites the DOI"
    ids = [criterion.id for criterion in scale.criteria]
    assert ids and all(ids), "criteria ids are non-empty"
    assert len(ids) == len(set(ids)), "criteria ids are unique"
    assert all(i.startswith(f"{scale.id}.") for i in ids), ids
    assert scale.interpretations, "interpretations are numbered in the docstring"
    for criterion in scale.criteria:
        assert criterion.source_text and criterion.source_ref, criterion.id
        assert criterion.upper >= criterion.grade, criterion.id
        for cited in re.findall(r"interpretations? ([\d, ]+)", criterion.note or ""):
            for number in re.findall(r"\d+", cited):
                assert 1 <= int(number) <= len(scale.interpretations), (criterion.id, number)


# --------------------------------------------------------------------------------------------
# Property: worsening one input never lowers either bound (ARCHITECTURE, conformance battery).

_DEVICES = ("room_air", "nasal_cannula", "face_mask", "high_flow_nasal_cannula", "cpap", "bipap")
_ESCALATION = {"room_air": "face_mask", "face_mask": "cpap", "cpap": "mechanical_ventilation"}


def _device_columns(device: str, fio2: float | None) -> dict[str, Any]:
    return {
        "o2_device": device,
        "fio2_pct": 21.0 if device == "room_air" else fio2,
        "fio2_source": "room_air" if device == "room_air" else "measured",
        "positive_pressure": device in ("cpap", "bipap", "mechanical_ventilation"),
        "invasive_ventilation": device == "mechanical_ventilation",
    }


def _organ_columns(excl: int | None, trans: int | None) -> dict[str, Any]:
    known = [g for g in (excl, trans) if g is not None]
    return {
        "organ_tox_v4_max_excl_transaminitis": excl,
        "transaminitis_v4": trans,
        "organ_tox_v4_max": max(known) if known else None,
    }


def random_state(draw: Any, st: Any) -> dict[str, Any]:
    """One consistent state row drawn with hypothesis (``draw``, ``strategies``)."""
    pressors = draw(st.integers(0, 3))
    device = draw(st.sampled_from((*_DEVICES, "mechanical_ventilation")))
    fio2 = draw(st.one_of(st.none(), st.integers(21, 100).map(float)))
    excl = draw(st.one_of(st.none(), st.integers(0, 4)))
    trans = draw(st.one_of(st.none(), st.integers(0, 4)))
    died = draw(st.booleans())
    return state_row(
        temp_max_c=draw(st.one_of(st.none(), st.floats(36.0, 41.0).map(lambda t: round(t, 1)))),
        hypotension=draw(st.one_of(st.none(), st.booleans())),
        pressors_running=pressors,
        high_dose_sustained=pressors > 0 and draw(st.booleans()),
        pressor_hours=float(draw(st.integers(1, 72))) if pressors else 0.0,
        death=died,
        death_attributable=died,
        onset_at=AT if died else None,
        **_device_columns(device, fio2),
        **_organ_columns(excl, trans),
    )


def worsenings(row: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every single-input worsening of ``row`` (known values only: missing is not a value)."""
    out: list[tuple[str, dict[str, Any]]] = []
    if row["temp_max_c"] is not None:
        out.append(("fever", {**row, "temp_max_c": row["temp_max_c"] + 1.5}))
    if row["hypotension"] is False:
        out.append(("hypotension", {**row, "hypotension": True}))
    out.append(("one more pressor", {**row, "pressors_running": row["pressors_running"] + 1}))
    if row["pressors_running"]:
        out.append(("longer", {**row, "pressor_hours": row["pressor_hours"] + 24.0}))
        out.append(("high dose", {**row, "high_dose_sustained": True}))
    if row["o2_device"] != "room_air" and row["fio2_pct"] is not None:
        out.append(("more oxygen", {**row, "fio2_pct": min(100.0, row["fio2_pct"] + 20.0)}))
    if row["o2_device"] in _ESCALATION:
        fio2 = row["fio2_pct"] if row["o2_device"] != "room_air" else 30.0
        worse = _device_columns(_ESCALATION[row["o2_device"]], fio2)
        out.append(("device", {**row, **worse}))
    excl, trans = row["organ_tox_v4_max_excl_transaminitis"], row["transaminitis_v4"]
    if excl is not None and excl < 4:
        out.append(("organ", {**row, **_organ_columns(excl + 1, trans)}))
    if trans is not None and trans < 4:
        out.append(("transaminases", {**row, **_organ_columns(excl, trans + 1)}))
    if not row["death_attributable"]:
        out.append(("death", {**row, "death": True, "death_attributable": True, "onset_at": AT}))
    return out


def assert_worsening_never_lowers(scale_id: str, row: dict[str, Any]) -> None:
    changes = worsenings(row)
    rows = [row, *(changed for _, changed in changes)]
    results = bounds_of(scale_id, rows)
    _, low, high = results[0]
    for (what, _), (_, low2, high2) in zip(changes, results[1:], strict=True):
        assert low2 >= low and high2 >= high, (scale_id, what, row, (low, high), (low2, high2))
