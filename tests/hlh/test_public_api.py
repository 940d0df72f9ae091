"""``crswatch.hlh`` and ``crswatch.biomarkers`` export a curated, complete ``__all__``."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["crswatch.hlh", "crswatch.biomarkers"])
def test_all_is_unique_and_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported))
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.{symbol}"
