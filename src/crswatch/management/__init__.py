"""Management: what to do now, at what dose, and why, from the full state at time T.

Rule sets are data, one module each (``lee2014``, ``astct_era``, ``blinatumomab_label``),
versioned and cited; every rule names its source and verification tag.  The engine evaluates
every rule of the chosen rule set on the facts at T (grades, state, therapy, patient, what was
already given) and returns actions with priority, computed dose, timing, rationale and source.
Dosing (tocilizumab by the label, corticosteroid regimens) and glucocorticoid equivalence are
their own modules.  Decisions: docs/decisions/0014-management.md.
"""

from crswatch.management._dosing import (
    TOCILIZUMAB_LABEL,
    TOCILIZUMAB_VIALS_MG,
    DosingOptions,
    TocilizumabCheck,
    TocilizumabLabel,
    corticosteroid_dose,
    tocilizumab_dose,
)
from crswatch.management._engine import (
    DEFAULT_RULESET,
    RECOMMENDATION_SCHEMA,
    RULESETS,
    Recommendation,
    evaluate,
    get_ruleset,
    recommend,
)
from crswatch.management._evaluation import TimelineEvaluation
from crswatch.management._facts import Facts, gather_facts
from crswatch.management._model import (
    CATEGORIES,
    CATEGORY_LABELS,
    VERIFICATION_TAGS,
    VERIFICATION_TEXT,
    Action,
    Dose,
    Rule,
    RuleSet,
    Source,
)
from crswatch.management._steroids import (
    STEROID_EQUIVALENCE,
    STEROID_EQUIVALENCE_SOURCE,
    SteroidExposure,
    dexamethasone_equivalent,
    steroid_exposure,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "DEFAULT_RULESET",
    "RECOMMENDATION_SCHEMA",
    "RULESETS",
    "STEROID_EQUIVALENCE",
    "STEROID_EQUIVALENCE_SOURCE",
    "TOCILIZUMAB_LABEL",
    "TOCILIZUMAB_VIALS_MG",
    "VERIFICATION_TAGS",
    "VERIFICATION_TEXT",
    "Action",
    "Dose",
    "DosingOptions",
    "Facts",
    "Recommendation",
    "Rule",
    "RuleSet",
    "Source",
    "SteroidExposure",
    "TimelineEvaluation",
    "TocilizumabCheck",
    "TocilizumabLabel",
    "corticosteroid_dose",
    "dexamethasone_equivalent",
    "evaluate",
    "gather_facts",
    "get_ruleset",
    "recommend",
    "steroid_exposure",
    "tocilizumab_dose",
]
