"""The patient view's step-up bispecific regimen panel, as template-ready values.

Read from :func:`crswatch.regimens.regimen_status` called as ``crswatch regimen status`` calls
it (the therapy's product, its first label schedule, ASTCT 2019): doses given against the plan,
the next dose and step-up, the label's monitoring window, premedication given or missing, the
label's actions at the current grades (or the note that they are not verified) and the label's
own grade reading where it differs.  Nothing is restated here.  Decision 0044.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crswatch.regimens import regimen_status
from crswatch.regimens.bispecifics import PRODUCTS
from crswatch.timeline import Timeline

__all__ = ["BispecificDoseRow", "BispecificPanel", "bispecific_panel"]


@dataclass(frozen=True, slots=True)
class BispecificDoseRow:
    """One dose: given (time and mg) or due, against the planned dose."""

    name: str
    when: str
    given: str
    planned: str
    premedication: str
    stay_until: str


@dataclass(frozen=True, slots=True)
class BispecificPanel:
    """Where a patient on a step-up bispecific is in the course at T, per the label."""

    product: str
    label: str
    label_version: str
    schedule: str
    state: str
    doses: tuple[BispecificDoseRow, ...]
    monitoring: str
    hold: str
    grades: str
    label_reading: str
    actions: tuple[str, ...]
    deviations: tuple[str, ...]
    notes: tuple[str, ...]
    unverified: tuple[str, ...]
    error: str | None = None


def _mg(value: Any) -> str:
    return "weight needed" if value is None else f"{float(value):g} mg"


def _premedication(items: list[dict[str, Any]]) -> str:
    return "; ".join(f"{item['drug']}: {item['state']}" for item in items) or "none in the label"


def _rows(status: dict[str, Any]) -> tuple[BispecificDoseRow, ...]:
    rows = [
        BispecificDoseRow(
            name=dose["name"],
            when=dose["time"],
            given=_mg(dose["dose_mg"]),
            planned=_mg(dose["planned_dose_mg"]),
            premedication=_premedication(dose["premedication"]),
            stay_until=dose["monitoring_until"] or "",
        )
        for dose in status["doses_given"]
    ]
    nxt = status["next_dose"]
    if nxt is not None:
        rows.append(
            BispecificDoseRow(
                name=f"next: {nxt['name']}",
                when=f"due {nxt['due']}" if nxt["due"] else "not dated",
                given="",
                planned=_mg(nxt["dose_mg"]),
                premedication=", ".join(p["drug"] for p in status["premedication_due"])
                or "none in the label",
                stay_until=(
                    f"{nxt['monitoring']['hours']:g} h after the dose" if nxt["monitoring"] else ""
                ),
            )
        )
    return tuple(rows)


def _action_text(action: dict[str, Any]) -> str:
    name = "CRS" if action["syndrome"] == "crs" else "ICANS"
    head = f"{name} grade {action['grade']} ({action['because']}): "
    if not action["verified"]:
        return head + str(action["note"])
    text = " ".join(action["actions"])
    if not action["complete"]:
        text += " (the verified label text is truncated)"
    return head + text


def bispecific_panel(timeline: Timeline, at: datetime) -> BispecificPanel | None:
    """The panel of a ``bispecific`` patient on one of the step-up products, else ``None``."""
    therapy = timeline.patient.therapy
    if therapy.kind != "bispecific":
        return None
    named = (therapy.product or "").strip().lower()
    known = {p.id for p in PRODUCTS.values()} | {p.brand.lower() for p in PRODUCTS.values()}
    has_doses = any(timeline.of(product) for product in PRODUCTS)
    if named not in known and not has_doses:
        return None
    try:
        status = regimen_status(timeline, at).to_dict()
    except (ValueError, LookupError) as exc:
        return BispecificPanel(
            product=therapy.product or "", label="", label_version="", schedule="",
            state="unknown", doses=(), monitoring="", hold="", grades="", label_reading="",
            actions=(), deviations=(), notes=(), unverified=(), error=str(exc),
        )  # fmt: skip
    monitoring = status["monitoring"]
    grades = status["grades"]
    reading = grades.get("label_reading") or {}
    nxt = status["next_dose"] or {}
    return BispecificPanel(
        product=status["product"],
        label=status["label"]["citation"],
        label_version=status["label"]["version"],
        schedule=status["schedule"]["name"],
        state=status["state"].replace("_", " "),
        doses=_rows(status),
        monitoring=(
            f"in monitoring window until {monitoring['until']} ({monitoring['setting']}, "
            f"after {monitoring['after']})"
            if monitoring["now"]
            else "not in a label monitoring window"
        ),
        hold=str(nxt.get("hold", "")),
        grades=(
            f"CRS {grades['crs']['notation']}, ICANS {grades['icans']['notation']} (ASTCT 2019)"
            if "crs" in grades
            else "not graded"
        ),
        label_reading=(
            f"Label reading: CRS grade {reading['grade']} ({reading['evidence']})"
            if reading.get("differs")
            else ""
        ),
        actions=tuple(_action_text(action) for action in status["label_actions"]),
        deviations=tuple(
            f"{d['kind'].replace('_', ' ')}: {d['detail']}" for d in status["deviations"]
        ),
        notes=(*status["notes"], *status["warnings"]),
        unverified=tuple(f"{item['topic']}: {item['note']}" for item in status["unverified"]),
    )
