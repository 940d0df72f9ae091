"""Named, configurable parameters of the HLH/MAS screens, echoed in every result.

Every look-back window is closed at both ends, ``[T - window, T]``, as in the state engine
(``crswatch.state.StateParameters``).  The defaults are documented choices
(docs/decisions/0011-hlh-screens.md); none of the source papers fixes a time window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

__all__ = ["HLHParameters", "IECHSTemporalRule", "SupplementaryFindings"]

#: How IEC-HS's timing criterion ("with resolving CRS or worsening inflammatory response after
#: initial improvement with CRS-directed therapy") is decided: ``clinician`` (only from
#: :class:`SupplementaryFindings`; the default) or ``after_crs_therapy`` (a labelled crswatch
#: proxy: CRS-directed therapy was given before the ferritin result that meets criterion A).
IECHSTemporalRule = Literal["clinician", "after_crs_therapy"]


@dataclass(frozen=True, slots=True)
class HLHParameters:
    """Windows, thresholds that the sources leave open, and default reference limits."""

    #: Laboratory results and temperatures: the worst value in [T - window, T].
    window: timedelta = timedelta(hours=72)
    #: Baseline of a lab (IEC-HS "x baseline", new or worsening cytopenias): the last result in
    #: [therapy_start - baseline_window, therapy_start].
    baseline_window: timedelta = timedelta(days=30)
    #: carHLH "during the CRS phase (typically the first 5 days after cell infusion)": the peak
    #: ferritin in [therapy_start, therapy_start + carhlh_crs_phase], up to T.
    carhlh_crs_phase: timedelta = timedelta(days=5)
    #: HLH-2004 fever (discrepancy D7): the original says only "Fever"; later adaptations use
    #: >= 38.5 °C.  The register recommends >= 38.5 with a flag, which every result carries.
    hlh2004_fever_c: float = 38.5
    #: HLH-2004 haemoglobin "< 100 g/L in infants < 4 weeks": the age limit in days.
    hlh2004_infant_days: float = 28.0
    #: CTCAE version of carHLH's "grade >= 3" organ toxicities (CARTOX 2018 graded by v4.03).
    ctcae_version: Literal["v4.03", "v5.0"] = "v4.03"
    #: IEC-HS [R] "ferritin > 2x ULN or > 2x baseline": the factor.
    iechs_ferritin_factor: float = 2.0
    #: IEC-HS timing criterion (see :data:`IECHSTemporalRule`).
    iechs_temporal_rule: IECHSTemporalRule = "clinician"
    #: Upper limits of normal when a result carries no ``ref_high`` (the result says "default").
    #: ALT and AST as ``StateParameters.default_uln``; LDH a common adult upper limit.  Ferritin
    #: has no default: paediatric and adult ranges differ tenfold (seed 000: 10-70 ng/mL).
    default_uln: dict[str, float] = field(
        default_factory=lambda: {"alt": 40.0, "ast": 40.0, "ldh": 250.0}
    )
    #: Lower limits of normal (IEC-HS "new or worsening cytopenias"), when no ``ref_low``.
    default_lln: dict[str, float] = field(
        default_factory=lambda: {"hemoglobin": 12.0, "platelets": 150.0, "anc": 1.5}
    )

    def with_(self, **changes: Any) -> HLHParameters:
        """A copy with some parameters changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (durations in hours), echoed in results."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if isinstance(value, timedelta):
                out[f"{name}_hours"] = value.total_seconds() / 3600
            else:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class SupplementaryFindings:
    """Findings the screens use that the timeline vocabulary has no item for (yet).

    ``None`` is "not recorded" and is never read as normal.  The vocabulary gap is recorded in
    docs/decisions/0011-hlh-screens.md: adding items touches the FHIR code map and the simulator.
    """

    #: HLH-2004 route (1): "a molecular diagnosis consistent with HLH" (PRF1, UNC13D, STX11,
    #: STXBP2, RAB27A, SH2D1A, XIAP ...).  False when tested and normal (seed 000).
    hlh_molecular_diagnosis: bool | None = None
    #: HLH-2004 criterion 6: "low or absent NK-cell activity (according to local laboratory
    #: reference)".
    nk_activity_low: bool | None = None
    #: carHLH: "grade >= 3 pulmonary oedema".
    pulmonary_edema_grade3: bool | None = None
    #: carHLH: "grade >= 3 oliguria" (the creatinine half is graded from laboratory results).
    oliguria_grade3: bool | None = None
    #: IEC-HS [R]: "onset with resolving CRS or worsening inflammatory response after initial
    #: improvement with CRS-directed therapy" (a clinical judgement of the course).
    iechs_timing: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
