"""The public API is curated: ``__all__`` is sorted and complete, and every error is in one tree."""

from __future__ import annotations

import importlib

import pytest

import crswatch
from crswatch import errors

PUBLIC_MODULES = [
    "crswatch",
    "crswatch.timeline",
    "crswatch.io",
    "crswatch.io.fhir",
    "crswatch.api.cds_hooks",
    "crswatch.errors",
    "crswatch.cli",
    "crswatch.simulate",
    "crswatch.state",
    "crswatch.scales",
    "crswatch.episodes",
    "crswatch.references",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_unique_and_names_exist(name: str) -> None:
    # The order is ruff's (RUF022, isort-style); here: no duplicates, nothing missing.
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported))
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.{symbol}"


def test_every_error_derives_from_the_root() -> None:
    for symbol in errors.__all__:
        error = getattr(errors, symbol)
        assert issubclass(error, errors.CRSWatchError)
    assert issubclass(errors.InputError, ValueError)
    assert issubclass(errors.UnknownCodeError, LookupError)


def test_version_is_exposed() -> None:
    assert crswatch.__version__.count(".") == 2
