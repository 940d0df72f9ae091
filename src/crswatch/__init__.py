"""crswatch: CRS, ICANS and HLH/MAS surveillance for T-cell engaging immunotherapy.

The public API is what ``__all__`` lists; every ``_module`` is private.

The names are loaded on first use (PEP 562): importing ``crswatch`` or any of its subpackages
(the command line, the store) must not pay for the readers, Polars and the unit registry until
something needs them (issue 16, point 5; docs/decisions/0056-lazy-imports.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crswatch._lazy import lazy_names
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


__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
