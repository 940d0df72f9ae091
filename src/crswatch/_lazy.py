"""Names of a package loaded on first use (PEP 562), for the packages whose import must stay
light: the root (decision 0056), ``crswatch.scales`` (0076) and ``crswatch.cohort`` (0077)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, modules: Mapping[str, str], exported: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: each name of ``modules`` is read from
    its module on first access and then kept in the package (a plain attribute read after)."""
    namespace = vars(sys.modules[package])
    listed = set(exported)

    def get(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def listing() -> list[str]:
        return sorted(set(namespace) | listed)

    return get, listing
