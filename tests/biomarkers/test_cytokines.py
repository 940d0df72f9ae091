"""Cytokine profile: fold change over baseline for every cytokine, and seed 000's HLH pattern."""

from __future__ import annotations

from crswatch.biomarkers import EXPECTED_HIGH, EXPECTED_NORMAL, cytokine_profile
from tests.builders import at, ev, timeline
from tests.hlh._golden import load_cases


def test_pattern_lists_are_seed_000_figure_2() -> None:
    assert EXPECTED_HIGH == ("il2r", "il6", "il8", "il10", "mcp1", "mip1b", "ifng")
    assert EXPECTED_NORMAL == (
        "il1b", "il4", "il5", "il7", "il12", "il13", "il17", "tnfa", "gm_csf",
    )  # fmt: skip


def test_seed000_profile_keeps_the_reported_values_and_cannot_classify_them() -> None:
    t = next(c.timeline for c in load_cases() if c.id == "seed000-day4")
    profile = cytokine_profile(t, at(96))
    values = {c.item: c.panel.value for c in profile.cytokines if c.panel}
    assert values == {"il6": 681.0, "il10": 5338.0, "ifng": 192.0, "il2r": 4872.0}
    # No baseline and no reference range were reported: unknown, never "normal".
    assert profile.pattern.score == 0 and len(profile.pattern.unknown) == 16


def test_derived_hlh_pattern_scores_16_of_16() -> None:
    # Derived (synthetic values with reference ranges) to exercise the seed-000 classification.
    events = [ev(96, item, 500, "pg/mL", ref_high=100) for item in EXPECTED_HIGH]
    events += [ev(96, item, 50, "pg/mL", ref_high=100) for item in EXPECTED_NORMAL]
    events.append(ev(96, "il2", 50, "pg/mL", ref_high=100))
    profile = cytokine_profile(timeline(events), at(96))
    assert (profile.pattern.score, profile.pattern.assessed) == (16, 16)
    document = profile.to_dict()
    assert document["schema"] == "crswatch.cytokines/1"
    assert document["hlh_pattern"]["shown_as"] == "16/16 match (16 assessed)"
    il2 = next(c for c in profile.cytokines if c.item == "il2")
    assert il2.expected is None and il2.matches_pattern is None


def test_mismatch_and_reference_boundary() -> None:
    events = [
        ev(96, "tnfa", 150, "pg/mL", ref_high=100),  # high where HLH expects normal
        ev(96, "il6", 100, "pg/mL", ref_high=100),  # at the limit: normal (not "> ref_high")
    ]
    pattern = cytokine_profile(timeline(events), at(96)).pattern
    assert pattern.not_matching == ("il6", "tnfa")


def test_fold_change_against_baseline_for_every_cytokine_and_the_fold_rule() -> None:
    events = [
        ev(-2, "il10", 10, "pg/mL"),
        ev(-2, "mcp1", 100, "pg/mL"),
        ev(24, "il10", 20, "pg/mL"),  # exactly 2-fold: elevated (crswatch rule, >= 2)
        ev(24, "mcp1", 150, "pg/mL"),  # 1.5-fold: normal
        ev(48, "il10", 15, "pg/mL"),
    ]
    profile = cytokine_profile(timeline(events), at(48))
    il10 = next(c for c in profile.cytokines if c.item == "il10")
    assert [il10.fold(p) for p in il10.points] == [1.0, 2.0, 1.5]
    assert il10.peak is not None and il10.fold(il10.peak) == 2.0
    assert (il10.level, il10.level_basis) == ("normal", "baseline")  # the panel is the latest
    early = cytokine_profile(timeline(events[:4]), at(24))
    levels = {c.item: c.level for c in early.cytokines}
    assert levels == {"il10": "high", "mcp1": "normal"}


def test_il2r_units_are_kept_apart() -> None:
    events = [ev(10, "il2r", 4872, "pg/mL"), ev(12, "il2r", 3000, "U/mL")]
    courses = cytokine_profile(timeline(events), at(12)).cytokines
    assert sorted((c.item, c.unit) for c in courses) == [("il2r", "U/mL"), ("il2r", "pg/mL")]
