"""The CDS Hooks 2.0 rules for discovery documents and service responses, as assertions.

Each check names the section of the specification (cds-hooks.org, "CDS Hooks" 2.0,
specification/current) that states the rule.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest

HOOKS = ("patient-view", "order-select", "order-sign")
INDICATORS = ("info", "warning", "critical")
SELECTION_BEHAVIORS = ("at-most-one", "any")
ACTION_TYPES = ("create", "update", "delete")
LINK_TYPES = ("absolute", "smart")
# "Prefetch tokens": only context fields and the user identifiers, delimited by {{ }}.
_TOKEN = re.compile(r"\{\{([^}]*)\}\}")
_ALLOWED_TOKENS = {
    "context.patientId",
    "context.userId",
    "context.encounterId",
    "userPractitionerId",
    "userPractitionerRoleId",
    "userPatientId",
    "userRelatedPersonId",
}


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def check_discovery(document: Any) -> None:
    """Discovery, "Response": an object with ``services``; each service's fields."""
    assert isinstance(document, dict) and isinstance(document["services"], list)
    ids = [service["id"] for service in document["services"]]
    assert len(ids) == len(set(ids)), "service ids are unique"
    for service in document["services"]:
        for name in ("hook", "description", "id"):  # REQUIRED
            assert isinstance(service.get(name), str) and service[name], name
        assert service["hook"] in HOOKS
        assert isinstance(service.get("title"), str)  # RECOMMENDED
        assert re.fullmatch(r"[A-Za-z0-9\-._~]+", service["id"]), "id is one URL path segment"
        prefetch = service.get("prefetch", {})
        assert isinstance(prefetch, dict)
        for key, template in prefetch.items():
            assert isinstance(key, str) and isinstance(template, str)
            for token in _TOKEN.findall(template):
                assert token in _ALLOWED_TOKENS, f"prefetch token {token!r}"
            # "Prefetch query restrictions": instance read or type-level search.
            assert re.fullmatch(r"[A-Z][A-Za-z]+(/\{\{[^}]+\}\}|\?\S+)", template), template


def check_action(action: Any) -> None:
    """Suggestion "Action": type, description; resource for create/update; resourceId."""
    assert action["type"] in ACTION_TYPES
    assert isinstance(action["description"], str) and action["description"]
    if action["type"] in ("create", "update"):
        resource = action["resource"]
        assert isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)
        if resource["resourceType"] == "MedicationRequest":
            MedicationRequest.model_validate(resource)
    else:
        assert re.fullmatch(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}", action["resourceId"])


def check_card(card: Any) -> None:
    """ "Card Attributes", "Source", "Suggestion", "Link"."""
    assert isinstance(card, dict)
    assert _is_uuid(card["uuid"]), "uuid"
    summary = card["summary"]
    assert isinstance(summary, str) and summary.strip()
    assert len(summary) < 140, f"summary has {len(summary)} characters: {summary!r}"
    assert card["indicator"] in INDICATORS
    assert isinstance(card.get("detail", ""), str)
    source = card["source"]
    assert isinstance(source["label"], str) and source["label"]
    if "url" in source:
        assert source["url"].startswith(("https://", "http://"))
    if "topic" in source:
        assert {"system", "code"} <= set(source["topic"])
    if "suggestions" in card:
        assert card["selectionBehavior"] in SELECTION_BEHAVIORS
        assert card["suggestions"], "an empty suggestions array says nothing"
        for suggestion in card["suggestions"]:
            assert isinstance(suggestion["label"], str) and suggestion["label"]
            if "uuid" in suggestion:
                assert _is_uuid(suggestion["uuid"])
            if "isRecommended" in suggestion:
                assert isinstance(suggestion["isRecommended"], bool)
            for action in suggestion.get("actions", []):
                check_action(action)
    else:
        assert "selectionBehavior" not in card or card["selectionBehavior"] in SELECTION_BEHAVIORS
    for link in card.get("links", []):
        assert isinstance(link["label"], str) and link["label"]
        assert link["type"] in LINK_TYPES
        if link["type"] == "absolute":
            assert link["url"].startswith(("https://", "http://"))
            assert "appContext" not in link, "appContext is only for smart links"
    # No text a clinician reads says "None" (Python's null leaking into the text).
    assert "None" not in summary and "None" not in card.get("detail", "")


def check_response(document: Any) -> list[dict[str, Any]]:
    """ "HTTP Response": an object with a ``cards`` array (empty when nothing to say)."""
    assert isinstance(document, dict) and isinstance(document["cards"], list)
    for card in document["cards"]:
        check_card(card)
    uuids = [card["uuid"] for card in document["cards"]]
    assert len(uuids) == len(set(uuids))
    for action in document.get("systemActions", []):
        check_action(action)
    return list(document["cards"])
