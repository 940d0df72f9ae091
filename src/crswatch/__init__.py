"""crswatch: CRS, ICANS and HLH/MAS surveillance for T-cell engaging immunotherapy.

The public API is what ``__all__`` lists; every ``_module`` is private.

The names are loaded on first use (PEP 562): importing ``crswatch`` or any of its subpackages
(the command line, the store) must not pay for the readers, Polars and the unit registry until
something needs them (issue 16, point 5; docs/decisions/0056-lazy-imports.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from crswatch.errors import (
    CRSWatchError,
    IngestError,
    InputError,
    TimelineFormatError,
    UnitError,
    UnknownCodeError,
)

if TYPE_CHECKING:
    from crswatch.io import iter_read, read_path, write_path
    from crswatch.timeline import (
        FORMAT,
        Event,
        IngestIssue,
        IngestReport,
        Patient,
        ReadResult,
        Therapy,
        Timeline,
    )

__version__ = "0.1.0"

__all__ = [
    "FORMAT",
    "CRSWatchError",
    "Event",
    "IngestError",
    "IngestIssue",
    "IngestReport",
    "InputError",
    "Patient",
    "ReadResult",
    "Therapy",
    "Timeline",
    "TimelineFormatError",
    "UnitError",
    "UnknownCodeError",
    "__version__",
    "iter_read",
    "read_path",
    "write_path",
]

#: The lazily loaded names and the module each comes from.
_LAZY = {
    "FORMAT": "crswatch.timeline",
    "Event": "crswatch.timeline",
    "IngestIssue": "crswatch.timeline",
    "IngestReport": "crswatch.timeline",
    "Patient": "crswatch.timeline",
    "ReadResult": "crswatch.timeline",
    "Therapy": "crswatch.timeline",
    "Timeline": "crswatch.timeline",
    "iter_read": "crswatch.io",
    "read_path": "crswatch.io",
    "write_path": "crswatch.io",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'crswatch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute read
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
