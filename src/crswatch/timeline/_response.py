"""The optional patient field ``response``: best overall response to the T-cell engager.

``crswatch.timeline/1`` extended compatibly (docs/decisions/0022-response-field.md): a patient may
carry ``response`` (a code of the small vocabulary in ``responses.csv`` beside this module, each
code with its meaning and source) and ``response_date`` (``YYYY-MM-DD``, when that best response
was assessed).  Readers written before the extension ignore both fields; documents without them
read as before (``response`` is then null).

``responder`` follows seed 004's strata: CR and CRh (and their CAR T counterparts CRi and
MRD-negative remission) are responders; PR, SD, PD and NR are not; ``not_evaluable`` is neither,
so that a missing assessment is never counted as non-response.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["RESPONSES", "ResponseCode", "is_responder", "response_codes"]


@dataclass(frozen=True, slots=True)
class ResponseCode:
    """One response code, what it means and where it comes from."""

    code: str
    #: True for a responder, False for a non-responder, None when not evaluable.
    responder: bool | None
    meaning: str
    source: str


_RESPONDER = {"true": True, "false": False, "": None}


@cache
def response_codes() -> dict[str, ResponseCode]:
    """The response vocabulary, in the order of ``responses.csv``."""
    text = resources.files("crswatch.timeline").joinpath("responses.csv").read_text("utf-8")
    codes: dict[str, ResponseCode] = {}
    for row in csv.DictReader(text.splitlines()):
        codes[row["code"]] = ResponseCode(
            code=row["code"],
            responder=_RESPONDER[row["responder"]],
            meaning=row["meaning"],
            source=row["source"],
        )
    return codes


#: The codes ``response`` may take (case matters: ``CRh`` is not ``CRH``; nothing is guessed).
RESPONSES: tuple[str, ...] = tuple(response_codes())


def is_responder(code: str | None) -> bool | None:
    """Responder (True), non-responder (False), or unknown (None: not given or not evaluable)."""
    if code is None:
        return None
    return response_codes()[code].responder
