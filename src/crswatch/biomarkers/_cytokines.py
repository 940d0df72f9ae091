"""Cytokine profile: fold change over the patient's baseline, and the HLH pattern of seed 000.

For every cytokine measured (the ``cytokine`` group of the timeline vocabulary; il2r in pg/mL
and in U/mL kept apart), up to T: the baseline (last result in [therapy_start -
baseline_window, therapy_start]), every result with its fold change over the baseline, the peak
after the therapy start and its fold change.  Results below the limit of detection use half the
LOD and are flagged (seed 004, :mod:`crswatch.biomarkers._lod`); a fold change computed from a
censored value says so.

HLH pattern (seed 000, Teachey et al., Blood 2013, Figure 2 and refs 7, 8, 14, 15): "IL-2R, IL-6,
IL-8, IL-10, monocyte chemoattractant protein (MCP)-1, macrophage-inflammatory protein (MIP)1B,
and INF-gamma were elevated, and IL-1B, IL-4, IL-5, IL-7, IL-12, IL-13, IL-17, tumor necrosis
factor (TNF)-a, and granulocyte macrophage-colony-stimulating factor (GM-CSF) were normal. This
cytokine profile is identical to other published work investigating cytokines in children with
HLH."  IL-2 "can be normal or elevated in HLH" and is shown, not scored.

Each of the 16 scored cytokines is classified from its latest result in the panel window
``[T - cytokine_panel_window, T]``: above the result's own ``ref_high`` is high, at or below it
normal; without a reference range, a fold change over baseline >= ``cytokine_elevation_fold`` is
high (a crswatch rule) and below it normal; with neither, unknown (never normal).  The score is
the number of cytokines that match the pattern, out of 16, with the mismatches and unknowns
listed.  It is descriptive: the seed publishes no threshold and the pattern is not a diagnostic
criterion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from crswatch.biomarkers._common import Point, baseline_of, holds, series
from crswatch.biomarkers._lod import LOD_RULE
from crswatch.biomarkers._params import BiomarkerParameters
from crswatch.references import cite
from crswatch.timeline import Timeline, format_time, vocabulary

__all__ = [
    "CYTOKINES_SCHEMA",
    "EXPECTED_HIGH",
    "EXPECTED_NORMAL",
    "CytokineCourse",
    "CytokineProfile",
    "HLHPattern",
    "cytokine_profile",
]

CYTOKINES_SCHEMA = "crswatch.cytokines/1"
#: Seed 000 Figure 2: expected elevated in HLH (top half of the figure).
EXPECTED_HIGH = ("il2r", "il6", "il8", "il10", "mcp1", "mip1b", "ifng")
#: Seed 000 Figure 2: expected normal in HLH (bottom half of the figure).
EXPECTED_NORMAL = ("il1b", "il4", "il5", "il7", "il12", "il13", "il17", "tnfa", "gm_csf")
_SOURCE = (
    cite("teachey2013", "Figure 2 and its references 7, 8, 14, 15")
    + " (Tang 2008, Xu 2012, Olin 2008, Tamura 2008)"
)
Level = Literal["high", "normal", "unknown"]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


@dataclass(frozen=True, slots=True)
class CytokineCourse:
    """One cytokine (in one unit): baseline, results with fold changes, peak, panel level."""

    item: str
    unit: str | None
    baseline: Point | None
    points: tuple[Point, ...]
    peak: Point | None
    panel: Point | None
    level: Level
    #: What the level was read against: ``reference_range``, ``baseline`` or None.
    level_basis: str | None
    expected: Literal["high", "normal"] | None

    def fold(self, point: Point | None) -> float | None:
        if point is None or self.baseline is None or self.baseline.value <= 0:
            return None
        return point.value / self.baseline.value

    @property
    def matches_pattern(self) -> bool | None:
        if self.expected is None or self.level == "unknown":
            return None
        return self.level == self.expected

    def to_dict(self) -> dict[str, Any]:
        censored_fold = self.baseline is not None and self.baseline.stat.censored is not None
        return {
            "item": self.item,
            "unit": self.unit,
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "peak": self.peak.to_dict() if self.peak else None,
            "peak_fold_change": _round(self.fold(self.peak)),
            "panel": self.panel.to_dict() if self.panel else None,
            "panel_fold_change": _round(self.fold(self.panel)),
            "level": self.level,
            "level_basis": self.level_basis,
            "expected_in_hlh": self.expected,
            "matches_pattern": self.matches_pattern,
            "fold_change_uses_censored_baseline": censored_fold,
            "results": [{**p.to_dict(), "fold_change": _round(self.fold(p))} for p in self.points],
        }


@dataclass(frozen=True, slots=True)
class HLHPattern:
    """How the panel at T compares with seed 000's HLH cytokine pattern."""

    matching: tuple[str, ...]
    not_matching: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def score(self) -> int:
        return len(self.matching)

    @property
    def assessed(self) -> int:
        return len(self.matching) + len(self.not_matching)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "assessed": self.assessed,
            "total": len(EXPECTED_HIGH) + len(EXPECTED_NORMAL),
            "shown_as": f"{self.score}/{len(EXPECTED_HIGH) + len(EXPECTED_NORMAL)} match "
            f"({self.assessed} assessed)",
            "expected_high": list(EXPECTED_HIGH),
            "expected_normal": list(EXPECTED_NORMAL),
            "matching": list(self.matching),
            "not_matching": list(self.not_matching),
            "unknown": list(self.unknown),
            "informational": {
                "il2": "IL-2 can be normal or elevated in HLH (Teachey et al., Blood 2013)"
            },
            "source": _SOURCE,
            "note": "Descriptive: no threshold is published; not a diagnostic criterion.",
        }


@dataclass(frozen=True, slots=True)
class CytokineProfile:
    """Every cytokine for one patient at T, and the HLH pattern."""

    patient_id: str
    at: datetime
    cytokines: tuple[CytokineCourse, ...]
    pattern: HLHPattern
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": CYTOKINES_SCHEMA,
            "patient_id": self.patient_id,
            "at": format_time(self.at),
            "hlh_pattern": self.pattern.to_dict(),
            "cytokines": [c.to_dict() for c in self.cytokines],
            "lod_rule": LOD_RULE,
            "parameters": self.parameters,
        }


def _expected(item: str) -> Literal["high", "normal"] | None:
    if item in EXPECTED_HIGH:
        return "high"
    if item in EXPECTED_NORMAL:
        return "normal"
    return None


def _level(
    panel: Point | None, baseline: Point | None, params: BiomarkerParameters
) -> tuple[Level, str | None]:
    if panel is None:
        return "unknown", None
    if panel.ref_high is not None:
        above = holds(panel.value, ">", panel.ref_high)
        return ("high" if above else "normal"), "reference_range"
    if baseline is not None and baseline.value > 0:
        above = holds(panel.value / baseline.value, ">=", params.cytokine_elevation_fold)
        return ("high" if above else "normal"), "baseline"
    return "unknown", None


def _course(
    timeline: Timeline, item: str, unit: str, at: datetime, params: BiomarkerParameters
) -> CytokineCourse:
    start = timeline.patient.therapy.start
    points = series(timeline, item, at, unit)
    baseline = baseline_of(points, start, params.baseline_window)
    after = [p for p in points if p.time >= start]
    peak = max(after, key=lambda p: (p.value, p.time)) if after else None
    in_panel = [p for p in points if at - params.cytokine_panel_window <= p.time <= at]
    panel = in_panel[-1] if in_panel else None
    level, basis = _level(panel, baseline, params)
    return CytokineCourse(
        item=item,
        unit=unit,
        baseline=baseline,
        points=tuple(points),
        peak=peak,
        panel=panel,
        level=level,
        level_basis=basis,
        expected=_expected(item),
    )


def cytokine_profile(
    timeline: Timeline, at: datetime | None = None, params: BiomarkerParameters | None = None
) -> CytokineProfile:
    """The cytokine profile of one timeline at ``at`` (default: its last event)."""
    params = params or BiomarkerParameters()
    if at is None:
        at = max((e.time for e in timeline.events), default=timeline.patient.therapy.start)
    cytokine_items = [name for name, spec in vocabulary().items() if spec.group == "cytokine"]
    courses: list[CytokineCourse] = []
    for item in cytokine_items:
        units = dict.fromkeys(
            e.unit for e in timeline.of(item) if e.time <= at and e.unit is not None
        )
        courses += [_course(timeline, item, unit, at, params) for unit in units]
    matching: list[str] = []
    not_matching: list[str] = []
    unknown: list[str] = []
    for item in (*EXPECTED_HIGH, *EXPECTED_NORMAL):
        known = [c for c in courses if c.item == item and c.level != "unknown"]
        if not known:
            unknown.append(item)
        elif known[0].matches_pattern:
            matching.append(item)
        else:
            not_matching.append(item)
    return CytokineProfile(
        patient_id=timeline.patient.id,
        at=at,
        cytokines=tuple(courses),
        pattern=HLHPattern(tuple(matching), tuple(not_matching), tuple(unknown)),
        parameters=params.to_dict(),
    )
