"""Blinatumomab regimens as data, and the plan for one patient: doses, premedication, stays.

A regimen is a tuple of cycle specifications; each cycle has dose steps (days, a fixed dose for
patients of at least 45 kg, a per-m2 dose with its cap below 45 kg), a treatment-free interval
and the days of hospitalization the label recommends.  The label regimens (r/r and MRD) follow
clinical-criteria.md §4.6 [V]; the investigational step regimens are the NCT01209286 cohorts of
seed 004 (Nägele 2017), dosed per m2 at every weight and without caps, as the study did (their
later cycles are not described in the seed, so only cycle 1 is planned).

Boundaries (docs/decisions/0013-blinatumomab.md):

- fixed dosing when ``weight_kg >= 45.0`` ("≥45 kg"), so 44.9 kg is dosed per m2;
- a per-m2 dose is capped with ``min(dose, cap)``: a BSA giving exactly 9 or 28 ug/day is that
  dose, uncapped; doses are rounded to 0.01 ug/day after the cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

from crswatch.regimens.blinatumomab._rules import rule
from crswatch.timeline import format_time

__all__ = [
    "ADULT_AGE_YEARS",
    "FIXED_DOSE_FROM_KG",
    "REDUCED_STEP",
    "REGIMENS",
    "TARGET_STEP",
    "BlinatumomabPlan",
    "CyclePlan",
    "CycleSpec",
    "Cytoreduction",
    "Dose",
    "DoseStep",
    "PlannedSegment",
    "PremedReason",
    "Premedication",
    "Regimen",
    "Region",
    "Setting",
    "assess_cytoreduction",
    "body_surface_area",
    "dose_for",
    "plan_blinatumomab",
    "premedications_due",
]

Setting = Literal["rr", "mrd", "investigational"]
Region = Literal["us", "eu"]
PremedReason = Literal["cycle_start", "step", "restart"]

#: "≥45 kg": fixed dosing from this weight (inclusive); below it, per m2 with caps.
FIXED_DOSE_FROM_KG = 45.0
#: Children are younger than this (premedication per m2).
ADULT_AGE_YEARS = 18.0
CYCLE_INFUSION_DAYS = 28
#: Cytoreduction triggers: marrow blasts ">= 50 %", blood blasts "> 15,000/uL".
CYTOREDUCTION_MARROW_PCT = 50.0
CYTOREDUCTION_BLOOD_PER_UL = 15_000.0
CYTOREDUCTION_DEXAMETHASONE_MAX_MG_PER_DAY = 24.0


@dataclass(frozen=True, slots=True)
class DoseStep:
    """Days ``start_day``..``end_day`` (inclusive) of a cycle at one dose."""

    start_day: int
    end_day: int
    #: The dose at >= 45 kg; ``None``: per m2 at every weight (investigational cohorts).
    fixed_ug_per_day: float | None
    ug_per_m2_per_day: float
    #: The cap of the per-m2 dose below 45 kg (``None``: no cap).
    cap_ug_per_day: float | None


@dataclass(frozen=True, slots=True)
class CycleSpec:
    cycle: int
    phase: str
    steps: tuple[DoseStep, ...]
    treatment_free_days: int
    #: The first days of the cycle in hospital (0: supervision at the cycle start).
    hospital_days: int


@dataclass(frozen=True, slots=True)
class Regimen:
    id: str
    name: str
    setting: Setting
    cycles: tuple[CycleSpec, ...]
    #: The rule giving the cycles, and the one giving the hospital stays (if any).
    rule_id: str
    hospital_rule_id: str | None

    def to_dict(self) -> dict[str, Any]:
        entry = rule(self.rule_id)
        return {
            "id": self.id,
            "name": self.name,
            "setting": self.setting,
            "rule": self.rule_id,
            "source": entry.source,
            "verified": entry.verified,
        }


#: The label's reduced dose (cycle 1 days 1-7, and the restart dose after a modification) and
#: its target dose (28 ug/day; 15 ug/m2/day capped at 28 below 45 kg).
REDUCED_STEP = DoseStep(1, 7, 9.0, 5.0, 9.0)
TARGET_STEP = DoseStep(8, 28, 28.0, 15.0, 28.0)
_FULL = DoseStep(1, 28, 28.0, 15.0, 28.0)


def _rr_cycles() -> tuple[CycleSpec, ...]:
    cycles = [
        CycleSpec(1, "induction", (REDUCED_STEP, TARGET_STEP), 14, 9),
        CycleSpec(2, "induction", (_FULL,), 14, 2),
    ]
    cycles += [CycleSpec(n, "consolidation", (_FULL,), 14, 0) for n in (3, 4, 5)]
    cycles += [CycleSpec(n, "continued", (_FULL,), 56, 0) for n in (6, 7, 8, 9)]
    return tuple(cycles)


def _per_m2(*steps: tuple[int, int, float]) -> tuple[DoseStep, ...]:
    return tuple(DoseStep(start, end, None, dose, None) for start, end, dose in steps)


REGIMENS = MappingProxyType(
    {
        "rr": Regimen(
            "rr",
            "BLINCYTO, relapsed/refractory B-ALL: 2 induction, 3 consolidation, 4 continued cycles",
            "rr",
            _rr_cycles(),
            "cycle.rr",
            "hospital.rr",
        ),
        "mrd": Regimen(
            "mrd",
            "BLINCYTO, MRD-positive B-ALL: 4 cycles",
            "mrd",
            (
                CycleSpec(1, "induction", (_FULL,), 14, 3),
                CycleSpec(2, "consolidation", (_FULL,), 14, 2),
                CycleSpec(3, "consolidation", (_FULL,), 14, 0),
                CycleSpec(4, "consolidation", (_FULL,), 14, 0),
            ),
            "cycle.mrd",
            "hospital.mrd",
        ),
        "nct01209286_flat15": Regimen(
            "nct01209286_flat15",
            "NCT01209286 cohort 1: 15 µg/m²/day flat (Nägele et al. 2017)",
            "investigational",
            (CycleSpec(1, "induction", _per_m2((1, 28, 15.0)), 14, 0),),
            "cycle.investigational",
            None,
        ),
        "nct01209286_5_15": Regimen(
            "nct01209286_5_15",
            "NCT01209286 cohorts 2a and 3: 5 µg/m²/day days 1-7, then 15 (Nägele et al. 2017)",
            "investigational",
            (CycleSpec(1, "induction", _per_m2((1, 7, 5.0), (8, 28, 15.0)), 14, 0),),
            "cycle.investigational",
            None,
        ),
        "nct01209286_5_15_30": Regimen(
            "nct01209286_5_15_30",
            "NCT01209286 cohort 2b: 5, 15, then 30 µg/m²/day from days 1, 8 and 15 "
            "(Nägele et al. 2017)",
            "investigational",
            (
                CycleSpec(
                    1, "induction", _per_m2((1, 7, 5.0), (8, 14, 15.0), (15, 28, 30.0)), 14, 0
                ),
            ),
            "cycle.investigational",
            None,
        ),
    }
)


def body_surface_area(
    weight_kg: float, *, bsa_m2: float | None = None, height_cm: float | None = None
) -> float | None:
    """BSA as given, else Mosteller ``sqrt(height_cm * weight_kg / 3600)``, else ``None``."""
    if bsa_m2 is not None:
        return bsa_m2
    if height_cm is None:
        return None
    return float((height_cm * weight_kg / 3600.0) ** 0.5)


@dataclass(frozen=True, slots=True)
class Dose:
    """A resolved dose: ug/day, how it was computed, and whether the cap applied."""

    ug_per_day: float
    basis: Literal["fixed", "bsa"]
    capped: bool = False
    ug_per_m2_per_day: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dose_ug_per_day": self.ug_per_day, "basis": self.basis}
        if self.basis == "bsa":
            out["dose_ug_per_m2_per_day"] = self.ug_per_m2_per_day
            out["capped"] = self.capped
        return out


def dose_for(step: DoseStep, weight_kg: float, bsa_m2: float | None) -> Dose:
    """The dose of ``step`` for this body size (``ValueError`` if the BSA is needed and missing)."""
    if step.fixed_ug_per_day is not None and weight_kg >= FIXED_DOSE_FROM_KG:
        return Dose(step.fixed_ug_per_day, "fixed")
    if bsa_m2 is None:
        raise ValueError(
            f"weight_kg={weight_kg!r}: a per-m2 dose needs the BSA (give bsa_m2 or height_cm)"
        )
    raw = step.ug_per_m2_per_day * bsa_m2
    cap = step.cap_ug_per_day
    if cap is not None and raw > cap:
        return Dose(cap, "bsa", True, step.ug_per_m2_per_day)
    return Dose(round(raw, 2), "bsa", False, step.ug_per_m2_per_day)


@dataclass(frozen=True, slots=True)
class Premedication:
    """One premedication: before day ``day`` of cycle ``cycle`` (or a restart)."""

    cycle: int
    day: int
    drug: str
    dose_mg: float
    reason: PremedReason
    timing: str
    rule_id: str
    time: datetime | None = None
    alternative: str | None = None

    def to_dict(self) -> dict[str, Any]:
        entry = rule(self.rule_id)
        out: dict[str, Any] = {
            "day": self.day,
            "drug": self.drug,
            "dose_mg": self.dose_mg,
            "reason": self.reason,
            "timing": self.timing,
            "rule": self.rule_id,
            "source": entry.source,
            "verified": entry.verified,
        }
        if self.alternative is not None:
            out["alternative"] = self.alternative
        if self.time is not None:
            out["time"] = format_time(self.time)
        return out


def premedications_due(
    *,
    child: bool,
    bsa_m2: float | None,
    reason: PremedReason,
    cycle: int,
    day: int,
    setting: Setting = "rr",
    region: Region = "us",
    before: datetime | None = None,
) -> list[Premedication]:
    """The premedications due before a cycle start, step dose or restart (none may be due).

    ``before`` is the infusion start; ``time`` is set for the "1 h before" premedications.
    """

    def make(
        drug: str, mg: float, timing: str, rule_id: str, alt: str | None = None
    ) -> Premedication:
        one_hour = (
            before - timedelta(hours=1) if before is not None and timing.startswith("1 h") else None
        )
        return Premedication(cycle, day, drug, mg, reason, timing, rule_id, one_hour, alt)

    if setting == "mrd" and not child:
        if reason != "cycle_start":
            return []
        return [
            make(
                "prednisone", 100.0, "1 h before the infusion", "premed.mrd", "dexamethasone 16 mg"
            )
        ]
    if not child:
        rule_id = f"premed.adult.{reason}"
        return [make("dexamethasone", 20.0, "1 h before the infusion", rule_id)]
    if bsa_m2 is None:
        raise ValueError("a child's premedication is dosed per m2: give bsa_m2 or height_cm")
    if region == "eu":
        if reason != "cycle_start" or cycle != 1:
            return []
        return [
            make(
                "dexamethasone",
                min(round(10.0 * bsa_m2, 2), 20.0),
                "6-12 h before the infusion",
                "premed.child.eu",
            ),
            make(
                "dexamethasone",
                round(5.0 * bsa_m2, 2),
                "within 30 min before the infusion",
                "premed.child.eu",
            ),
        ]
    if reason in ("cycle_start", "restart") and cycle != 1:
        return []
    return [
        make(
            "dexamethasone",
            min(round(5.0 * bsa_m2, 2), 20.0),
            "before the infusion",
            "premed.child.us",
        )
    ]


@dataclass(frozen=True, slots=True)
class PlannedSegment:
    start_day: int
    end_day: int
    dose: Dose
    start: datetime | None = None
    end: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start_day": self.start_day, "end_day": self.end_day}
        out.update(self.dose.to_dict())
        if self.start is not None and self.end is not None:
            out["start"] = format_time(self.start)
            out["end"] = format_time(self.end)
        return out


@dataclass(frozen=True, slots=True)
class CyclePlan:
    cycle: int
    phase: str
    segments: tuple[PlannedSegment, ...]
    premedications: tuple[Premedication, ...]
    treatment_free_days: int
    hospital_days: int
    hospital_rule_id: str | None
    #: Day of the course (day 1 = first dose of cycle 1) on which this cycle starts.
    course_day: int
    start: datetime | None = None

    def dose_on(self, day: int) -> Dose:
        """The planned dose on infusion day ``day`` (clamped to the cycle)."""
        for segment in self.segments:
            if segment.start_day <= day <= segment.end_day:
                return segment.dose
        return self.segments[-1].dose if day > 1 else self.segments[0].dose

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cycle": self.cycle,
            "phase": self.phase,
            "course_day": self.course_day,
            "segments": [segment.to_dict() for segment in self.segments],
            "infusion_days": CYCLE_INFUSION_DAYS,
            "treatment_free_days": self.treatment_free_days,
            "premedications": [premed.to_dict() for premed in self.premedications],
            "hospitalization": {
                "first_days": self.hospital_days,
                "otherwise": "supervision by a healthcare professional or hospitalization",
                "rule": self.hospital_rule_id,
            },
        }
        if self.start is not None:
            out["start"] = format_time(self.start)
        return out


@dataclass(frozen=True, slots=True)
class Cytoreduction:
    """The pre-phase flag: ``recommended`` is ``None`` when it cannot be decided."""

    recommended: bool | None
    marrow_blasts_pct: float | None
    blood_blasts_per_ul: float | None
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        entry = rule("cytoreduction")
        return {
            "recommended": self.recommended,
            "status": "assessed" if self.recommended is not None else "not_assessable",
            "marrow_blasts_pct": self.marrow_blasts_pct,
            "blood_blasts_per_ul": self.blood_blasts_per_ul,
            "reasons": list(self.reasons),
            "thresholds": {"marrow_blasts_pct": ">= 50", "blood_blasts_per_ul": "> 15000"},
            "dexamethasone_max_mg_per_day": CYTOREDUCTION_DEXAMETHASONE_MAX_MG_PER_DAY,
            "duration": "up to 4 days (unverified, [R])",
            "rule": entry.id,
            "source": entry.source,
            "verified": entry.verified,
        }


def assess_cytoreduction(
    marrow_blasts_pct: float | None, blood_blasts_per_ul: float | None
) -> Cytoreduction:
    """Marrow blasts ``>= 50 %`` or blood blasts ``> 15,000/uL`` flag a pre-phase (D43).

    One count over its threshold is enough; with none over and one missing, it is unknown.
    """
    reasons = []
    if marrow_blasts_pct is not None and marrow_blasts_pct >= CYTOREDUCTION_MARROW_PCT:
        reasons.append(f"marrow blasts {marrow_blasts_pct:g}% ≥ 50%")
    if blood_blasts_per_ul is not None and blood_blasts_per_ul > CYTOREDUCTION_BLOOD_PER_UL:
        reasons.append(f"blood blasts {blood_blasts_per_ul:g}/uL > 15000/uL")
    recommended: bool | None
    if reasons:
        recommended = True
    elif marrow_blasts_pct is None or blood_blasts_per_ul is None:
        recommended = None
    else:
        recommended = False
    return Cytoreduction(recommended, marrow_blasts_pct, blood_blasts_per_ul, tuple(reasons))


@dataclass(frozen=True, slots=True)
class BlinatumomabPlan:
    """The planned course for one patient: cycles, premedication, stays, cytoreduction."""

    regimen: Regimen
    weight_kg: float
    bsa_m2: float | None
    child: bool
    region: Region
    cycles: tuple[CyclePlan, ...]
    cytoreduction: Cytoreduction
    start: datetime | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def dosing_basis(self) -> str:
        return self.cycles[0].segments[0].dose.basis

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "crswatch.blinatumomab-plan/1",
            "regimen": self.regimen.to_dict(),
            "weight_kg": self.weight_kg,
            "bsa_m2": None if self.bsa_m2 is None else round(self.bsa_m2, 4),
            "dosing_basis": self.dosing_basis,
            "population": "child" if self.child else "adult",
            "region": self.region,
            "start": None if self.start is None else format_time(self.start),
            "cycles": [cycle.to_dict() for cycle in self.cycles],
            "cytoreduction": self.cytoreduction.to_dict(),
            "warnings": list(self.warnings),
        }


def resolve_regimen(setting: str, regimen: Regimen | str | None) -> Regimen:
    """A given regimen, a regimen id, or the label regimen of ``setting`` (``rr``, ``mrd``)."""
    if isinstance(regimen, Regimen):
        return regimen
    key = regimen if regimen is not None else setting
    if key not in REGIMENS:
        name = "regimen" if regimen is not None else "setting"
        raise ValueError(f"{name}={key!r} is not one of {', '.join(REGIMENS)}")
    return REGIMENS[key]


def plan_blinatumomab(
    weight_kg: float,
    *,
    bsa_m2: float | None = None,
    height_cm: float | None = None,
    setting: str = "rr",
    regimen: Regimen | str | None = None,
    start: datetime | None = None,
    age_years: float | None = None,
    region: Region = "us",
    max_cycles: int | None = None,
    marrow_blasts_pct: float | None = None,
    blood_blasts_per_ul: float | None = None,
) -> BlinatumomabPlan:
    """Plan blinatumomab: the label regimen of ``setting`` (``rr``, ``mrd``) or a named or given
    ``regimen`` (e.g. ``nct01209286_5_15_30``), for this body size and age.

    Without ``age_years`` the adult premedication is planned and a warning says so.  Raises
    ``ValueError`` naming the bad argument (a weight that is not positive, a BSA needed but
    missing, an unknown setting or regimen).
    """
    if not weight_kg > 0:
        raise ValueError(f"weight_kg={weight_kg!r} must be positive")
    if bsa_m2 is not None and not bsa_m2 > 0:
        raise ValueError(f"bsa_m2={bsa_m2!r} must be positive")
    if max_cycles is not None and max_cycles < 1:
        raise ValueError(f"max_cycles={max_cycles!r} must be at least 1")
    chosen = resolve_regimen(setting, regimen)
    bsa = body_surface_area(weight_kg, bsa_m2=bsa_m2, height_cm=height_cm)
    warnings = []
    if age_years is None:
        child = False
        warnings.append("age not given: adult premedication planned")
    else:
        child = age_years < ADULT_AGE_YEARS
    if child and region == "eu":
        warnings.append(
            "EU SmPC paediatric premedication (it differs from the US label): cycle 1 start only"
        )
    specs = chosen.cycles[:max_cycles] if max_cycles is not None else chosen.cycles
    cycles = []
    course_day = 1
    for spec in specs:
        cycle_start = None if start is None else start + timedelta(days=course_day - 1)
        cycles.append(_cycle(spec, chosen, weight_kg, bsa, child, region, course_day, cycle_start))
        course_day += CYCLE_INFUSION_DAYS + spec.treatment_free_days
    return BlinatumomabPlan(
        regimen=chosen,
        weight_kg=weight_kg,
        bsa_m2=bsa,
        child=child,
        region=region,
        cycles=tuple(cycles),
        cytoreduction=assess_cytoreduction(marrow_blasts_pct, blood_blasts_per_ul),
        start=start,
        warnings=tuple(warnings),
    )


def _cycle(
    spec: CycleSpec,
    regimen: Regimen,
    weight_kg: float,
    bsa: float | None,
    child: bool,
    region: Region,
    course_day: int,
    start: datetime | None,
) -> CyclePlan:
    segments = []
    premeds: list[Premedication] = []
    previous: float | None = None
    for step in spec.steps:
        dose = dose_for(step, weight_kg, bsa)
        seg_start = None if start is None else start + timedelta(days=step.start_day - 1)
        seg_end = None if start is None else start + timedelta(days=step.end_day)
        segments.append(PlannedSegment(step.start_day, step.end_day, dose, seg_start, seg_end))
        reason: PremedReason | None = None
        if previous is None:
            reason = "cycle_start"
        elif dose.ug_per_day > previous:
            reason = "step"
        previous = dose.ug_per_day
        if reason is not None:
            premeds += premedications_due(
                child=child,
                bsa_m2=bsa,
                reason=reason,
                cycle=spec.cycle,
                day=step.start_day,
                setting=regimen.setting,
                region=region,
                before=seg_start,
            )
    return CyclePlan(
        cycle=spec.cycle,
        phase=spec.phase,
        segments=tuple(segments),
        premedications=tuple(premeds),
        treatment_free_days=spec.treatment_free_days,
        hospital_days=spec.hospital_days,
        hospital_rule_id=regimen.hospital_rule_id,
        course_day=course_day,
        start=start,
    )
