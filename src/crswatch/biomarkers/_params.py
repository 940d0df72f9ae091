"""Named, configurable parameters of the biomarker analyses, echoed in every result.

The thresholds written in a source (ferritin > 10,000 ng/mL, fibrinogen < 150 mg/dL, EASIX >
4.67) are constants beside their source, not parameters; these are the choices crswatch makes
where the sources are silent (docs/decisions/0012-biomarkers.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

__all__ = ["BiomarkerParameters"]


@dataclass(frozen=True, slots=True)
class BiomarkerParameters:
    """Windows and crswatch rules of the kinetics, cytokine profile and risk scores."""

    #: Baseline: the last result in [therapy_start - baseline_window, therapy_start]
    #: (as the state engine's ``lab_baseline_window``).
    baseline_window: timedelta = timedelta(days=30)
    #: "CRP peak has passed" (crswatch rule for seed 003's "declining CRP ... identify the peak"):
    #: the last ``crp_peak_falls`` CRP results after the maximum each fell ...
    crp_peak_falls: int = 2
    #: ... and the latest is at least this fraction below the maximum.
    crp_peak_min_fall: float = 0.25
    #: "Fibrinogen falling fast" (crswatch rule): a fall between successive results of at least
    #: this many percent of the earlier value per 24 h ...
    fibrinogen_fast_fall_pct_per_day: float = 25.0
    #: ... or a decrease from baseline of at least this many percent (CTCAE v4.03 "Fibrinogen
    #: decreased" grade 3 starts at a 50 % decrease from baseline, clinical-criteria §1.4 [V]).
    fibrinogen_fall_from_baseline_pct: float = 50.0
    #: Cytokine panel at T: the latest result of each cytokine in [T - window, T].
    cytokine_panel_window: timedelta = timedelta(hours=72)
    #: A cytokine without a reference range counts as elevated at this fold change over the
    #: patient's baseline (crswatch rule; no source gives one).
    cytokine_elevation_fold: float = 2.0
    #: Pre-treatment risk: the latest result in [reference - window, reference], the reference
    #: being the therapy start unless another time is given.
    pretreatment_window: timedelta = timedelta(days=7)
    #: Compute CAR-HEMATOTOX, whose point table is unverified [R] (off by default).
    include_unverified: bool = False

    def with_(self, **changes: Any) -> BiomarkerParameters:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if isinstance(value, timedelta):
                out[f"{name}_hours"] = value.total_seconds() / 3600
            else:
                out[name] = value
        return out
