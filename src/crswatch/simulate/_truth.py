"""The generator's intent for each patient: the ground-truth table of a simulated cohort.

Every column is what the generator *meant* to produce (``intended_*``), never a grade computed
from the timeline: scales grade the same course differently, and a grader under test must be
compared with this intent knowing that.  ``intended_crs_tier`` uses the ASTCT 2019 levels (see
``_scenario``); ``intended_icans_tier`` the ICANS levels the neurological course was built to
reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import pyarrow as pa

__all__ = ["TRUTH_SCHEMA", "PatientTruth", "truth_table"]

_TIMESTAMP = pa.timestamp("us", tz="UTC")
TRUTH_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("index", pa.int64()),
        ("shard", pa.int32()),
        ("therapy_kind", pa.string()),
        ("product", pa.string()),
        ("regimen", pa.string()),
        ("scenario", pa.string()),
        ("intended_crs_tier", pa.int8()),
        ("crs_onset", _TIMESTAMP),
        ("escalation", _TIMESTAMP),
        ("intended_hypotension", pa.string()),
        ("intended_vasopressin", pa.bool_()),
        ("intended_oxygen", pa.string()),
        ("tocilizumab_doses", pa.int8()),
        ("steroids", pa.bool_()),
        ("hlh_like", pa.bool_()),
        ("intended_icans_tier", pa.int8()),
        ("icans_onset", _TIMESTAMP),
        ("infection_fever", pa.bool_()),
        ("died", pa.bool_()),
        ("cytokine_lod_pg_ml", pa.float64()),
        ("observation_end", _TIMESTAMP),
    ]
)


@dataclass(frozen=True, slots=True)
class PatientTruth:
    """What the generator intended for one patient (times in UTC)."""

    patient_id: str
    index: int
    therapy_kind: str
    product: str
    #: Blinatumomab regimen (``label_step``, ``flat``, ``three_step``); ``None`` for CAR T.
    regimen: str | None
    #: A readable summary, e.g. ``tier3:one_pressor+vasopressin/icans2``.
    scenario: str
    intended_crs_tier: int
    #: The first attributable fever >= 38.0 °C, or ``None`` without CRS.
    crs_onset: datetime | None
    #: When hypotension and/or hypoxia begin (tier >= 2).
    escalation: datetime | None
    intended_hypotension: str
    intended_vasopressin: bool
    intended_oxygen: str
    tocilizumab_doses: int
    steroids: bool
    hlh_like: bool
    intended_icans_tier: int
    icans_onset: datetime | None
    #: A fever from documented infection (``cause: other``) is in the timeline.
    infection_fever: bool
    died: bool
    cytokine_lod_pg_ml: float
    observation_end: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = tuple(field.name for field in fields(PatientTruth))


def truth_table(truths: Sequence[PatientTruth], shard: int) -> pa.Table:
    """One row per patient, in ``TRUTH_SCHEMA``."""
    columns: dict[str, list[Any]] = {
        name: [getattr(truth, name) for truth in truths] for name in _FIELDS
    }
    columns["shard"] = [shard] * len(truths)
    return pa.Table.from_pydict(
        {name: columns[name] for name in TRUTH_SCHEMA.names}, schema=TRUTH_SCHEMA
    )
