"""The docs page of every product is its label data rendered (docs/regimens/<product>.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crswatch.regimens import PRODUCTS, render_product_markdown

DOCS = Path(__file__).resolve().parents[3] / "docs" / "regimens"


@pytest.mark.parametrize("product", list(PRODUCTS))
def test_page_is_current(product: str) -> None:
    page = DOCS / f"{product}.md"
    assert page.read_text(encoding="utf-8") == render_product_markdown(PRODUCTS[product]), (
        f"regenerate with: crswatch regimen docs docs/regimens ({page.name} is stale)"
    )


@pytest.mark.parametrize("product", list(PRODUCTS))
def test_page_names_label_version_and_what_is_not_verified(product: str) -> None:
    text = render_product_markdown(PRODUCTS[product])
    assert "**Label version**" in text
    assert "## Not verified" in text
    assert "None" not in text
