"""The docs page of every scale is generated from its criteria and kept in the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from crswatch.scales import ALL_SCALES, Scale, render_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scales"


@pytest.mark.parametrize("scale", list(ALL_SCALES.values()), ids=list(ALL_SCALES))
def test_docs_page_is_current(scale: Scale) -> None:
    page = DOCS / f"{scale.page_name}.md"
    assert page.is_file(), f"run: crswatch scales --write-docs docs/scales ({page} missing)"
    assert page.read_text(encoding="utf-8") == render_markdown(scale), (
        f"{page} is stale: run crswatch scales --write-docs docs/scales"
    )
    for criterion in scale.criteria:
        assert f"`{criterion.id}`" in page.read_text(encoding="utf-8")
