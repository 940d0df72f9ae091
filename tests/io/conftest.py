"""Fixtures shared by the reader's tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crswatch.io import TablePair, find_table_pairs
from crswatch.simulate import write_cohort


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory) -> TablePair:
    """One simulated shard of 4 patients with 2-hourly vital signs (some 4,800 event rows)."""
    path = tmp_path_factory.mktemp("shard") / "cohort"
    write_cohort(path, 4, seed=7, shard_size=4, vitals_every=timedelta(hours=2))
    (pair,) = find_table_pairs(path)
    return pair
