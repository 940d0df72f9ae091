"""Pre-treatment risk: EASIX, simplified and modified EASIX, disease burden, CAR-HEMATOTOX.

Sources (shared/spec/clinical-criteria.md §5.3-5.4, §4.6, §6.3 D43 and D50-D52):

- EASIX = LDH (U/L) x creatinine (mg/dL) / platelets (10^9/L) [V, Pennisi 2021, Blood Adv
  5(17):3397].  Cut-off **> 4.67** for EASIX before lymphodepletion (Korell 2022, Front Immunol
  13:877477 [V]: derived in ZUMA-1, axi-cel; 4.3-fold odds of grade >= 3 CRS and/or ICANS).
- s-EASIX = LDH / platelets [V, Pennisi 2021]; no cut-off.
- m-EASIX = LDH (U/L) x CRP (**mg/dL**) / platelets (10^9/L) [V, Pennisi 2021].  No cut-off has
  been verified (§9), so none is applied; invented bands found in public code (§5.3) are not
  used.  CRP is held in mg/L and converted with the reader's named conversion (mg/dL = mg/L /
  10; D51: 80 mg/L is 8 mg/dL).
- Disease burden before blinatumomab: ">= 50 % leukaemic blasts in bone marrow or > 15,000/uL
  peripheral-blood leukaemic blasts" -> cytoreduction (dexamethasone pre-phase, <= 24 mg/day)
  [V trigger, BLINCYTO EU SmPC; "up to 4 days" is R].
- CAR-HEMATOTOX (Rejeski 2021): the five markers and "HT-high = score >= 2" are verified [V],
  the **point table is not** [R].  It is computed only when
  ``BiomarkerParameters.include_unverified`` is set, with ``verified: false`` on the result.
  The recalled table leaves the exact values 1200/uL (ANC), 9.0 g/dL (Hb) and 3.0 mg/dL (CRP)
  in no band: such a value scores a range, never a guess.

Values: the latest result of each input in ``[reference - pretreatment_window, reference]``,
the reference being the therapy start (or the time given).  Censored results use the LOD rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from crswatch.biomarkers._common import Point, holds, series
from crswatch.biomarkers._params import BiomarkerParameters
from crswatch.hlh import Observation, ScreenStatus
from crswatch.references import cite
from crswatch.scales._compare import Operator
from crswatch.timeline import Timeline, conversion_for, format_time

__all__ = ["RISK_SCHEMA", "DiseaseBurden", "PretreatmentRisk", "RiskScore", "pretreatment_risk"]

RISK_SCHEMA = "crswatch.risk/1"
EASIX_CUTOFF = 4.67
_PENNISI = "Pennisi et al., Blood Adv 2021;5(17):3397"
_KORELL = "Korell et al., Front Immunol 2022;13:877477: EASIX-pre > 4.67"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 9)


@dataclass(frozen=True, slots=True)
class RiskScore:
    """One score: its value (or points range), the inputs behind it, the cut-off if verified."""

    id: str
    title: str
    formula: str
    value: float | None
    inputs: tuple[Observation, ...]
    source: str
    tag: str
    verified: bool
    cutoff: str | None = None
    #: ``high``/``low`` by the verified cut-off; None without a cut-off or a value.
    category: str | None = None
    bounds: tuple[int, int] | None = None
    points: dict[str, Any] | None = None
    missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def status(self) -> Literal["computed", "not_assessable"]:
        return "computed" if self.value is not None else "not_assessable"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "verified": self.verified,
            "value": _round(self.value),
            "formula": self.formula,
            "cutoff": self.cutoff,
            "category": self.category,
        }
        if self.bounds is not None:
            out["bounds"] = list(self.bounds)
            out["points"] = self.points
        out.update(
            inputs=[o.to_dict() for o in self.inputs],
            source=self.source,
            tag=self.tag,
            missing=list(self.missing),
            warnings=list(self.warnings),
        )
        return out


@dataclass(frozen=True, slots=True)
class DiseaseBurden:
    """High disease burden before blinatumomab: cytoreduction first."""

    status: ScreenStatus
    marrow_blasts: Observation
    blood_blasts: Observation
    rule: str
    action: str
    source: str
    missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rule": self.rule,
            "action": self.action if self.status == "met" else None,
            "inputs": [self.marrow_blasts.to_dict(), self.blood_blasts.to_dict()],
            "source": self.source,
            "missing": list(self.missing),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class PretreatmentRisk:
    """Every pre-treatment risk result for one patient."""

    patient_id: str
    reference: datetime
    scores: tuple[RiskScore, ...]
    disease_burden: DiseaseBurden
    parameters: dict[str, Any] = field(default_factory=dict)

    def score(self, score_id: str) -> RiskScore:
        return next(s for s in self.scores if s.id == score_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": RISK_SCHEMA,
            "patient_id": self.patient_id,
            "reference": format_time(self.reference),
            "scores": {s.id: s.to_dict() for s in self.scores},
            "disease_burden": self.disease_burden.to_dict(),
            "not_computed": {
                "car_hematotox": "point table unverified [R]; set include_unverified (CLI "
                "--unverified) to compute it as a labelled rule"
            }
            if not any(s.id == "car_hematotox" for s in self.scores)
            else {},
            "parameters": self.parameters,
        }


def _latest(
    timeline: Timeline, item: str, reference: datetime, params: BiomarkerParameters
) -> Point | None:
    points = [
        p
        for p in series(timeline, item, reference)
        if p.time >= reference - params.pretreatment_window
    ]
    return points[-1] if points else None


def _observation(name: str, item: str, point: Point | None, unit: str | None) -> Observation:
    if point is None:
        return Observation(name=name, item=item, value=None, unit=unit)
    detail: dict[str, Any] = {}
    if point.stat.censored:
        detail = {"reported": point.stat.reported, "flag": point.stat.flag}
    return Observation(
        name=name,
        item=item,
        value=point.value,
        unit=point.unit,
        time=point.time,
        ref=point.ref,
        censored=point.stat.censored,
        detail=detail,
    )


def _censored_warning(points: dict[str, Point | None]) -> tuple[str, ...]:
    flagged = [f"{name}: {p.stat.flag}" for name, p in points.items() if p and p.stat.censored]
    return tuple(f"censored input ({text})" for text in flagged)


def _ratio_score(
    score_id: str,
    title: str,
    formula: str,
    points: dict[str, Point | None],
    factors: dict[str, float],
    source: str,
    cutoff: str | None,
    category_of: Any,
) -> RiskScore:
    units = {"ldh": "U/L", "creatinine": "mg/dL", "crp": "mg/L", "platelets": "10*3/uL"}
    observations = tuple(_observation(n, n, p, units[n]) for n, p in points.items())
    missing = tuple(n for n, p in points.items() if p is None)
    value = None
    platelets = points["platelets"]
    warnings = list(_censored_warning(points))
    if not missing and platelets is not None:
        if platelets.value <= 0:
            warnings.append("platelets 0: the ratio is undefined")
        else:
            numerator = 1.0
            for name, point in points.items():
                if name != "platelets" and point is not None:
                    numerator *= point.value * factors.get(name, 1.0)
            value = round(numerator / platelets.value, 9)
    return RiskScore(
        id=score_id,
        title=title,
        formula=formula,
        value=value,
        inputs=observations,
        source=source,
        tag="V",
        verified=True,
        cutoff=cutoff,
        category=category_of(value) if value is not None else None,
        missing=missing,
        warnings=tuple(warnings),
    )


def _easix_category(value: float) -> str:
    return "high" if holds(value, ">", EASIX_CUTOFF) else "low"


Band = tuple[int, tuple[tuple[Operator, float], ...], str]


def _band_points(value: float | None, bands: tuple[Band, ...]) -> tuple[int, int, str | None]:
    """(low, high, band text) of a value in a points table; unknown or in a gap: a range."""
    lowest = min(b[0] for b in bands)
    highest = max(b[0] for b in bands)
    if value is None:
        return lowest, highest, None
    for points, tests, text in bands:
        if all(holds(value, op, threshold) for op, threshold in tests):
            return points, points, text
    neighbours = [p for p, tests, _ in bands if any(t == value for _, t in tests)]
    return min(neighbours or [lowest]), max(neighbours or [highest]), "boundary not in the table"


def _canonical(item: str, value: float, unit: str) -> float:
    return conversion_for(item, unit).apply(value, weight_kg=None, bsa_m2=None)


def _hematotox(points: dict[str, Point | None]) -> RiskScore:
    crp3 = _canonical("crp", 3.0, "mg/dL")
    tables: dict[str, tuple[Band, ...]] = {
        "platelets": (
            (0, ((">", _canonical("platelets", 175000, "/uL")),), "> 175,000/uL"),
            (
                1,
                (
                    (">=", _canonical("platelets", 75000, "/uL")),
                    ("<=", _canonical("platelets", 175000, "/uL")),
                ),
                "75,000-175,000/uL",
            ),
            (2, (("<", _canonical("platelets", 75000, "/uL")),), "< 75,000/uL"),
        ),
        "anc": (
            (0, ((">", _canonical("anc", 1200, "/uL")),), "> 1200/uL"),
            (1, (("<", _canonical("anc", 1200, "/uL")),), "< 1200/uL"),
        ),
        "hemoglobin": (
            (0, ((">", 9.0),), "> 9.0 g/dL"),
            (1, (("<", 9.0),), "< 9.0 g/dL"),
        ),
        "crp": (
            (0, (("<", crp3),), "< 3.0 mg/dL"),
            (1, ((">", crp3),), "> 3.0 mg/dL"),
        ),
        "ferritin": (
            (0, (("<", 650.0),), "< 650 ng/mL"),
            (1, ((">=", 650.0), ("<=", 2000.0)), "650-2000 ng/mL"),
            (2, ((">", 2000.0),), "> 2000 ng/mL"),
        ),
    }
    units = {
        "platelets": "10*3/uL",
        "anc": "10*3/uL",
        "hemoglobin": "g/dL",
        "crp": "mg/L",
        "ferritin": "ng/mL",
    }
    low = high = 0
    detail: dict[str, Any] = {}
    for name, bands in tables.items():
        point = points[name]
        p_low, p_high, text = _band_points(point.value if point else None, bands)
        low, high = low + p_low, high + p_high
        detail[name] = {"points_bounds": [p_low, p_high], "band": text}
    category = "HT-high" if low >= 2 else "HT-low" if high <= 1 else None
    missing = tuple(n for n, p in points.items() if p is None)
    return RiskScore(
        id="car_hematotox",
        title="CAR-HEMATOTOX (unverified point table)",
        formula="sum of points: platelets 0/1/2, ANC 0/1, Hb 0/1, CRP 0/1, ferritin 0/1/2",
        value=float(low) if low == high else None,
        inputs=tuple(_observation(n, n, p, units[n]) for n, p in points.items()),
        source="Rejeski 2021, Blood 138(24):2499: markers and 'HT-high = score >= 2' [V]; "
        "point table (not verified)",
        tag="R",
        verified=False,
        cutoff=">= 2 HT-high, 0-1 HT-low [V]",
        category=category,
        bounds=(low, high),
        points=detail,
        missing=missing,
        warnings=(
            "CAR-HEMATOTOX point table is recalled, not verified against the publication: "
            "a labelled rule, computed only on request.",
            *_censored_warning(points),
        ),
    )


def _disease_burden(
    timeline: Timeline, reference: datetime, params: BiomarkerParameters
) -> DiseaseBurden:
    marrow = _latest(timeline, "blasts_marrow", reference, params)
    blood = _latest(timeline, "blasts_blood", reference, params)
    blood_limit = _canonical("blasts_blood", 15000, "/uL")
    marrow_met = holds(marrow.value if marrow else None, ">=", 50.0)
    blood_met = holds(blood.value if blood else None, ">", blood_limit)
    status: ScreenStatus
    if marrow_met or blood_met:
        status = "met"
    elif marrow_met is False and blood_met is False:
        status = "not_met"
    else:
        status = "not_assessable"
    missing = tuple(
        name
        for name, met in (("blasts_marrow", marrow_met), ("blasts_blood", blood_met))
        if met is None
    )
    warnings = []
    if timeline.patient.therapy.kind != "blinatumomab":
        warnings.append(
            "The cytoreduction rule is from the blinatumomab label; this patient's therapy is "
            f"{timeline.patient.therapy.kind!r}."
        )
    return DiseaseBurden(
        status=status,
        marrow_blasts=_observation("blasts_marrow", "blasts_marrow", marrow, "%"),
        blood_blasts=_observation("blasts_blood", "blasts_blood", blood, "10*3/uL"),
        rule=">= 50 % marrow blasts or > 15,000/uL peripheral-blood blasts "
        f"(= {blood_limit:g} x 10^3/uL)",
        action="cytoreduction before blinatumomab: dexamethasone pre-phase, not exceeding 24 "
        "mg/day [V] (for up to 4 days [R])",
        source=cite("blincyto-smpc", "cytoreduction"),
        missing=missing,
        warnings=tuple(warnings),
    )


def pretreatment_risk(
    timeline: Timeline,
    reference: datetime | None = None,
    params: BiomarkerParameters | None = None,
) -> PretreatmentRisk:
    """Pre-treatment risk of one timeline at ``reference`` (default: the therapy start)."""
    params = params or BiomarkerParameters()
    reference = reference or timeline.patient.therapy.start
    ldh = _latest(timeline, "ldh", reference, params)
    creatinine = _latest(timeline, "creatinine", reference, params)
    platelets = _latest(timeline, "platelets", reference, params)
    crp = _latest(timeline, "crp", reference, params)
    crp_to_mg_dl = 1.0 / conversion_for("crp", "mg/dL").factor
    easix = _ratio_score(
        "easix",
        "EASIX",
        "LDH (U/L) x creatinine (mg/dL) / platelets (10^9/L)",
        {"ldh": ldh, "creatinine": creatinine, "platelets": platelets},
        {},
        f"{_PENNISI}; cut-off {_KORELL}",
        f"> {EASIX_CUTOFF:g} high (Korell 2022, EASIX before lymphodepletion, CAR T)",
        _easix_category,
    )
    if timeline.patient.therapy.kind != "car_t":
        easix = _with_warning(
            easix, "The 4.67 cut-off was derived for CAR T cells (ZUMA-1), not this therapy."
        )
    scores = [
        easix,
        _ratio_score(
            "s_easix",
            "Simplified EASIX",
            "LDH (U/L) / platelets (10^9/L)",
            {"ldh": ldh, "platelets": platelets},
            {},
            _PENNISI,
            None,
            lambda value: None,
        ),
        _ratio_score(
            "m_easix",
            "Modified EASIX",
            "LDH (U/L) x CRP (mg/dL) / platelets (10^9/L); CRP mg/L / 10 = mg/dL",
            {"ldh": ldh, "crp": crp, "platelets": platelets},
            {"crp": crp_to_mg_dl},
            f"{_PENNISI}; no cut-off verified",
            None,
            lambda value: None,
        ),
    ]
    if params.include_unverified:
        scores.append(
            _hematotox(
                {
                    "platelets": platelets,
                    "anc": _latest(timeline, "anc", reference, params),
                    "hemoglobin": _latest(timeline, "hemoglobin", reference, params),
                    "crp": crp,
                    "ferritin": _latest(timeline, "ferritin", reference, params),
                }
            )
        )
    return PretreatmentRisk(
        patient_id=timeline.patient.id,
        reference=reference,
        scores=tuple(scores),
        disease_burden=_disease_burden(timeline, reference, params),
        parameters={
            "pretreatment_window_hours": params.pretreatment_window.total_seconds() / 3600,
            "include_unverified": params.include_unverified,
        },
    )


def _with_warning(score: RiskScore, warning: str) -> RiskScore:
    return replace(score, warnings=(*score.warnings, warning))
