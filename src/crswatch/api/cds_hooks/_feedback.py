"""CDS Hooks feedback: validate each item (2.0, "Feedback") and store it with its sender."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crswatch.api.cds_hooks._auth import ClientIdentity
from crswatch.errors import InputError
from crswatch.store import CdsFeedback, Store
from crswatch.timeline import parse_time

__all__ = ["FeedbackItem", "parse_feedback", "store_feedback"]

_OUTCOMES = ("accepted", "overridden")


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    card: str
    outcome: str
    outcome_timestamp: datetime
    accepted_suggestions: list[dict[str, Any]] | None
    override_reason: dict[str, Any] | None


def _item(raw: Any, n: int) -> FeedbackItem:
    where = f"feedback[{n}]"
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: each feedback item is an object")
    card = raw.get("card")
    if not isinstance(card, str) or not card or len(card) > 64:
        raise InputError(f"{where}.card={card!r}: the card's uuid is required")
    outcome = raw.get("outcome")
    if outcome not in _OUTCOMES:
        raise InputError(f"{where}.outcome={outcome!r}: one of {', '.join(_OUTCOMES)}")
    stamp = parse_time(raw.get("outcomeTimestamp"), f"{where}.outcomeTimestamp")
    accepted = raw.get("acceptedSuggestions")
    if outcome == "accepted":
        if not isinstance(accepted, list) or not accepted:
            raise InputError(f"{where}.acceptedSuggestions: required for an accepted outcome")
        for k, suggestion in enumerate(accepted):
            if not isinstance(suggestion, Mapping) or not isinstance(suggestion.get("id"), str):
                raise InputError(f"{where}.acceptedSuggestions[{k}].id: a suggestion uuid")
    elif accepted is not None:
        raise InputError(f"{where}.acceptedSuggestions: only with outcome 'accepted'")
    reason = raw.get("overrideReason")
    if reason is not None and not isinstance(reason, Mapping):
        raise InputError(f"{where}.overrideReason={reason!r}: an object (reason, userComment)")
    return FeedbackItem(
        card=card,
        outcome=str(outcome),
        outcome_timestamp=stamp,
        accepted_suggestions=[dict(s) for s in accepted] if accepted else None,
        override_reason=dict(reason) if reason is not None else None,
    )


def parse_feedback(body: Any) -> list[FeedbackItem]:
    """The feedback items of a request body; raises :class:`InputError` naming the field."""
    if not isinstance(body, Mapping) or not isinstance(body.get("feedback"), list):
        raise InputError("feedback: the body must be an object with a 'feedback' array")
    if not body["feedback"]:
        raise InputError("feedback: the array is empty")
    return [_item(raw, n) for n, raw in enumerate(body["feedback"])]


def store_feedback(
    store: Store, service_id: str, client: ClientIdentity, items: list[FeedbackItem]
) -> int:
    """Store every item in one transaction (all or none); returns how many."""
    received = datetime.now(UTC)
    with store.transaction() as session:
        for item in items:
            session.add(
                CdsFeedback(
                    received=received,
                    service_id=service_id,
                    client=client.issuer,
                    tenant=client.tenant,
                    card_uuid=item.card,
                    outcome=item.outcome,
                    outcome_timestamp=item.outcome_timestamp,
                    accepted_suggestions=item.accepted_suggestions,
                    override_reason=item.override_reason,
                )
            )
    return len(items)
