"""The facts a rule reads at time T: grades, state, therapy, patient, and what was given.

Built once per recommendation from the library's engines (``scales.grade_timelines``,
``episodes.trajectory``, ``state.state_of``, ``hlh.hlh_flags``) and the timeline itself, all
through one :class:`TimelineEvaluation` (the timeline's frames built once, every time graded in
one state-engine pass; the same results, decision 0024), which a caller may share.

Time semantics (decision 0014):

- A grade is the scale's lower bound at T; a graded result's bound is its grade, and a
  provisional result's lower bound is its grade on record (``grade_on_record``).  When the
  scale is provisional, ambiguous or not assessable, the upper bound and the missing inputs go
  to warnings and to ``crs_missing`` / ``icans_missing`` (the rule sets ask for them): rules
  fire on what is certain, never on what is merely possible.
- Neutropenia: the latest ANC in ``[T - 72 h, T]`` below 0.5 x10^3/uL (none: unknown).
- Haemodynamically unstable: hypotension or any vasopressor running at T (state engine).
- No improvement within 24 h after tocilizumab: the CRS grade 24 h after the latest dose given
  at or before ``T - 24 h`` is not lower than the grade just before that dose (1 min before).
- Peak grade in the last 7 days: the highest lower bound on the trajectory in ``[T - 7 d, T]``.
- Episodes of CRS grade >= 2: how many times the lower bound rose to 2 or more up to T.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from crswatch.errors import InputError
from crswatch.management._dosing import DosingOptions
from crswatch.management._evaluation import TimelineEvaluation
from crswatch.management._labels import input_labels
from crswatch.management._steroids import SteroidExposure, steroid_exposure
from crswatch.scales import GradeResult, get_scale, grade_notation, select_scales
from crswatch.timeline import Timeline, format_time

__all__ = ["ANC_WINDOW", "NEUTROPENIA_ANC", "Facts", "gather_facts"]

#: ANC below this (10^3/uL) is neutropenia for the attribution rules (issue 6).
NEUTROPENIA_ANC = 0.5
ANC_WINDOW = timedelta(hours=72)
PEAK_WINDOW = timedelta(days=7)
_BEFORE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules of one rule set read at T (see the module docstring for semantics)."""

    patient_id: str
    at: datetime
    therapy_kind: str
    product: str | None
    weight_kg: float | None
    bsa_m2: float | None
    age_years: float | None
    high_risk: bool | None
    crs_scale: str
    crs_grade: int
    crs_upper: int
    crs_status: str
    crs_peak_7d: int
    crs_episodes_grade2: int
    icans_grade: int
    icans_upper: int
    icans_status: str
    icans_peak_7d: int
    fever: bool | None
    hypotension: bool | None
    pressors_running: int
    positive_pressure: bool
    invasive_ventilation: bool
    anc: float | None
    anc_at: datetime | None
    neutropenic: bool | None
    hlh: dict[str, str]
    tocilizumab_given: tuple[datetime, ...]
    tocilizumab_mg_total: float
    no_improvement_24h_after_tocilizumab: bool | None
    steroids: SteroidExposure
    no_improvement_24h_on_steroids: bool | None
    seizures: int
    blinatumomab_running: bool | None
    blinatumomab_last_rate: float | None
    blinatumomab_last_unit: str | None
    blinatumomab_stopped_at: datetime | None
    crs_onset_hours: float | None = None
    warnings: tuple[str, ...] = field(default=())
    #: The inputs a provisional or not-assessable grade lacks (the scale's ``missing``).
    crs_missing: tuple[str, ...] = ()
    icans_missing: tuple[str, ...] = ()
    #: The site's dosing rules (vial rounding), off by default.
    dosing: DosingOptions = field(default_factory=DosingOptions)

    @property
    def hemodynamically_unstable(self) -> bool:
        return bool(self.hypotension) or self.pressors_running > 0

    @property
    def life_threatening(self) -> bool:
        return self.positive_pressure or self.invasive_ventilation

    @property
    def hlh_positive(self) -> bool:
        return any(status == "met" for status in self.hlh.values())

    @property
    def tocilizumab_last_at(self) -> datetime | None:
        return self.tocilizumab_given[-1] if self.tocilizumab_given else None

    @property
    def hours_since_tocilizumab(self) -> float | None:
        last = self.tocilizumab_last_at
        return None if last is None else (self.at - last).total_seconds() / 3600.0

    @property
    def child(self) -> bool:
        return self.age_years is not None and self.age_years < 18

    def value(self, name: str) -> Any:
        """A fact by name (for rationales): a field or a derived property."""
        found = getattr(self, name)
        if isinstance(found, SteroidExposure):
            return round(found.dexamethasone_equivalent_mg, 3)
        return found


def _bounds(result: GradeResult | None) -> tuple[int, int, str]:
    if result is None:
        return 0, 0, "not_graded"
    low, high = result.bounds
    return int(low), int(high), result.status


def _crs_lower_at(evaluation: TimelineEvaluation, at: datetime, scale: str) -> int:
    return _bounds(evaluation.grades(at).crs.get(scale))[0]


def _matured_dose(times: list[datetime], at: datetime) -> datetime | None:
    """The latest dose given at or before ``T - 24 h`` (its effect can be judged), or None."""
    matured = [t for t in times if t <= at - timedelta(hours=24)]
    return matured[-1] if matured else None


def _no_improvement(
    evaluation: TimelineEvaluation, dose_at: datetime | None, scale: str
) -> bool | None:
    """The CRS lower bound 24 h after the dose is not below that 1 min before it (and above 0)."""
    if dose_at is None:
        return None
    before = _crs_lower_at(evaluation, dose_at - _BEFORE, scale)
    after = _crs_lower_at(evaluation, dose_at + timedelta(hours=24), scale)
    return after >= before and after > 0


def _peak(frame: pl.DataFrame, kind: str, scale: str, start: datetime, at: datetime) -> int:
    rows = frame.filter(
        (pl.col("kind") == kind) & (pl.col("scale") == scale) & (pl.col("at") <= at)
    ).sort("at")
    if rows.is_empty():
        return 0
    before = rows.filter(pl.col("at") <= start).tail(1)
    inside = rows.filter(pl.col("at") > start)
    values = [*before["lower"].to_list(), *inside["lower"].to_list()]
    return int(max((v for v in values if v is not None), default=0))


def _episodes_at_least(frame: pl.DataFrame, scale: str, grade: int, at: datetime) -> int:
    """How many times the CRS lower bound rose to ``grade`` or more, up to ``at``."""
    rows = frame.filter(
        (pl.col("kind") == "crs") & (pl.col("scale") == scale) & (pl.col("at") <= at)
    ).sort("at")
    count, above = 0, False
    for lower in rows["lower"].to_list():
        now = lower is not None and lower >= grade
        if now and not above:
            count += 1
        above = now
    return count


def _numeric(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def gather_facts(
    timeline: Timeline,
    at: datetime,
    crs_scale: str,
    icans_scale: str,
    *,
    evaluation: TimelineEvaluation | None = None,
    dosing: DosingOptions | None = None,
) -> Facts:
    """The facts at ``at`` for rules that read ``crs_scale`` and ``icans.<icans_scale>``.

    ``evaluation`` (of this same timeline) shares engine results with other callers;
    ``dosing`` carries the site's dosing rules (default: none).
    """
    if evaluation is None:
        evaluation = TimelineEvaluation(timeline)
    elif evaluation.timeline is not timeline:
        raise InputError(
            f"evaluation={evaluation.timeline.patient.id!r}: not an evaluation of the timeline "
            f"of {timeline.patient.id!r} passed with it"
        )
    warnings: list[str] = []
    patient = timeline.patient
    icans_selector = f"icans.{icans_scale}"
    # Unknown scales raise here, as grading on them alone would: the evaluation grades all.
    select_scales([crs_scale, icans_selector])
    toci = tuple(e.time for e in timeline.of("tocilizumab") if e.time <= at)
    steroids = steroid_exposure(timeline, at)
    toci_dose = _matured_dose(list(toci), at)
    steroid_dose = _matured_dose([t for t, _, _ in steroids.doses], at)
    # Every time a grade is read at, in one pass of the state engine.
    evaluation.prepare(
        [at]
        + [
            m
            for d in (toci_dose, steroid_dose)
            if d is not None
            for m in (d - _BEFORE, d + timedelta(hours=24))
        ]
    )
    graded = evaluation.grades(at)
    crs = graded.crs.get(crs_scale)
    icans = graded.icans.get(icans_scale)
    crs_low, crs_high, crs_status = _bounds(crs)
    icans_low, icans_high, icans_status = _bounds(icans)
    for name, result, scale_key, low, high, status in (
        ("CRS", crs, crs_scale, crs_low, crs_high, crs_status),
        ("ICANS", icans, icans_selector, icans_low, icans_high, icans_status),
    ):
        if result is None or status == "graded":
            continue
        shown = grade_notation(result.grade, status, low, high)
        warnings.append(
            f"{name} grade on the {get_scale(scale_key).title}: {shown}; the rules act on "
            f"grade {low}"
            + (
                f" (not documented: {', '.join(input_labels(result.missing))})"
                if result.missing
                else ""
            )
        )

    path = evaluation.trajectory([crs_scale, icans_selector])
    crs_peak = max(_peak(path, "crs", crs_scale, at - PEAK_WINDOW, at), crs_low)
    icans_peak = max(_peak(path, "icans", icans_scale, at - PEAK_WINDOW, at), icans_low)

    state = evaluation.state(at)
    onset = state.get("onset_at")
    onset_hours = (at - onset).total_seconds() / 3600.0 if onset is not None else None

    anc_events = [
        e for e in timeline.of("anc") if at - ANC_WINDOW <= e.time <= at and _numeric(e.value)
    ]
    anc = _numeric(anc_events[-1].value) if anc_events else None
    anc_at = anc_events[-1].time if anc_events else None
    if anc is None:
        warnings.append(
            "No ANC in the 72 hours before this time: neutropenia is unknown, so the "
            "neutropenic fever rule is not evaluated."
        )

    toci_mg = sum(_numeric(e.value) or 0.0 for e in timeline.of("tocilizumab") if e.time <= at)
    no_improvement = _no_improvement(evaluation, toci_dose, crs_scale)
    on_steroids = _no_improvement(evaluation, steroid_dose, crs_scale)

    seizures = sum(1 for e in timeline.of("seizure") if e.time <= at and e.attributable)

    blin = [e for e in timeline.of("blinatumomab") if e.time <= at]
    running: bool | None = None
    last_rate: float | None = None
    last_unit: str | None = None
    stopped_at: datetime | None = None
    if blin:
        current = blin[-1]
        rate = _numeric(current.value) or 0.0
        ended = current.end is not None and current.end <= at
        running = rate > 0 and not ended
        nonzero = [e for e in blin if (_numeric(e.value) or 0.0) > 0]
        if nonzero:
            last_rate = _numeric(nonzero[-1].value)
            last_unit = nonzero[-1].unit
        if not running:
            stopped_at = current.end if ended and current.end is not None else current.time

    if patient.weight_kg is None:
        warnings.append("Body weight is not recorded: weight-based doses are not computed.")
    hlh = {name: str(status) for name, status in evaluation.screens(at).flags.items()}

    return Facts(
        patient_id=patient.id,
        at=at,
        therapy_kind=patient.therapy.kind,
        product=patient.therapy.product,
        weight_kg=patient.weight_kg,
        bsa_m2=patient.bsa_m2,
        age_years=patient.age_at(at),
        high_risk=patient.high_risk,
        crs_scale=crs_scale,
        crs_grade=crs_low,
        crs_upper=crs_high,
        crs_status=crs_status,
        crs_peak_7d=crs_peak,
        crs_episodes_grade2=_episodes_at_least(path, crs_scale, 2, at),
        icans_grade=icans_low,
        icans_upper=icans_high,
        icans_status=icans_status,
        icans_peak_7d=icans_peak,
        fever=state.get("fever"),
        hypotension=state.get("hypotension"),
        pressors_running=int(state.get("pressors_running") or 0),
        positive_pressure=bool(state.get("positive_pressure")),
        invasive_ventilation=bool(state.get("invasive_ventilation")),
        anc=anc,
        anc_at=anc_at,
        neutropenic=None if anc is None else anc < NEUTROPENIA_ANC,
        hlh=hlh,
        tocilizumab_given=toci,
        tocilizumab_mg_total=toci_mg,
        no_improvement_24h_after_tocilizumab=no_improvement,
        steroids=steroids,
        no_improvement_24h_on_steroids=on_steroids,
        seizures=seizures,
        blinatumomab_running=running,
        blinatumomab_last_rate=last_rate,
        blinatumomab_last_unit=last_unit,
        blinatumomab_stopped_at=stopped_at,
        warnings=tuple(warnings),
        crs_onset_hours=onset_hours,
        crs_missing=tuple(crs.missing) if crs is not None and crs_status != "graded" else (),
        icans_missing=(
            tuple(icans.missing) if icans is not None and icans_status != "graded" else ()
        ),
        dosing=dosing or DosingOptions(),
    )


def describe(facts: Facts, names: tuple[str, ...]) -> dict[str, Any]:
    """The named facts as plain values, for an action's rationale."""
    out: dict[str, Any] = {}
    for name in names:
        value = facts.value(name)
        out[name] = format_time(value) if isinstance(value, datetime) else value
    return out
