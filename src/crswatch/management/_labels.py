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


#: Clinical phrases (the scales' ``missing`` in words) to the keys above.
_PHRASES = {
    "systolic blood pressure": "sbp",
    "blood pressure": "sbp",
    "oxygen flow rate of the current device": "o2_flow",
    "oxygen flow rate": "o2_flow",
    "left ventricular ejection fraction": "lvef",
    "ice score": "ice_score",
    "capd score": "capd_score",
    "level of consciousness": "consciousness",
    "age or date of birth": "age_years",
    "age": "age_years",
}


def _keys(item: str) -> tuple[list[str], str]:
    """The input keys an item of ``missing`` names, and what it says about recency.

    Accepts both forms a scale may give: codes (``capd_score``, ``organ labs (alt, ast)``) and
    clinical phrases (``CAPD score, level of consciousness: none in the last 24 h``).
    """
    head, _, tail = item.partition(":")
    keys: list[str] = []
    for part in re.split(r",\s*|\s*\(|\)", head):
        text = part.strip().lower()
        if not text:
            continue
        if text in _PHRASES:
            keys.append(_PHRASES[text])
        elif text in _LABELS or text in _REQUESTS:
            keys.append(text)
        else:
            keys.extend(w for w in _words(text) if w in _LABELS or w in _REQUESTS)
    return list(dict.fromkeys(keys)), tail.strip()


def _words(item: str) -> list[str]:
    return re.findall(r"[a-z_0-9]+", item.lower())


def input_labels(missing: tuple[str, ...]) -> list[str]:
    """The missing inputs by their clinical names, once each (``capd_score`` -> CAPD score)."""
    out: list[str] = []
    for item in missing:
        keys, tail = _keys(item)
        labels = [_LABELS.get(key, key) for key in keys] or [item.replace("_", " ")]
        for label in labels:
            if tail and not keys:
                label = item
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
        keys, _ = _keys(item)
        ice_item = re.fullmatch(r"ICE (\w+) item: not assessed", item)
        if ice_item:
            requests.append(f"complete the ICE {ice_item.group(1)} item")
            continue
        if not keys:
            others.append(item.replace("_", " "))
            continue
        for key in keys:
            if key == "capd_score":
                age = f" (age {age_years:.0f})" if age_years is not None else ""
                requests.append(f"perform the CAPD (Cornell Assessment of Pediatric Delirium){age}")
            elif key in _LAB_LABELS:
                labs.add(key)
            elif key in _REQUESTS:
                requests.append(_REQUESTS[key])
    if labs:
        requests.append("draw " + ", ".join(_LAB_LABELS[lab] for lab in _LABS if lab in labs))
    if others:
        requests.append("record " + "; ".join(others))
    return list(dict.fromkeys(requests))
