"""The patient view's panels as plain, template-ready values.

Each panel is read from the engine the matching command uses, called as that command calls it
(``crswatch grade``, ``recommend``, ``hlh``, ``biomarkers``, ``blinatumomab status``): no rule
is restated here, only arranged for a page.  Decision: docs/decisions/0017-patient-view.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar

from crswatch.biomarkers import (
    BiomarkerParameters,
    Kinetics,
    Point,
    cytokine_profile,
    kinetics,
)
from crswatch.hlh import ScreenResult, screen_course
from crswatch.management import (
    CATEGORY_LABELS,
    VERIFICATION_TEXT,
    Action,
    Recommendation,
    TimelineEvaluation,
    recommend,
)
from crswatch.management._model import format_clock, format_mg
from crswatch.regimens import SOURCES, THERAPY_LABELS, blinatumomab_status
from crswatch.regimens.blinatumomab import StatusParameters
from crswatch.scales import ALL_SCALES, GRADE_LEGEND, GradeResult, get_scale, grade_notation
from crswatch.timeline import Timeline, format_time, parse_time
from crswatch.web._bispecific_panel import BispecificPanel, bispecific_panel
from crswatch.web._isolate import PartFailure, isolated
from crswatch.web._ward import grade_courses_of
from crswatch.web._why import deciding_findings, finding_text, open_question

T = TypeVar("T")

__all__ = [
    "ActionRow",
    "AnalyteRow",
    "BiomarkerPanel",
    "FlagRow",
    "HLHPanel",
    "PatientPanels",
    "RecommendationPanel",
    "RegimenPanel",
    "RegimenRow",
    "ScaleRow",
    "ScreenRow",
    "SourceLink",
    "patient_panels",
]


# --- the scale-disagreement table -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScaleRow:
    """One scale's grade at T, and the criterion that decided it (or left it open)."""

    syndrome: str
    scale_id: str
    title: str
    version: str
    citation: str
    status: str
    grade: int | None
    lower: int
    upper: int
    #: The grade in the shared notation: ``3``, ``2 (provisional, ≤ 3)``, ``2–4 (not assessable)``.
    shown: str
    #: The deciding criterion's wording (the paper's), its id and source; for an undecided
    #: grade, the met criterion that sets the lower bound ("no criterion met" when none is).
    deciding: str
    deciding_id: str | None
    deciding_source: str
    #: Criteria that could raise the grade but could not be decided, by their wording.
    undecided: tuple[str, ...]
    criteria_met: tuple[str, ...]
    missing: tuple[str, ...]
    warnings: tuple[str, ...]
    #: The deciding findings in the patient's values and times (site zone), ``·``-separated.
    why: str = ""
    #: What leaves the grade open (provisional, not assessable, ambiguous), in words.
    open: str = ""


def _scale_row(syndrome: str, scale_id: str, result: GradeResult, zone: tzinfo = UTC) -> ScaleRow:
    scale = ALL_SCALES[f"{syndrome}.{scale_id}"]
    lower, upper = result.bounds
    shown = grade_notation(result.grade, result.status, lower, upper)
    # The same reading as ``crswatch grade``: the met criterion of the highest grade decides;
    # when nothing is met there is no deciding criterion, only the undecided ones.
    deciding = result.deciding
    undecided = result.undecided
    return ScaleRow(
        syndrome=syndrome.upper(),
        scale_id=scale_id,
        title=scale.title,
        version=scale.version,
        citation=scale.citation,
        status=result.status,
        grade=result.grade,
        lower=lower,
        upper=upper,
        shown=shown,
        deciding=deciding.rule if deciding is not None else "no criterion met",
        deciding_id=deciding.criterion_id if deciding is not None else None,
        deciding_source=deciding.source_ref if deciding is not None else scale.citation,
        undecided=tuple(dict.fromkeys(e.rule for e in undecided)),
        criteria_met=result.criteria_met,
        missing=result.missing,
        warnings=result.warnings,
        why=" · ".join(finding_text(f, zone, result.at) for f in deciding_findings(result)),
        open=open_question(result),
    )


def _agreement(rows: Iterable[ScaleRow]) -> str:
    """One line over the CRS scales: the range of grades and how many were decided."""
    crs = [row for row in rows if row.syndrome == "CRS"]
    if not crs:
        return ""
    graded = sorted({row.grade for row in crs if row.grade is not None})
    open_ = [row for row in crs if row.grade is None]
    low = min(row.lower for row in crs)
    high = max(row.upper if row.grade is None else row.lower for row in crs)
    if len(graded) == 1 and not open_:
        return f"CRS grade {graded[0]} on all {len(crs)} scales"
    text = f"CRS grades {low} to {high} across {len(crs)} scales"
    if graded:
        text += f" (on record: {', '.join(map(str, graded))})"
    provisional = sum(row.status == "provisional" for row in crs)
    if provisional:
        text += f"; {provisional} provisional"
    if open_:
        text += f"; {len(open_)} not decided"
    return text


# --- recommendations --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceLink:
    """A registered reference a citation names: its anchor on the sources page."""

    id: str
    short: str
    status_text: str


@dataclass(frozen=True, slots=True)
class ActionRow:
    """One action: what, when, at what dose, why, and its source."""

    priority: int
    category: str
    text: str
    timing: str
    #: ``Tocilizumab 560 mg IV over 60 minutes, now`` or empty; ``dose_allowed`` False when
    #: refused (the text then says when the next dose is allowed).
    dose: str
    dose_basis: str
    dose_allowed: bool | None
    dose_reasons: tuple[str, ...]
    because: str
    reference: str
    verification: str
    quote: str | None
    #: The references the citation names, linked to the sources page.
    sources: tuple[SourceLink, ...] = ()


@dataclass(frozen=True, slots=True)
class RecommendationPanel:
    """The rule set's actions at T, with the running totals the bedside asks about."""

    ruleset_id: str
    ruleset_version: str
    ruleset_title: str
    citation: str
    chosen_by: str
    crs: str
    icans: str
    actions: tuple[ActionRow, ...]
    tocilizumab: str
    corticosteroids: str
    warnings: tuple[str, ...]
    legend: tuple[str, ...] = GRADE_LEGEND


def _action_row(action: Action) -> ActionRow:
    dose = action.dose
    text = basis = ""
    if dose is not None:
        text = dose.text
        basis = dose.basis
    return ActionRow(
        priority=action.priority,
        category=CATEGORY_LABELS[action.category],
        text=action.text,
        timing=action.timing,
        dose=text,
        dose_basis=basis,
        dose_allowed=None if dose is None else dose.allowed,
        dose_reasons=() if dose is None else dose.reasons,
        because=action.because,
        reference=action.source.reference,
        verification=VERIFICATION_TEXT[action.source.verification],
        quote=action.source.quote,
        sources=tuple(
            SourceLink(ref.id, ref.short, ref.status_text) for ref in action.source.references
        ),
    )


def _grade_text(scale: str, kind: str, grade: dict[str, Any]) -> str:
    key = scale if kind == "crs" else f"icans.{scale}"
    return f"{grade['notation']} ({get_scale(key).title})"


def _recommendation_panel(result: Recommendation) -> RecommendationPanel:
    f = result.facts
    totals = result.totals()
    grades = result.to_dict()["grades"]
    toci = totals["tocilizumab"]
    given = toci["doses_given"]
    toci_text = f"{given} dose{'' if given == 1 else 's'} given"
    if given:
        toci_text += (
            f", {format_mg(toci['mg_total'])} mg in total ({toci['doses_last_24h']} in the last "
            "24 h)"
        )
    # The next dose only where the rule set recommends tocilizumab (issue 15, point 1).
    if "next_dose" in toci:
        toci_text += f"; indicated: {toci['next_dose']['text'].rstrip('.')}"
    else:
        toci_text += "; not indicated by this rule set at this time"
    steroids = totals["corticosteroids"]
    steroid_text = (
        f"{format_mg(steroids['dexamethasone_equivalent_mg'])} mg dexamethasone equivalent in "
        f"total, {format_mg(steroids['dexamethasone_equivalent_mg_last_24h'])} mg in the last 24 h"
    )
    return RecommendationPanel(
        ruleset_id=result.ruleset.id,
        ruleset_version=result.ruleset.version,
        ruleset_title=result.ruleset.title,
        citation=result.ruleset.citation,
        chosen_by=_chosen_by(result),
        crs=_grade_text(f.crs_scale, "crs", grades["crs"]),
        icans=_grade_text(result.ruleset.icans_scale, "icans", grades["icans"]),
        actions=tuple(_action_row(action) for action in result.actions),
        tocilizumab=toci_text,
        corticosteroids=steroid_text,
        warnings=result.warnings,
    )


def _chosen_by(result: Recommendation) -> str:
    if result.chosen_by == "user":
        return "chosen by the user"
    kind = result.facts.therapy_kind
    return f"the default for {THERAPY_LABELS.get(kind, kind.replace('_', ' '))}"


# --- HLH/IEC-HS screens and biomarker kinetics ------------------------------------------


@dataclass(frozen=True, slots=True)
class ScreenRow:
    """One HLH/MAS screen at T; ``label`` carries "(unverified)" for IEC-HS."""

    screen: str
    label: str
    title: str
    version: str
    verified: bool
    status: str
    score: str
    cutoff: str
    criteria_met: tuple[str, ...]
    not_assessed: tuple[str, ...]
    first_met: str | None
    sources: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FlagRow:
    """A biomarker signal with its source and verification tag."""

    item: str
    message: str
    source: str
    tag: str
    time: str | None


@dataclass(frozen=True, slots=True)
class AnalyteRow:
    """One analyte's kinetics up to T (values in its canonical unit)."""

    item: str
    label: str
    unit: str
    n: int
    baseline: str
    peak: str
    latest: str
    fold_change: float | None
    doubling_time_hours: float | None
    halving_time_hours: float | None
    censored: int


@dataclass(frozen=True, slots=True)
class HLHPanel:
    """Every screen at T, and when each was first met up to T."""

    at: str
    any_met: bool
    screens: tuple[ScreenRow, ...]
    #: Whether ``ScreenRow.first_met`` was looked for (``patient_panels(hlh_course=True)``).
    first_met_computed: bool = False


@dataclass(frozen=True, slots=True)
class BiomarkerPanel:
    """Kinetics of the measured analytes, their flags, the CRP peak and the cytokine pattern."""

    analytes: tuple[AnalyteRow, ...]
    flags: tuple[FlagRow, ...]
    crp_peak: str
    crp_peak_source: str
    cytokine_pattern: str
    cytokine_pattern_source: str
    cytokine_pattern_note: str
    lod_rule: str


def _score(result: ScreenResult) -> str:
    if result.score_bounds is None:
        return "" if result.score is None else str(result.score)
    low, high = result.score_bounds
    return str(low) if low == high else f"{low}-{high}"


def _screen_row(screen_id: str, result: ScreenResult, first: datetime | None) -> ScreenRow:
    return ScreenRow(
        screen=screen_id,
        label=result.title if result.verified else f"{result.title} (not verified)",
        title=result.title,
        version=result.version,
        verified=result.verified,
        status=result.status,
        score=_score(result),
        cutoff=result.cutoff or "",
        # Clinical labels, not criterion ids (issue 15: "NK-cell activity", not nk_activity).
        criteria_met=tuple(c.label for c in result.criteria if c.met),
        not_assessed=tuple(c.label for c in result.criteria if c.met is None),
        first_met=format_time(first) if first is not None else None,
        sources=tuple(dict.fromkeys(c.source_ref for c in result.criteria)),
        warnings=result.warnings,
    )


#: UCUM codes as a clinician writes the unit (UCUM stays in the data and the API).
UNIT_SYMBOLS: dict[str, str] = {
    "Cel": "°C",
    "mm[Hg]": "mmHg",
    "ug/min": "µg/min",
    "ug/kg/min": "µg/kg/min",
    "ug/L": "µg/L",
    "ug/mL": "µg/mL",
    "ug/dL": "µg/dL",
    "10*9/L": "×10⁹/L",
    "10*3/uL": "×10³/µL",
    "10*6/uL": "×10⁶/µL",
    "/uL": "/µL",
    "ug/d": "µg/day",
    "ug/m2/d": "µg/m²/day",
    "[iU]/L": "IU/L",
    "[iU]/mL": "IU/mL",
    "U/L": "U/L",
    "%": "%",
}


def unit_symbol(unit: str | None) -> str:
    """The conventional symbol of a UCUM unit (``Cel`` -> °C); unknown units unchanged."""
    if not unit:
        return ""
    return UNIT_SYMBOLS.get(unit, unit.replace("ug", "µg").replace("uL", "µL"))


def format_value(value: float) -> str:
    """A measured value with sensible precision: 17,180; 1,190; 245; 38.6; 0.45."""
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2g}" if size < 1 else f"{value:.2f}".rstrip("0").rstrip(".")


def _day(moment: datetime, start: datetime) -> str:
    # + 0.0 turns a rounded -0.0 (a result minutes before the start) into 0.0.
    return f"{round((moment - start).total_seconds() / 86400, 1) + 0.0:.1f}"


def _point(point: Point | None, start: datetime) -> str:
    if point is None:
        return "-"
    text = f"{format_value(point.value)} (day {_day(point.time, start)})"
    return f"{text}, {point.stat.flag}" if point.stat.flag else text


def _analyte_row(row: Kinetics, start: datetime) -> AnalyteRow:
    return AnalyteRow(
        item=row.item,
        label=row.label,
        unit=unit_symbol(row.unit),
        n=len(row.points),
        baseline=_point(row.baseline, start),
        peak=_point(row.peak, start),
        latest=_point(row.latest, start),
        fold_change=None if row.fold_change is None else round(row.fold_change, 1),
        doubling_time_hours=_rounded(row.fastest_doubling_time_hours),
        halving_time_hours=_rounded(row.halving_time_hours),
        censored=sum(1 for p in row.points if p.stat.censored),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _crp_text(passed: bool | None, confounded: bool) -> str:
    if passed is None:
        return "no CRP after the therapy start"
    text = "CRP peak has passed" if passed else "CRP peak not yet passed"
    if confounded:
        text += " (IL-6 blockade given before the latest result: the fall may be the drug's)"
    return text


def _biomarker_panel(timeline: Timeline, at: datetime) -> BiomarkerPanel:
    # As ``crswatch biomarkers``: default parameters, the profile at the kinetics' T.
    params = BiomarkerParameters()
    course = kinetics(timeline, at, params)
    profile = cytokine_profile(timeline, course.at, params)
    pattern = profile.pattern.to_dict()
    start = timeline.patient.therapy.start
    return BiomarkerPanel(
        analytes=tuple(_analyte_row(row, start) for row in course.analytes if row.points),
        flags=tuple(
            FlagRow(
                item=row.item,
                message=flag.message,
                source=flag.source,
                tag=flag.tag,
                time=format_time(flag.time) if flag.time else None,
            )
            for row in course.analytes
            for flag in row.flags
        ),
        crp_peak=_crp_text(course.crp_peak.passed, course.crp_peak.confounded_by_il6_blockade),
        crp_peak_source=course.crp_peak.source,
        cytokine_pattern=f"HLH cytokine pattern: {pattern['shown_as']}",
        cytokine_pattern_source=pattern["source"],
        cytokine_pattern_note=pattern["note"],
        lod_rule=course.to_dict()["lod_rule"],
    )


def _hlh_panel(evaluation: TimelineEvaluation, at: datetime, *, with_course: bool) -> HLHPanel:
    # As ``crswatch hlh``: default parameters, no supplementary findings.  The screens at T are
    # those the recommendation read (one screening, decision 0024).
    timeline = evaluation.timeline
    screens = evaluation.screens(at)
    # The course screens at every event time: about 10 s for nine days of 5-minute vitals, so
    # the page asks for it only on request (decision 0017).
    first_met = screen_course(timeline, at).first_met if with_course else {}
    return HLHPanel(
        at=format_time(screens.at),
        any_met=screens.any_met,
        screens=tuple(
            _screen_row(screen_id, result, first_met.get(screen_id))
            for screen_id, result in screens.results.items()
        ),
        first_met_computed=with_course,
    )


# --- blinatumomab regimen status --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegimenRow:
    """A label action or deviation: when, what, the rule and its source."""

    at: str
    what: str
    detail: str
    rule: str
    source: str
    verified: bool


@dataclass(frozen=True, slots=True)
class RegimenPanel:
    """Where a blinatumomab patient is in the course at T, per the label's rules."""

    state: str
    cycle: int | None
    cycle_day: int | None
    rate: str
    dose_due: str
    dose_rule: str
    premedication: str
    actions: tuple[RegimenRow, ...]
    deviations: tuple[RegimenRow, ...]
    notes: tuple[str, ...]
    label: str
    label_source: str
    #: Why the status could not be computed (the weight is missing, say); else None.
    error: str | None = None


def _citation(source: object) -> str:
    """A regimen source name (``BLINCYTO-current``) as its citation."""
    return SOURCES.get(str(source), str(source))


def _regimen_rows(items: Iterable[Mapping[str, Any]], what: str) -> tuple[RegimenRow, ...]:
    return tuple(
        RegimenRow(
            at=format_clock(parse_time(str(item["at"]), "at")),
            what=str(item[what]).replace("_", " "),
            detail=str(item["detail"]),
            rule=str(item["rule"]),
            source=_citation(item.get("source")),
            verified=bool(item.get("verified", True)),
        )
        for item in items
    )


def _regimen_panel(
    timeline: Timeline, at: datetime, evaluation: TimelineEvaluation | None = None
) -> RegimenPanel | None:
    if timeline.patient.therapy.kind != "blinatumomab":
        return None
    courses = None
    if evaluation is not None and timeline.events:
        # The grade courses from the page's trajectory, not a trajectory of its own.
        params = StatusParameters()
        path = evaluation.trajectory([params.crs_scale, params.neuro_scale])
        courses = grade_courses_of(path).get(timeline.patient.id)
    try:
        # As ``crswatch blinatumomab status`` with its defaults (current label, ASTCT CRS).
        status = blinatumomab_status(timeline, at, courses=courses).to_dict()
    except (ValueError, LookupError) as exc:
        return RegimenPanel(
            state="unknown",
            cycle=None,
            cycle_day=None,
            rate="",
            dose_due="",
            dose_rule="",
            premedication="",
            actions=(),
            deviations=(),
            notes=(),
            label="",
            label_source="",
            error=str(exc),
        )
    dose = status["dose_due"]
    premed = status["next_premedication"]
    premed_text = ""
    if premed:
        drugs = ", ".join(f"{p['drug']} {p['dose_mg']:g} mg" for p in premed["items"])
        due = premed["due"]
        when = format_clock(parse_time(str(due), "due")) if due else "before the infusion starts"
        premed_text = f"{drugs} (due {when})"
    return RegimenPanel(
        state=status["state"].replace("_", " "),
        cycle=status["cycle"],
        cycle_day=status["cycle_day"],
        rate=f"{status['current_rate_ug_per_day']:g} µg/day",
        dose_due=f"{dose['dose_ug_per_day']:g} µg/day ({dose['reason']})",
        dose_rule=_citation(dose.get("source")),
        premedication=premed_text,
        actions=_regimen_rows(status["actions"], "action"),
        deviations=_regimen_rows(status["deviations"], "kind"),
        notes=(*status["ambiguous"], *status["warnings"]),
        label=status["label"]["name"],
        label_source=_citation(status["label"]["source"]),
    )


# --- the whole view ---------------------------------------------------------------------


@dataclass(frozen=True)
class PatientPanels:
    """Everything the patient view shows beside its charts, for one patient at one time."""

    patient_id: str
    therapy_kind: str
    product: str | None
    at: datetime
    at_text: str
    #: Days since the therapy start at ``at``.
    day: float
    grades: tuple[ScaleRow, ...]
    crs_agreement: str
    #: None only when the panel could not be drawn (then named in ``failures``).
    recommendations: RecommendationPanel | None
    hlh: HLHPanel | None
    biomarkers: BiomarkerPanel | None
    regimen: RegimenPanel | None
    #: The legend of the grade notation, shown under the grade table.
    grade_legend: tuple[str, ...] = GRADE_LEGEND
    #: The step-up bispecific regimen (``crswatch regimen status``), for those patients.
    bispecific: BispecificPanel | None = None
    #: The panels that could not be drawn (``grades``, ``recommendations``, ``hlh``,
    #: ``biomarkers``, ``regimen``, ``bispecific``), with the request id their error was
    #: logged under; empty unless ``patient_panels`` was given a request id.
    failures: Mapping[str, PartFailure] = field(default_factory=dict)


def patient_panels(
    timeline: Timeline,
    *,
    at: datetime | None = None,
    hlh_course: bool = False,
    evaluation: TimelineEvaluation | None = None,
    zone: tzinfo = UTC,
    request_id: str | None = None,
) -> PatientPanels:
    """The panels of the patient view at ``at`` (default: the last event, as every command).

    With ``hlh_course`` each screen also says when it was first met up to ``at``
    (:func:`crswatch.hlh.screen_course`, which screens at every event time: slow on long
    records of frequent vitals).  ``evaluation`` (of this timeline) shares the engines'
    results with the rest of the page (its grades, its chart's trajectory; decision 0024).
    ``zone`` is the site's zone in which the findings' times are written (decision 0050).
    With a ``request_id`` (the dashboard's), a panel that raises is named in ``failures`` and
    the others are still built (``_isolate``); without one, the error propagates.
    """
    if evaluation is None:
        evaluation = TimelineEvaluation(timeline)
    moment = at or (timeline.events[-1].time if timeline.events else timeline.patient.therapy.start)
    failures: dict[str, PartFailure] = {}

    def part(name: str, label: str, build: Callable[[], T]) -> T | None:
        built = isolated(label, request_id, build)
        if isinstance(built, PartFailure):
            failures[name] = built
            return None
        return built

    # As ``crswatch recommend``: the default rule set for the therapy kind.  The regimen is
    # its own panel, so the recommendation does not compute it a second time.  First: it
    # grades T and the times around the doses given in one pass, which the table below reuses.
    recommendations = part(
        "recommendations",
        "recommendation panel",
        lambda: _recommendation_panel(
            recommend(timeline, moment, with_regimen=False, evaluation=evaluation)
        ),
    )

    def scale_rows() -> tuple[ScaleRow, ...]:
        graded = evaluation.grades(moment)
        return tuple(
            _scale_row(syndrome, scale_id, result, zone)
            for syndrome, results in (("crs", graded.crs), ("icans", graded.icans))
            for scale_id, result in results.items()
        )

    rows = part("grades", "table of every scale", scale_rows) or ()
    therapy = timeline.patient.therapy
    return PatientPanels(
        patient_id=timeline.patient.id,
        therapy_kind=therapy.kind,
        product=therapy.product,
        at=moment,
        at_text=format_time(moment),
        day=round((moment - therapy.start).total_seconds() / 86400, 2) + 0.0,
        grades=rows,
        crs_agreement="" if "grades" in failures else _agreement(rows),
        recommendations=recommendations,
        hlh=part(
            "hlh",
            "HLH/MAS screen panel",
            lambda: _hlh_panel(evaluation, moment, with_course=hlh_course),
        ),
        biomarkers=part(
            "biomarkers", "biomarker panel", lambda: _biomarker_panel(timeline, moment)
        ),
        regimen=part(
            "regimen", "regimen panel", lambda: _regimen_panel(timeline, moment, evaluation)
        ),
        bispecific=part(
            "bispecific", "bispecific regimen panel", lambda: bispecific_panel(timeline, moment)
        ),
        failures=failures,
    )
