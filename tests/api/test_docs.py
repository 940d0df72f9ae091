"""The API documentation page works offline: Swagger UI comes from this server, never a CDN."""

from __future__ import annotations

import re

from tests.api.conftest import Api


def test_docs_page_loads_swagger_ui_from_this_server(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    # Every script, stylesheet and icon is a path on this server (no scheme, no host).
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    assert "cdn." not in page.text and "https://" not in page.text.replace("https://swagger.io", "")
    for source in sources:
        asset = api.client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 500, source
    assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text


def test_redoc_is_not_offered(api: Api) -> None:
    # ReDoc would load from a CDN; it is not served (decision 0052).
    assert api.client.get("/redoc").status_code == 404
