"""Random streams of one patient, derived from the cohort seed and the patient's index only.

``SeedSequence([seed, index])`` makes patient *i* the same whatever the cohort size, the shard
size or the order patients are generated in.  It is split into independent child streams, one
per concern, so that asking for a different vital-sign interval (more or fewer noise draws)
changes the vital-sign noise only: the scenario, the laboratory values and the neurological
course stay the same.  The fifth stream, the disease response (``_response``), was added after
the first four: ``spawn`` numbers its children, so the first four are what they always were and
the patients drawn before it are unchanged.  Results are reproducible for a given numpy version
(numpy keeps the bit stream of ``PCG64`` stable, not every distribution's algorithm across major
versions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Streams", "lognormal", "patient_streams", "uniform"]


@dataclass(frozen=True, slots=True)
class Streams:
    """Independent generators: the patient and what happens; vitals; labs; neuro; response."""

    scenario: np.random.Generator
    vitals: np.random.Generator
    labs: np.random.Generator
    neuro: np.random.Generator
    response: np.random.Generator


def patient_streams(seed: int, index: int) -> Streams:
    """The streams of patient ``index`` of the cohort drawn with ``seed``."""
    scenario, vitals, labs, neuro, response = np.random.SeedSequence([seed, index]).spawn(5)
    return Streams(
        scenario=np.random.Generator(np.random.PCG64(scenario)),
        vitals=np.random.Generator(np.random.PCG64(vitals)),
        labs=np.random.Generator(np.random.PCG64(labs)),
        neuro=np.random.Generator(np.random.PCG64(neuro)),
        response=np.random.Generator(np.random.PCG64(response)),
    )


def uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """One draw from U(low, high) as a Python float."""
    return float(rng.uniform(low, high))


def lognormal(
    rng: np.random.Generator,
    median: float,
    spread: float,
    low: float = -math.inf,
    high: float = math.inf,
) -> float:
    """One draw with the given median and log-scale spread, kept within [low, high]."""
    return min(high, max(low, median * math.exp(spread * float(rng.standard_normal()))))
