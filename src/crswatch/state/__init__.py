"""The clinical state at evaluation times: vectorized Polars over a patient-sorted event table."""

from crswatch.state._engine import clinical_state, evaluation_times, state_of
from crswatch.state._fever import ANTI_CYTOKINE, CORTICOSTEROIDS
from crswatch.state._hemodynamics import PRESSORS, RATE_COLUMNS
from crswatch.state._parameters import FiO2Rule, StateParameters
from crswatch.state._respiratory import POSITIVE_PRESSURE

__all__ = [
    "ANTI_CYTOKINE",
    "CORTICOSTEROIDS",
    "POSITIVE_PRESSURE",
    "PRESSORS",
    "RATE_COLUMNS",
    "FiO2Rule",
    "StateParameters",
    "clinical_state",
    "evaluation_times",
    "state_of",
]
