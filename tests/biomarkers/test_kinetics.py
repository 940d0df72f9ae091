"""Kinetics: baseline, peak and its time, fold change, rates and doubling times, the CRP peak
signal and the flags with their sources (seed 000 encoded as reported)."""

from __future__ import annotations

import math

import pytest

from crswatch.biomarkers import BiomarkerParameters, crp_peak_signal, kinetics
from tests.builders import at, ev, timeline
from tests.hlh._golden import load_cases


def _seed000():
    return next(c.timeline for c in load_cases() if c.id == "seed000-day4")


def _analyte(result, item):
    return next(a for a in result.analytes if a.item == item)


def test_seed000_ferritin_kinetics() -> None:
    result = kinetics(_seed000())
    ferritin = _analyte(result, "ferritin")
    assert ferritin.baseline is not None and ferritin.baseline.value == 885.0
    assert ferritin.peak is not None and ferritin.peak.value == 22544.0
    assert ferritin.peak.hours == 36.0
    assert ferritin.fold_change == pytest.approx(22544 / 885)
    # 885 -> 22,544 ng/mL in 37 h: doubling every 37 ln2 / ln(25.47) = 7.92 h.
    assert ferritin.fastest_doubling_time_hours == pytest.approx(
        37 * math.log(2) / math.log(22544 / 885)
    )
    # Last two results: 6534 (day 7) -> 2361 (day 11).
    assert ferritin.halving_time_hours == pytest.approx(96 * math.log(2) / math.log(6534 / 2361))
    assert ferritin.rate_per_day == pytest.approx((2361 - 6534) / 4)
    assert [f.id for f in ferritin.flags] == ["ferritin_above_10000"]
    assert "Teachey et al., Blood 2013" in ferritin.flags[0].source


def test_seed000_fibrinogen_low_and_falling_fast() -> None:
    fibrinogen = _analyte(kinetics(_seed000()), "fibrinogen")
    assert fibrinogen.concern == "fall"
    assert fibrinogen.peak is not None and fibrinogen.peak.value == 100.0  # the nadir
    assert [f.id for f in fibrinogen.flags] == ["fibrinogen_below_150", "fibrinogen_falling_fast"]
    fast = fibrinogen.flags[1]
    assert fast.values is not None and fast.values["decrease_from_baseline_pct"] == pytest.approx(
        (455 - 100) / 455 * 100
    )


def test_fibrinogen_boundaries() -> None:
    at_150 = [ev(-1, "fibrinogen", 300, "mg/dL"), ev(24, "fibrinogen", 150, "mg/dL")]
    flags = [f.id for f in _analyte(kinetics(timeline(at_150)), "fibrinogen").flags]
    assert "fibrinogen_below_150" not in flags  # "< 150"
    assert "fibrinogen_falling_fast" in flags  # exactly 50 % below baseline (>= 50 %)
    slow = [ev(-1, "fibrinogen", 300, "mg/dL"), ev(96, "fibrinogen", 200, "mg/dL")]
    # 33 % below baseline over 4 days (8.5 %/day): not fast.
    assert _analyte(kinetics(timeline(slow)), "fibrinogen").flags == ()
    fast_rate = [ev(0, "fibrinogen", 400, "mg/dL"), ev(24, "fibrinogen", 300, "mg/dL")]
    # No baseline; 25 %/day between successive results: fast (crswatch rule, >= 25 %/day).
    assert [f.id for f in _analyte(kinetics(timeline(fast_rate)), "fibrinogen").flags] == [
        "fibrinogen_falling_fast"
    ]


def test_ferritin_flag_boundary_is_strictly_above_10000() -> None:
    exactly = kinetics(timeline([ev(24, "ferritin", 10000, "ng/mL")]))
    assert _analyte(exactly, "ferritin").flags == ()
    above = kinetics(timeline([ev(24, "ferritin", 10000.1, "ng/mL")]))
    assert [f.id for f in _analyte(above, "ferritin").flags] == ["ferritin_above_10000"]


_CRP_RISE = [
    ev(-1, "crp", 5, "mg/L"),
    ev(24, "crp", 80, "mg/L"),
    ev(48, "crp", 200, "mg/L"),
]


def test_crp_peak_passed_after_two_falls_of_at_least_a_quarter() -> None:
    events = [*_CRP_RISE, ev(72, "crp", 160, "mg/L"), ev(96, "crp", 100, "mg/L")]
    signal = crp_peak_signal(timeline(events), at(96))
    assert signal.passed is True
    assert signal.peak is not None and signal.peak.time == at(48)
    assert (signal.falls, signal.confirmed_at) == (2, at(96))
    assert signal.fall_fraction == pytest.approx(0.5)
    assert "Lee et al., Blood 2014" in signal.source


@pytest.mark.parametrize(
    ("tail", "passed"),
    [
        ([], False),  # still at the peak
        ([ev(72, "crp", 100, "mg/L")], False),  # one fall only
        ([ev(72, "crp", 190, "mg/L"), ev(96, "crp", 180, "mg/L")], False),  # falls < 25 %
        ([ev(72, "crp", 160, "mg/L"), ev(96, "crp", 150, "mg/L")], True),  # exactly 25 %
        ([ev(72, "crp", 100, "mg/L"), ev(96, "crp", 120, "mg/L")], False),  # fell, then rose
        ([ev(72, "crp", 250, "mg/L")], False),  # a new peak
    ],
)
def test_crp_peak_rule_edges(tail: list[dict[str, object]], passed: bool) -> None:
    t = timeline([*_CRP_RISE, *tail])
    assert crp_peak_signal(t, t.events[-1].time).passed is passed


def test_crp_peak_unknown_without_crp_and_configurable() -> None:
    assert crp_peak_signal(timeline([]), at(10)).passed is None
    events = [*_CRP_RISE, ev(72, "crp", 100, "mg/L")]
    one_fall = BiomarkerParameters(crp_peak_falls=1)
    assert crp_peak_signal(timeline(events), at(72), one_fall).passed is True


def test_crp_after_tocilizumab_is_flagged_and_confounds_the_peak_signal() -> None:
    events = [
        *_CRP_RISE,
        ev(50, "tocilizumab", 560, "mg"),
        ev(72, "crp", 120, "mg/L"),
        ev(96, "crp", 40, "mg/L"),
    ]
    result = kinetics(timeline(events))
    crp = _analyte(result, "crp")
    [flag] = crp.flags
    assert flag.id == "crp_after_il6_blockade" and flag.time == at(72)
    assert "Ojemolon et al., Cureus 2022" in flag.source
    assert result.crp_peak.passed is True and result.crp_peak.confounded_by_il6_blockade


def test_il6_rise_after_tocilizumab_is_expected_not_worsening() -> None:
    events = [
        ev(40, "il6", 300, "pg/mL"),
        ev(48, "tocilizumab", 560, "mg"),
        ev(60, "il6", 900, "pg/mL"),
    ]
    il6 = _analyte(kinetics(timeline(events)), "il6")
    [flag] = il6.flags
    assert flag.id == "il6_rise_after_tocilizumab" and "Lee et al., Blood 2014" in flag.source
    assert flag.values == {"before": 300.0, "after": 900.0}
    # Without a value before the drug, nothing can be said.
    late = [ev(48, "tocilizumab", 560, "mg"), ev(60, "il6", 900, "pg/mL")]
    assert _analyte(kinetics(timeline(late)), "il6").flags == ()


def test_every_monitored_analyte_is_reported_even_when_unmeasured() -> None:
    result = kinetics(timeline([ev(1, "d_dimer", 0.5, "ug/mL{FEU}")]))
    items = [a.item for a in result.analytes]
    assert items == ["crp", "ferritin", "fibrinogen", "il6", "d_dimer", "ldh", "ast", "alt"]
    assert _analyte(result, "d_dimer").unit == "ug/mL{FEU}"
    document = result.to_dict()
    assert document["schema"] == "crswatch.biomarkers/1" and "LOD" in document["lod_rule"]


def test_transaminase_doubling_time() -> None:
    events = [ev(0, "alt", 40, "U/L"), ev(12, "alt", 80, "U/L"), ev(24, "alt", 320, "U/L")]
    alt = _analyte(kinetics(timeline(events)), "alt")
    assert alt.doubling_time_hours == pytest.approx(6.0)
    assert alt.fastest_doubling_time_hours == pytest.approx(6.0)
    assert alt.rate_per_day == pytest.approx(480.0)
