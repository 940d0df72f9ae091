"""Bispecific T-cell engagers given with step-up dosing: labels as data, plans and status.

One module per product (``teclistamab``, ``elranatamab``, ``talquetamab``, ``epcoritamab``,
``glofitamab``, ``mosunetuzumab``, ``tarlatamab``) holds its US label as far as it could be
verified (shared/research/criteria-verification.md §5); what was not found is an
:class:`Unverified` entry, never a value from memory.  ``plan_regimen`` plans a course;
``regimen_status`` reads a patient's record.  Decisions: docs/decisions/0042-bispecific-regimens.md.
"""

from crswatch.regimens.bispecifics._docs import render_product_markdown, write_product_docs
from crswatch.regimens.bispecifics._grades import GradedPoint, LabelReading, grade_points
from crswatch.regimens.bispecifics._model import (
    CrsAction,
    DelayRule,
    DoseRow,
    LabelPremedication,
    Monitoring,
    Product,
    Schedule,
    Source,
    SwitchRule,
    Unverified,
)
from crswatch.regimens.bispecifics._plan import BispecificPlan, PlannedDose, plan_regimen
from crswatch.regimens.bispecifics._products import PRODUCTS, get_product
from crswatch.regimens.bispecifics._status import (
    GivenDose,
    RegimenStatus,
    product_of,
    regimen_status,
)

__all__ = [
    "PRODUCTS",
    "BispecificPlan",
    "CrsAction",
    "DelayRule",
    "DoseRow",
    "GivenDose",
    "GradedPoint",
    "LabelPremedication",
    "LabelReading",
    "Monitoring",
    "PlannedDose",
    "Product",
    "RegimenStatus",
    "Schedule",
    "Source",
    "SwitchRule",
    "Unverified",
    "get_product",
    "grade_points",
    "plan_regimen",
    "product_of",
    "regimen_status",
    "render_product_markdown",
    "write_product_docs",
]
