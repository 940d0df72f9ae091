"""The best overall response to the therapy: the patient field ``response`` of a simulated patient.

The course's own ``response`` (``_course``) is the CRS settling after tocilizumab or steroids, not
the leukaemia's response, and only treated patients have one: taking it for remission would make
every untreated patient a non-responder.  The disease response is drawn here instead, from its
own stream (``Streams.response``), so it changes no other draw of the patient; it is independent
of the CRS course (the generator does not model tumour burden, which drives both).

Rates (docs/decisions/0022-response-field.md):

- **CAR T**: complete remission in 55 of 67 patients with r/r ALL across the three programmes of
  seed 002 Table 1 (Penn/CHOP 27/30, MSKCC 14/16, NCI 14/21): 82 %; MRD-negative in 22 of 27
  Penn/CHOP remissions (seed 002): 81 % of remissions.  The rest do not respond (``NR``).  The
  lymphoma and myeloma products get the same ALL rates: an assumption (the generator models one
  disease; Lugano and IMWG response categories are not simulated).
- **Blinatumomab, r/r ALL** (``label_step``, ``three_step``): CR or CRh within two cycles in 43 %
  of 189 adults (seed 002; Topp et al., Lancet Oncol 2015: 33 % CR, 10 % CRh), 82 % of them
  MRD-negative (seed 002).  Of seed 004's 11 non-responders 2 had a partial remission: 18 % of
  non-responders are ``PR``, the others ``NR``.
- **Blinatumomab, MRD-positive ALL** (``flat``, the label's MRD dose): MRD response in 16 of 20
  (seed 002 refs 27-28, Topp et al., J Clin Oncol 2011): 80 % ``MRD_negative``, else ``NR``.
- **Assessment** on day 28 after the CAR T infusion (seed 003 cases 1 and 3: marrow on day 28)
  and 28 days after the first blinatumomab dose, at the end of cycle 1's infusion (seed 004:
  marrow "after each treatment cycle").  A patient who dies before it is ``not_evaluable``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ASSESSMENT_HOURS", "DrawnResponse", "draw_response"]

#: When the best response is assessed, in hours after the therapy start.
ASSESSMENT_HOURS = 28 * 24.0

_CAR_T_CR = 55 / 67
_CAR_T_MRD_NEGATIVE = 22 / 27
_BLINATUMOMAB_CR_CRH = 0.43
_BLINATUMOMAB_CRH_SHARE = 10 / 43
_BLINATUMOMAB_MRD_NEGATIVE = 0.82
_BLINATUMOMAB_PR_SHARE = 2 / 11
_MRD_POSITIVE_RESPONSE = 16 / 20


@dataclass(frozen=True, slots=True)
class DrawnResponse:
    """The best overall response and when it is known (hours after the therapy start).

    ``known_after`` is the assessment, or the death that made the response not evaluable; a
    ward cut before it does not know the response yet.  ``assessed`` is False for
    ``not_evaluable`` (no assessment, so no ``response_date``).
    """

    code: str
    known_after: float
    assessed: bool


def _code(draws: np.ndarray, kind: str, regimen: str | None) -> str:
    # Three draws always, whatever the branch, so the stream is used the same way by everyone.
    first, second, third = (float(draw) for draw in draws)
    if kind == "car_t":
        if first >= _CAR_T_CR:
            return "NR"
        return "MRD_negative" if second < _CAR_T_MRD_NEGATIVE else "CR"
    if regimen == "flat":
        return "MRD_negative" if first < _MRD_POSITIVE_RESPONSE else "NR"
    if first >= _BLINATUMOMAB_CR_CRH:
        return "PR" if second < _BLINATUMOMAB_PR_SHARE else "NR"
    if second < _BLINATUMOMAB_MRD_NEGATIVE:
        return "MRD_negative"
    return "CRh" if third < _BLINATUMOMAB_CRH_SHARE else "CR"


def draw_response(
    rng: np.random.Generator, kind: str, regimen: str | None, death: float | None
) -> DrawnResponse:
    """The patient's best response; ``death`` is the hour of death after the start, if any."""
    code = _code(rng.random(3), kind, regimen)
    if death is not None and death < ASSESSMENT_HOURS:
        return DrawnResponse("not_evaluable", known_after=death, assessed=False)
    return DrawnResponse(code, known_after=ASSESSMENT_HOURS, assessed=True)
