"""Options shared by the grading commands: the state parameters a user may choose."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from crswatch.state import StateParameters

__all__ = ["FeverWaiverChoice", "FeverWaiverOption", "state_parameters"]


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
    return StateParameters(fever_waiver=fever_waiver.value)
