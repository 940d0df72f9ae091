"""``GET /patients/{id}/regimen``: the step-up bispecific regimen status, as the CLI prints it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from crswatch.cli import app as cli_app
from tests.api.conftest import Api
from tests.conftest import BASE_DOCUMENT

PID = "P-001"


def mosunetuzumab_document() -> dict[str, Any]:
    document = copy.deepcopy(BASE_DOCUMENT)
    document["patient"]["therapy"] = {
        "kind": "bispecific",
        "product": "mosunetuzumab",
        "start": "2024-03-01T10:00:00Z",
    }
    document["events"].append(
        {"time": "2024-03-01T10:00:00Z", "item": "mosunetuzumab", "value": 1, "unit": "mg"}
    )
    return document


def test_regimen_mirrors_the_command_line(api: Api, tmp_path: Path) -> None:
    document = mosunetuzumab_document()
    posted = api.client.post("/events/timeline", json=document, headers=api.headers("clinician"))
    assert posted.status_code == 200, posted.text
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(cli_app, ["regimen", "status", str(path), "--json"])
    assert result.exit_code == 0, result.output
    response = api.client.get(f"/patients/{PID}/regimen", headers=api.headers("viewer"))
    assert response.status_code == 200, response.text
    assert response.json() == json.loads(result.stdout)
    assert response.json()["product"] == "mosunetuzumab (LUNSUMIO)"


def test_regimen_bad_drug_names_the_field(api: Api) -> None:
    posted = api.client.post(
        "/events/timeline", json=mosunetuzumab_document(), headers=api.headers("clinician")
    )
    assert posted.status_code == 200
    response = api.client.get(
        f"/patients/{PID}/regimen?drug=tebentafusp", headers=api.headers("viewer")
    )
    assert response.status_code == 422
    issues = response.json()["error"]["issues"]
    assert issues[0]["field"] == "drug, indication"
    assert "drug='tebentafusp'" in json.dumps(issues)
