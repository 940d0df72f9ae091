"""Clinical words for the inputs a grade lacks: what to measure, and what is not documented."""

from __future__ import annotations

import re

__all__ = ["input_labels", "measurement_requests"]

#: Laboratory tests in the order a request names them.
_LABS = ("creatinine", "ast", "alt", "bilirubin", "fibrinogen", "ferritin", "crp")
_LAB_LABELS = {
    "creatinine": "creatinine",
    "ast": "AST",
    "alt": "ALT",
    "bilirubin": "bilirubin",
    "fibrinogen": "fibrinogen",
    "ferritin": "ferritin",
    "crp": "CRP",
}
_REQUESTS = {
    "temperature": "measure the temperature",
    "sbp": "measure the blood pressure",
    "o2_flow": "record the oxygen flow rate",
    "fio2": "record the inspired oxygen fraction (FiO₂)",
    "lvef": "assess the left-ventricular ejection fraction (echocardiography)",
    "ice_score": "perform the ICE assessment",
    "consciousness": "assess the level of consciousness",
    "age_years": "record the age or date of birth",
    "birth_date": "record the age or date of birth",
}
_LABELS = {
    "temperature": "temperature",
    "sbp": "blood pressure",
    "o2_flow": "oxygen flow rate",
    "fio2": "FiO₂",
    "lvef": "ejection fraction",
    "ice_score": "ICE score",
    "capd_score": "CAPD score",
    "consciousness": "level of consciousness",
    "age_years": "age",
    "birth_date": "date of birth",
    **_LAB_LABELS,
}


def _words(item: str) -> list[str]:
    return re.findall(r"[a-z_0-9]+", item.lower())


def input_labels(missing: tuple[str, ...]) -> list[str]:
    """The missing inputs by their clinical names, once each (``capd_score`` -> CAPD score)."""
    out: list[str] = []
    for item in missing:
        known = [_LABELS[word] for word in _words(item) if word in _LABELS]
        for label in known or [item.replace("_", " ")]:
            if label not in out:
                out.append(label)
    return out


def measurement_requests(missing: tuple[str, ...], age_years: float | None) -> list[str]:
    """What to measure, in clinical words, for the inputs a grade lacks (in order, once each).

    Laboratory tests are gathered into one "draw ..." request, in a fixed order.
    """
    requests: list[str] = []
    labs: set[str] = set()
    others: list[str] = []
    for item in missing:
        words = _words(item)
        if "capd_score" in words:
            age = f" (age {age_years:.0f})" if age_years is not None else ""
            requests.append(f"perform the CAPD (Cornell Assessment of Pediatric Delirium){age}")
            continue
        found = False
        for word in words:
            if word in _LAB_LABELS:
                labs.add(word)
                found = True
            elif word in _REQUESTS:
                requests.append(_REQUESTS[word])
                found = True
                if word == "fio2":
                    break
        if not found:
            others.append(item.replace("_", " "))
    if labs:
        requests.append("draw " + ", ".join(_LAB_LABELS[lab] for lab in _LABS if lab in labs))
    if others:
        requests.append("record " + ", ".join(others))
    return list(dict.fromkeys(requests))
