"""The clinical state at evaluation times: vectorized Polars over a patient-sorted event table."""

from crswatch.state._changes import UNREAD_ITEMS, events_read
from crswatch.state._engine import (
    PreparedState,
    clinical_state,
    evaluation_times,
    prepare_state,
    prepared_state_at,
    state_of,
    states_over_time,
)
from crswatch.state._fever import ANTI_CYTOKINE, CORTICOSTEROIDS
from crswatch.state._hemodynamics import PRESSORS, RATE_COLUMNS
from crswatch.state._neuro import CONSCIOUSNESS_LEVELS, ICE_ITEM_POINTS, SEIZURE_SEVERITY
from crswatch.state._parameters import CrsDefinition, FeverWaiver, FiO2Rule, StateParameters
from crswatch.state._respiratory import POSITIVE_PRESSURE

__all__ = [
    "ANTI_CYTOKINE",
    "CONSCIOUSNESS_LEVELS",
    "CORTICOSTEROIDS",
    "ICE_ITEM_POINTS",
    "POSITIVE_PRESSURE",
    "PRESSORS",
    "RATE_COLUMNS",
    "SEIZURE_SEVERITY",
    "UNREAD_ITEMS",
    "CrsDefinition",
    "FeverWaiver",
    "FiO2Rule",
    "PreparedState",
    "StateParameters",
    "clinical_state",
    "evaluation_times",
    "events_read",
    "prepare_state",
    "prepared_state_at",
    "state_of",
    "states_over_time",
]
