"""crswatch: CRS, ICANS and HLH/MAS surveillance for T-cell engaging immunotherapy.

The public API is what ``__all__`` lists; every ``_module`` is private.
"""

from crswatch.errors import (
    CRSWatchError,
    IngestError,
    InputError,
    TimelineFormatError,
    UnitError,
    UnknownCodeError,
)
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
