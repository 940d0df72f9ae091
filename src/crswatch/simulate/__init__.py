"""Synthetic cohorts: realistic, seeded CAR T and blinatumomab timelines with CRS courses.

``simulate_patient(i, seed=S)`` is patient *i* of the cohort drawn with seed *S*, the same
whatever the cohort size; ``iter_cohort`` streams timelines; ``write_cohort`` writes a JSON file
or Parquet shards (sharded by patient, bounded memory) with the generator's intent per patient in
``truth/`` and its intended grades over time in ``truth_grades/``; ``demo_ward`` is a ward of
patients at different stages of their course, cut at a common clock (``crswatch demo``), and
``ward_beds`` the same beds with the course at the clock.  The modelling choices and their
sources are in each private module's docstring and in ``docs/decisions/0004-simulator.md``,
``0018-demo-ward.md`` and ``0040-simulator-truth-grades.md``.
"""

from crswatch.simulate._manifest import GENERATOR_VERSION, CohortManifest, ShardInfo
from crswatch.simulate._scenario import TherapyChoice
from crswatch.simulate._truth import TRUTH_SCHEMA, PatientTruth
from crswatch.simulate._truth_grades import TRUTH_GRADES_SCHEMA, TruthSpan
from crswatch.simulate._ward import DEMO_SEED, WardBed, demo_ward, ward_beds, ward_stages
from crswatch.simulate._writer import iter_cohort, simulate_patient, write_cohort

__all__ = [
    "DEMO_SEED",
    "GENERATOR_VERSION",
    "TRUTH_GRADES_SCHEMA",
    "TRUTH_SCHEMA",
    "CohortManifest",
    "PatientTruth",
    "ShardInfo",
    "TherapyChoice",
    "TruthSpan",
    "WardBed",
    "demo_ward",
    "iter_cohort",
    "simulate_patient",
    "ward_beds",
    "ward_stages",
    "write_cohort",
]
