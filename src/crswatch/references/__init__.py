"""The published sources behind every recommendation, with their verification status.

Rule text cites a source by its short form (:func:`cite`); :func:`references_in` finds the
references a citation names, so every surface can link it to the full citation and its status
(``docs/sources.md`` and the dashboard's sources page list them all).  Decision:
docs/decisions/0033-clinical-recommendations.md.
"""

from crswatch.references._registry import (
    REFERENCES,
    STATUS_TEXT,
    Reference,
    ReferenceStatus,
    cite,
    get_reference,
    references_in,
    render_sources_markdown,
)

__all__ = [
    "REFERENCES",
    "STATUS_TEXT",
    "Reference",
    "ReferenceStatus",
    "cite",
    "get_reference",
    "references_in",
    "render_sources_markdown",
]
