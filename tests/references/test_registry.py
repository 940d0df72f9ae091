"""The sources registry: every reference well formed, citations resolved, docs in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from crswatch.errors import UnknownCodeError
from crswatch.references import (
    REFERENCES,
    STATUS_TEXT,
    cite,
    get_reference,
    references_in,
    render_sources_markdown,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sources.md"


def test_every_reference_is_complete_and_unique() -> None:
    shorts = [ref.short for ref in REFERENCES.values()]
    assert len(shorts) == len(set(shorts))
    for ref in REFERENCES.values():
        assert ref.citation.strip() and ref.status in STATUS_TEXT, ref.id
        # A short form inside another would make a citation ambiguous.
        assert not any(ref.short in other for other in shorts if other != ref.short), ref.id


def test_unverified_sources_say_so() -> None:
    """criteria-verification §1: IEC-HS (Hines 2023) not found; the Lee 2014 erratum not read."""
    assert get_reference("hines2023").status == "unverified"
    assert get_reference("lee2014-erratum").status == "unverified"
    assert get_reference("hines2023").status_text == "not verified against the original publication"


def test_cite_and_resolve() -> None:
    text = cite("lee2014", "Figure 2") + "; dose: " + cite("actemra-label")
    assert text.startswith("Lee et al., Blood 2014, Figure 2")
    assert [ref.id for ref in references_in(text)] == ["lee2014", "actemra-label"]
    with pytest.raises(UnknownCodeError, match="lee2014"):
        cite("lee2015")


def test_docs_sources_page_is_generated_from_the_registry() -> None:
    """docs/sources.md lists every reference with its status; regenerate it with
    ``render_sources_markdown()`` when the registry changes."""
    assert DOCS.read_text(encoding="utf-8") == render_sources_markdown()
    for ref in REFERENCES.values():
        assert f'<a id="{ref.id}"></a>' in DOCS.read_text(encoding="utf-8")
