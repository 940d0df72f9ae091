"""The CRS-context rule: no hard CRS grade on any scale before CRS is established.

docs/decisions/0023-crs-context.md; the golden cases are in tests/golden/crs_context.yaml.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crswatch.episodes import trajectory
from crswatch.scales import (
    ALL_SCALES,
    CRS_CONTEXT_ID,
    CRS_SCALES,
    GradeResult,
    crs_established,
    get_scale,
    grade_frame,
    grade_results,
    grade_timelines,
)
from crswatch.state import StateParameters, state_of
from crswatch.timeline import Timeline
from tests.builders import at, ev, timeline

LITERAL = StateParameters(crs_definition="scale_literal")


def _normal_labs(hours: float) -> list[dict[str, Any]]:
    return [
        ev(hours, "alt", 30, "U/L", ref_high=40),
        ev(hours, "ast", 30, "U/L", ref_high=40),
        ev(hours, "bilirubin", 0.8, "mg/dL", ref_high=1.2),
        ev(hours, "creatinine", 0.9, "mg/dL", ref_high=1.2),
    ]


def _s5m(fever: bool = False) -> Timeline:
    """Patient S5M-000000 of ``simulate --seed 5`` reduced: creatinine 0.52 -> 0.53 mg/dL."""
    events = [
        ev(-2, "temperature", 36.8, "Cel"),
        ev(-2, "alt", 22, "U/L"),
        ev(-2, "ast", 30, "U/L"),
        ev(-2, "bilirubin", 0.9, "mg/dL"),
        ev(-2, "creatinine", 0.52, "mg/dL"),
        ev(216, "temperature", 37.1, "Cel"),
        ev(216, "sbp", 105, "mm[Hg]"),
        ev(216, "alt", 30, "U/L"),
        ev(216, "ast", 30, "U/L"),
        ev(216, "bilirubin", 1.1, "mg/dL"),
        ev(216, "creatinine", 0.53, "mg/dL"),
    ]
    if fever:
        events.append(ev(24, "temperature", 38.4, "Cel"))
    return timeline(events, patient_id="S5M-000000", age_years=9, weight_kg=38.2, height_cm=145.6)


def _crs(tl: Timeline, params: StateParameters | None = None) -> dict[str, GradeResult]:
    (graded,) = grade_timelines([tl], scales=list(CRS_SCALES), params=params)
    return graded.crs


def test_the_rule_is_on_by_default_and_echoed() -> None:
    assert StateParameters().crs_definition == "astct2019"
    result = _crs(_s5m())["upenn_chop2016"]
    assert result.parameters["crs_definition"] == "astct2019"
    assert _crs(_s5m(), LITERAL)["upenn_chop2016"].parameters["crs_definition"] == "scale_literal"


def test_afebrile_creatinine_is_ambiguous_with_the_reason_and_source() -> None:
    result = _crs(_s5m())["upenn_chop2016"]
    assert (result.status, result.grade, result.bounds) == ("ambiguous", None, (0, 2))
    assert result.criteria_met == ("upenn_chop2016.organ.g2",)
    context = result.deciding
    assert context is not None and context.criterion_id == CRS_CONTEXT_ID
    assert context.met is False
    assert "Lee 2019 (ASTCT)" in context.source_ref
    assert context.values["onset_at"] is None and context.values["fever_waived"] is False
    expected = (
        "CRS not established at T: no fever since the therapy start (ASTCT 2019 consensus "
        "definition of CRS: fever at onset, following the immune therapy); upenn_chop2016's "
        "wording does not decide whether these findings are CRS"
    )
    assert expected in result.warnings
    assert context.note == expected


def test_scale_literal_restores_the_literal_grades() -> None:
    literal = _crs(_s5m(), LITERAL)
    assert (literal["upenn_chop2016"].status, literal["upenn_chop2016"].grade) == ("graded", 2)
    assert (literal["cartox2018"].status, literal["cartox2018"].grade) == ("graded", 1)
    assert all(e.criterion_id != CRS_CONTEXT_ID for e in literal["upenn_chop2016"].evidence)
    assert not any("CRS not established" in w for w in literal["upenn_chop2016"].warnings)


def test_a_fever_since_the_start_gives_the_hard_grade() -> None:
    graded = _crs(_s5m(fever=True))
    assert (graded["upenn_chop2016"].status, graded["upenn_chop2016"].grade) == ("graded", 2)
    assert (graded["cartox2018"].status, graded["cartox2018"].grade) == ("graded", 1)
    assert graded["upenn_chop2016"].deciding is not None
    assert graded["upenn_chop2016"].deciding.criterion_id == "upenn_chop2016.organ.g2"


def test_grade_frame_agrees_with_grade_results_under_both_definitions() -> None:
    tls = [_s5m(), _s5m(fever=True)]
    state = state_of(tls, at=at(216))
    for definition in ("astct2019", "scale_literal"):
        for scale in CRS_SCALES.values():
            frame = grade_frame(scale, state, crs_definition=definition)
            results = grade_results(scale, state, {"crs_definition": definition})
            assert frame["lower"].to_list() == [r.bounds[0] for r in results]
            assert frame["upper"].to_list() == [r.bounds[1] for r in results]
            assert frame["status"].to_list() == [r.status for r in results]


def test_trajectory_follows_the_parameter() -> None:
    default = trajectory([_s5m()], scales=["upenn_chop2016"])
    literal = trajectory([_s5m()], scales=["upenn_chop2016"], params=LITERAL)
    assert default["lower"].max() == 0
    assert default.filter(pl.col("status") == "graded")["grade"].max() == 0
    assert literal["grade"].max() == 2


def test_premedication_before_the_start_does_not_establish_crs() -> None:
    tl = timeline(
        [
            ev(-1, "dexamethasone", 10, "mg"),
            ev(48, "temperature", 37.0, "Cel"),
            ev(48, "sbp", 84, "mm[Hg]"),
            ev(44, "norepinephrine", 5, "ug/min"),
            *_normal_labs(48),
        ]
    )
    ctcae = _crs(tl)["ctcae_v4"]
    assert (ctcae.status, ctcae.bounds) == ("ambiguous", (0, 4))
    assert _crs(tl)["astct2019"].grade == 0


def test_unknown_context_is_not_assessable_not_a_silent_zero() -> None:
    tl = timeline([ev(48, "sbp", 84, "mm[Hg]"), *_normal_labs(48)])
    lee = _crs(tl)["lee2014"]
    assert (lee.status, lee.bounds) == ("not_assessable", (0, 2))
    assert lee.missing == ("temperature: none in the last 24 h",)
    context = next(e for e in lee.evidence if e.criterion_id == CRS_CONTEXT_ID)
    assert context.met is None


def test_crs_established_is_kleene() -> None:
    frame = pl.DataFrame(
        {
            "onset_at": [at(1), None, None, None, None],
            "fever_waived": [False, True, False, False, False],
            "temp_max_c": [37.0, 37.0, None, 37.0, None],
            "temp_max_c_other_n": [0, 0, 0, 0, 1],
        },
        schema={
            "onset_at": pl.Datetime("us", "UTC"),
            "fever_waived": pl.Boolean,
            "temp_max_c": pl.Float64,
            "temp_max_c_other_n": pl.UInt32,
        },
    )
    # The last row: only a temperature charted with another cause — measured, so not unknown.
    assert frame.select(crs_established())[:, 0].to_list() == [True, True, None, False, False]


def test_icans_is_unaffected_and_astct_defines_crs_itself() -> None:
    assert all(s.context_rule == "none" for s in ALL_SCALES.values() if s.kind == "icans")
    assert get_scale("astct2019").context_rule == "definition"
    assert {s.context_rule for k, s in CRS_SCALES.items() if k != "astct2019"} == {"ambiguous"}


# Findings over the therapy start: temperatures below 38 °C after it (any before it), with
# hypotension, pressors, oxygen and organ labs of any severity; evaluated at a time with no fever
# since the start and no waiver.
_FINDINGS = st.fixed_dictionaries(
    {
        "pre_temp": st.sampled_from([36.5, 38.2, 39.5]),
        "temp": st.sampled_from([36.5, 37.4, 37.9]),
        "sbp": st.sampled_from([120, 89, 70]),
        "pressor": st.sampled_from([0.0, 5.0, 30.0]),
        "oxygen": st.sampled_from(["room_air", "nasal_cannula", "face_mask", "bipap"]),
        "creatinine": st.sampled_from([0.9, 2.0, 8.0]),
        "alt": st.sampled_from([30, 300, 1000]),
        "eval_hours": st.sampled_from([-3.0, 0.0, 2.0, 30.0]),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings=_FINDINGS)
def test_no_hard_crs_grade_without_fever_since_the_start(findings: dict[str, Any]) -> None:
    t = findings["eval_hours"]
    events = [ev(-4, "temperature", findings["pre_temp"], "Cel")]
    if t >= 0:
        events.append(ev(t, "temperature", findings["temp"], "Cel"))
    events += [
        ev(t, "sbp", findings["sbp"], "mm[Hg]"),
        ev(t, "o2_device", findings["oxygen"]),
        ev(t, "fio2", 60, "%"),
        ev(t, "alt", findings["alt"], "U/L", ref_high=40),
        ev(t, "ast", 30, "U/L", ref_high=40),
        ev(t, "bilirubin", 0.8, "mg/dL", ref_high=1.2),
        ev(t, "creatinine", findings["creatinine"], "mg/dL", ref_high=1.2),
    ]
    if findings["pressor"]:
        events.append(ev(t - 0.5, "norepinephrine", findings["pressor"], "ug/min"))
    (graded,) = grade_timelines([timeline(events)], at=at(t), scales=list(CRS_SCALES))
    for scale_id, result in graded.crs.items():
        assert result.bounds[0] == 0, (scale_id, findings, result.to_dict())
        assert result.grade in (None, 0), (scale_id, findings, result.to_dict())
