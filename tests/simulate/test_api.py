"""The public surface of ``crswatch.simulate``: a curated ``__all__``, private modules behind it."""

from __future__ import annotations

import crswatch.simulate as simulate


def test_all_is_sorted_unique_and_complete() -> None:
    exported = list(simulate.__all__)
    assert exported == sorted(exported, key=lambda name: (not name.isupper(), name))
    assert len(exported) == len(set(exported))
    for name in exported:
        assert hasattr(simulate, name), name
    assert {"simulate_patient", "iter_cohort", "write_cohort", "CohortManifest"} <= set(exported)
    public = {name for name in vars(simulate) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(simulate, name)).__name__ == "module"}
    assert public - modules == set(exported)
