"""What a grade is missing, in clinical words and with how recent it must be.

``missing`` on a result names each undocumented input and the window it is looked for in
("ALT, AST, bilirubin, creatinine: none in the last 48 h"), so the bedside team knows what to
measure and the management engine can ask for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from crswatch.state import StateParameters

__all__ = ["describe_missing"]

#: Timeline item → (clinical label, the StateParameters window it is looked for in).
_ITEMS: dict[str, tuple[str, str | None]] = {
    "temperature": ("temperature", "fever_window"),
    "sbp": ("systolic blood pressure", "hypotension_window"),
    "o2_flow": ("oxygen flow rate of the current device", None),
    "fio2": ("FiO2", None),
    "alt": ("ALT", "lab_window"),
    "ast": ("AST", "lab_window"),
    "bilirubin": ("bilirubin", "lab_window"),
    "creatinine": ("creatinine", "lab_window"),
    "fibrinogen": ("fibrinogen", "lab_window"),
    "lvef": ("left ventricular ejection fraction", "lab_window"),
    "ice_score": ("ICE score", "neuro_window"),
    "capd_score": ("CAPD score", "neuro_window"),
    "consciousness": ("level of consciousness", "neuro_window"),
    "age": ("age or date of birth", None),
}
_UNDER_SEDATION = {
    "ice_score (not under sedation)": "ICE score: assess off sedation",
    "capd_score (not under sedation)": "CAPD score: assess off sedation",
}
_DEFAULTS = StateParameters().to_dict()


def _hours(window: str, parameters: Mapping[str, Any]) -> float | None:
    value = parameters.get(f"{window}_hours", _DEFAULTS.get(f"{window}_hours"))
    return float(value) if isinstance(value, int | float) else None


def describe_missing(items: Iterable[str], parameters: Mapping[str, Any]) -> tuple[str, ...]:
    """Missing timeline items as clinical phrases, grouped by the window they are looked for in.

    Items this module does not know (an ICE item not assessed, say) pass through in words.
    """
    groups: dict[str | None, list[str]] = {}
    others: list[str] = []
    for item in dict.fromkeys(items):
        if item in _ITEMS:
            label, window = _ITEMS[item]
            groups.setdefault(window, []).append(label)
        elif item in _UNDER_SEDATION:
            others.append(_UNDER_SEDATION[item])
        elif item.startswith("ice_"):
            # An ICE item not assessed (orientation, naming, commands, writing, attention).
            others.append(f"ICE {item.removeprefix('ice_')} item: not assessed")
        else:
            others.append(item.replace("_", " "))
    phrases: list[str] = []
    for window, labels in groups.items():
        hours = _hours(window, parameters) if window is not None else None
        if hours is None:
            phrases.append(f"{', '.join(labels)}: not charted")
        else:
            phrases.append(f"{', '.join(labels)}: none in the last {hours:g} h")
    return (*phrases, *others)
