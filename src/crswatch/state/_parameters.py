"""Named, configurable parameters of the clinical state, echoed in every result.

Every look-back window is closed at both ends, ``[T - window, T]``: an observation exactly
``window`` before T still counts, and one at T counts.  (Engines disagree on this by default;
ecosystem notes §3.1: Polars' ``rolling`` is ``(T-w, T]``, DuckDB and Spark ``[T-w, T]``.  We pin
``[T-w, T]`` and test both edges.)  Infusions and respiratory support are *running at T* when
their last event at or before T started at or before T and had not ended: ``start <= T < end``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

__all__ = ["CrsDefinition", "FeverWaiver", "FiO2Rule", "StateParameters"]

#: How FiO2 is estimated from nasal-cannula flow when it is not measured
#: (shared/spec/clinical-criteria.md §1.11):
#: ``fpnotebook``: about 20 % + 4 % per L/min (1 L 24 %, 6 L 44 %);
#: ``pmc4753186``: 2 L 25 %, 4 L 30 %, 6-8 L 40 %, 9-10 L 50 % (stepwise, PMC4753186 Table 3);
#: ``none``: never estimate (FiO2-based scales then report the FiO2 as missing).
FiO2Rule = Literal["fpnotebook", "pmc4753186", "none"]
#: When a CRS scale may give a hard grade (docs/decisions/0023-crs-context.md):
#: ``astct2019``: only once CRS is established, by an attributable fever >= 38.0 °C at or after the
#: therapy start or the ASTCT fever waiver (Lee 2019, BBMT 25:625, consensus definition of CRS:
#: fever at onset, following the immune therapy); before that every CRS scale is at most
#: ``ambiguous`` [0, upper];
#: ``scale_literal``: each scale's own wording only (findings count whether or not CRS began).
CrsDefinition = Literal["astct2019", "scale_literal"]
#: What lifts the ASTCT 2019 fever requirement once CRS has begun (discrepancy D2, resolved;
#: docs/decisions/0026-fever-waiver-and-provisional-grades.md):
#: ``antipyretic_or_anticytokine`` (the default): an antipyretic, an anti-cytokine drug
#: (tocilizumab, siltuximab, anakinra) or a corticosteroid, as the verified footnote reads: "when
#: antipyretic or anticytokine therapy is initiated (e.g., tocilizumab or steroids), CRS grading
#: is driven by hypotension and hypoxia only" (Lee 2019, Table 1 as reproduced in PMC8021214);
#: ``anticytokine_or_steroid``: the narrower reading of the SITC 2020 guideline ("tocilizumab or
#: steroids"): antipyretics do not lift it.
FeverWaiver = Literal["antipyretic_or_anticytokine", "anticytokine_or_steroid"]


@dataclass(frozen=True, slots=True)
class StateParameters:
    """Windows and rules of the clinical state; the defaults are documented choices."""

    #: Fever: the highest attributable temperature in [T - window, T].
    fever_window: timedelta = timedelta(hours=24)
    #: Fever threshold, >= (ASTCT 2019: "Temp >= 38 °C").
    fever_threshold_c: float = 38.0
    #: Hypotension: the lowest attributable SBP in [T - window, T].
    hypotension_window: timedelta = timedelta(hours=24)
    #: Fluid boluses counted in [T - window, T].
    fluid_window: timedelta = timedelta(hours=24)
    #: Lee 2014 Table 3: "all doses are required for >= 3 hours".
    high_dose_duration: timedelta = timedelta(hours=3)
    #: Labs for organ toxicity: the worst value in [T - window, T].
    lab_window: timedelta = timedelta(hours=48)
    #: Baseline for CTCAE "x baseline" criteria: the last result of the same lab in
    #: [therapy_start - window, therapy_start] (docs/decisions/0006-organ-toxicity.md).
    lab_baseline_window: timedelta = timedelta(days=30)
    #: Transfusions for coagulopathy counted in [T - window, T].
    transfusion_window: timedelta = timedelta(hours=24)
    #: What lifts the ASTCT fever requirement after CRS onset (``FeverWaiver``).
    fever_waiver: FeverWaiver = "antipyretic_or_anticytokine"
    #: A CRS episode lasts while a sign of CRS (an attributable fever >= ``fever_threshold_c``,
    #: an attributable SBP below the age threshold, a vasopressor or supplemental oxygen
    #: running) lies within this window; it has resolved once this long has passed without one.
    #: The fever waiver and the CRS-context rule hold for the current episode only.  None: an
    #: episode never resolves (the first onset and waiver hold for the rest of the record).
    crs_resolution_window: timedelta | None = timedelta(hours=24)
    #: FiO2 estimate from nasal-cannula flow (§1.11, discrepancy D5).
    fio2_rule: FiO2Rule = "fpnotebook"
    #: The CRS-context rule applied to every CRS scale (``CrsDefinition``; ICANS is unaffected).
    crs_definition: CrsDefinition = "astct2019"
    #: ICANS assessments (ICE, CAPD, level of consciousness): the latest record in [T - window, T]
    #: (docs/decisions/0010-icans.md).  Older assessments leave ICANS not assessable.
    neuro_window: timedelta = timedelta(hours=24)
    #: Neurological findings (seizure, motor weakness, cerebral oedema, ICP signs) count in
    #: [T - window, T], or while running when recorded with an ``end``; a later record of the same
    #: item (``none``) replaces an earlier one.
    neuro_finding_window: timedelta = timedelta(hours=24)
    #: Assessment frequency check: flag when no ICE or CAPD was recorded for longer than this
    #: while CRS is active (guidance: "ICE at least twice daily", clinical-criteria.md §4.3):
    #: a 12-hourly schedule plus 1 h for the time of charting, so 08:00 and 20:30 is not flagged.
    neuro_assessment_interval: timedelta = timedelta(hours=13)
    #: A completed ICE (>= 1 point) or a scored CAPD with no level of consciousness charted in
    #: the window means consciousness was not depressed (the result warns); False: consciousness
    #: must be charted, else ICANS is not assessable.
    consciousness_from_assessment: bool = True
    #: Upper limits of normal used when a result has no ``ref_high`` (the result says so).
    default_uln: dict[str, float] = field(
        default_factory=lambda: {
            "alt": 40.0,
            "ast": 40.0,
            "bilirubin": 1.2,
            "creatinine": 1.2,
            "alp": 120.0,
            "ggt": 60.0,
        }
    )
    #: Lower limits of normal used when a result has no ``ref_low``.
    default_lln: dict[str, float] = field(
        default_factory=lambda: {
            "fibrinogen": 200.0,
            "platelets": 150.0,
            "anc": 1.5,
            "hemoglobin": 12.0,
        }
    )
    #: A nasal cannula's FiO2 estimated from its flow is graded over the range of every shipped
    #: estimator (``fpnotebook`` and ``pmc4753186``: 5 L/min is 40 % by one, 30 % by the other),
    #: so a scale threshold inside that range is ambiguous (docs/decisions/0030); False: the
    #: ``fio2_rule`` estimate alone is graded.  A charted FiO2 is always graded as charted.
    fio2_estimate_range: bool = True

    def with_(self, **changes: Any) -> StateParameters:
        """A copy with some parameters changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready values (durations in hours), echoed in results."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if isinstance(value, timedelta):
                out[f"{name}_hours"] = value.total_seconds() / 3600
            elif value is None and name.endswith("_window"):
                out[f"{name}_hours"] = None
            else:
                out[name] = value
        return out
