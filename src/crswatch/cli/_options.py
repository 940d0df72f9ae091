"""Options shared by the commands: --json, times, and the state parameters a user may choose."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from crswatch.cli._app import fail
from crswatch.errors import InputError

if TYPE_CHECKING:
    from crswatch.state import StateParameters

__all__ = [
    "FeverWaiverChoice",
    "FeverWaiverOption",
    "JsonOption",
    "option_time",
    "state_parameters",
]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def option_time(text: str | None, name: str) -> datetime | None:
    """An ISO 8601 time option (``name`` in the error), or None; a bad one fails the command."""
    if text is None:
        return None
    from crswatch.timeline import parse_time

    try:
        return parse_time(text, name)
    except InputError as exc:
        raise fail(str(exc)) from None


class FeverWaiverChoice(StrEnum):
    """What lifts the ASTCT 2019 fever requirement once CRS has begun (discrepancy D2)."""

    antipyretic_or_anticytokine = "antipyretic_or_anticytokine"
    anticytokine_or_steroid = "anticytokine_or_steroid"


FeverWaiverOption = Annotated[
    FeverWaiverChoice,
    typer.Option(
        "--fever-waiver",
        help=(
            "What lifts the ASTCT fever requirement after CRS onset: an antipyretic or "
            "anticytokine therapy (default; the ASTCT 2019 footnote), or only anticytokine "
            "therapy or a corticosteroid (the narrower SITC 2020 reading)."
        ),
        show_default=True,
    ),
]


def state_parameters(fever_waiver: FeverWaiverChoice) -> StateParameters:
    """The state parameters the command's options ask for (the rest at their defaults)."""
    from crswatch.state import StateParameters

    return StateParameters(fever_waiver=fever_waiver.value)
