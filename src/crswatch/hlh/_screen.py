"""Shared evaluation: criteria rows to Polars columns, and a row of columns to outcomes.

A screen module declares its rows (:mod:`crswatch.hlh._criteria`) and a ``decide`` step; this
module turns the rows into columns over the inputs frame (``{screen}.{row}`` and, per part,
``{screen}.{row}.{part}``) and reads the evidence back for the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from crswatch.hlh._criteria import BandVariable, CountVariable, Criterion, Part, criterion_met
from crswatch.hlh._inputs import INPUTS, SUPPLEMENTARY
from crswatch.hlh._result import CriterionOutcome, Observation, ScreenStatus

__all__ = ["Row", "all_of", "all_of_status", "columns_for", "observations", "outcome", "status_of"]

Row = dict[str, Any]
Rowlike = Criterion | BandVariable | CountVariable


@dataclass(frozen=True, slots=True)
class _Observed:
    item: str
    unit: str | None
    time: str | None
    ref: str | None
    censored: str | None
    detail: tuple[str, ...] = ()


def _registry() -> dict[str, _Observed]:
    out: dict[str, _Observed] = {}
    for spec in INPUTS:
        detail: tuple[str, ...] = ()
        if spec.limit is not None:
            detail = (f"{spec.name}_{spec.limit}", f"{spec.name}_{spec.limit}_source")
        out[spec.name] = _Observed(
            spec.item,
            spec.unit,
            f"{spec.name}_time",
            f"{spec.name}_ref",
            f"{spec.name}_censored",
            detail,
        )
    for term, lab, unit in (
        ("alt", "alt", "U/L"),
        ("ast", "ast", "U/L"),
        ("bilirubin", "bilirubin", "mg/dL"),
        ("creatinine", "creatinine", "mg/dL"),
    ):
        column = f"{lab}_{'u_l' if unit == 'U/L' else 'mg_dl'}"
        out[f"{term}_grade"] = _Observed(
            lab, "CTCAE grade", f"{lab}_time", f"{lab}_ref", None, (column,)
        )
    out["aki_grade"] = _Observed(
        "creatinine", "CTCAE grade", "creatinine_time", "creatinine_ref", None
    )
    for name in SUPPLEMENTARY:
        out[name] = _Observed(name, None, None, None, None)
    out["anti_cytokine_first_time"] = _Observed(
        "anti_cytokine", None, "anti_cytokine_first_time", "anti_cytokine_first_ref", None
    )
    out["age_days"] = _Observed("age", "d", None, None, None)
    return out


_OBSERVED = _registry()


def observations(row: Row, names: Sequence[str]) -> tuple[Observation, ...]:
    """The observations behind ``names`` (each input column at most once)."""
    seen: list[Observation] = []
    for name in dict.fromkeys(names):
        spec = _OBSERVED.get(name)
        if spec is None:
            seen.append(Observation(name=name, item=name, value=row.get(name)))
            continue
        time = row.get(spec.time) if spec.time else None
        seen.append(
            Observation(
                name=name,
                item=spec.item,
                value=row.get(name),
                unit=spec.unit,
                time=time if isinstance(time, datetime) else None,
                ref=row.get(spec.ref) if spec.ref else None,
                censored=row.get(spec.censored) if spec.censored else None,
                detail={key: row.get(key) for key in spec.detail if row.get(key) is not None},
            )
        )
    return tuple(seen)


def _parts_columns(prefix: str, parts: Sequence[Part]) -> list[pl.Expr]:
    return [part.test.alias(f"{prefix}.{part.id}") for part in parts]


def columns_for(screen: str, rows: Sequence[Rowlike]) -> list[pl.Expr]:
    """Every column a screen's rows produce over the inputs frame."""
    out: list[pl.Expr] = []
    for row in rows:
        prefix = f"{screen}.{row.id}"
        if isinstance(row, Criterion):
            out.append(criterion_met(row.parts, row.need).alias(prefix))
            out += _parts_columns(prefix, row.parts)
        elif isinstance(row, BandVariable):
            low, high = row.bounds()
            out += [low.alias(f"{prefix}.low"), high.alias(f"{prefix}.high")]
        else:
            low, high = row.bounds()
            count_low, count_high = row.counts()
            out += [
                low.alias(f"{prefix}.low"),
                high.alias(f"{prefix}.high"),
                count_low.alias(f"{prefix}.count_low"),
                count_high.alias(f"{prefix}.count_high"),
            ]
            out += _parts_columns(prefix, row.parts)
    return out


def _rule(parts: Sequence[Part], need: int) -> str:
    clauses = "; ".join(f"{part.id} {part.text}" for part in parts)
    if len(parts) == 1:
        return clauses
    if need == len(parts):
        return f"all of: {clauses}"
    if need == 1:
        return f"any of: {clauses}"
    return f">= {need} of {len(parts)}: {clauses}"


def _conversions(parts: Sequence[Part]) -> str | None:
    found = [f"{part.id}: {part.conversion}" for part in parts if part.conversion]
    return "; ".join(found) or None


def _part_note(row: Row, prefix: str, parts: Sequence[Part]) -> str:
    states = {True: "met", False: "not met", None: "not assessable"}
    return ", ".join(f"{part.id} {states[row.get(f'{prefix}.{part.id}')]}" for part in parts)


def outcome(row: Row, screen: str, item: Rowlike) -> CriterionOutcome:
    """The outcome of one row of a screen, with the observations behind it."""
    prefix = f"{screen}.{item.id}"
    if isinstance(item, Criterion):
        inputs = [name for part in item.parts for name in (*part.inputs, *part.shown)]
        note = item.note
        if len(item.parts) > 1:
            detail = _part_note(row, prefix, item.parts)
            note = f"{detail}. {note}" if note else detail
        return CriterionOutcome(
            id=item.id,
            label=item.label,
            met=row.get(prefix),
            rule=_rule(item.parts, item.need),
            source_ref=item.source_ref,
            tag=item.tag,
            observations=observations(row, inputs),
            conversion=_conversions(item.parts),
            note=note,
        )
    low, high = int(row[f"{prefix}.low"]), int(row[f"{prefix}.high"])
    exact = low if low == high else None
    if isinstance(item, BandVariable):
        rule = "; ".join(f"{band.text} -> {band.points}" for band in item.bands)
        obs = observations(row, [item.column])
        conversion = item.conversion
        note = item.note
    else:
        rule = (
            f"count of ({'; '.join(f'{p.id} {p.text}' for p in item.parts)}) -> points "
            + ", ".join(f"{n}: {p}" for n, p in enumerate(item.points_by_count))
        )
        obs = observations(
            row, [name for part in item.parts for name in (*part.inputs, *part.shown)]
        )
        conversion = _conversions(item.parts)
        detail = _part_note(row, prefix, item.parts)
        note = f"{detail}. {item.note}" if item.note else detail
    return CriterionOutcome(
        id=item.id,
        label=item.label,
        met=(exact > 0) if exact is not None else None,
        rule=rule,
        source_ref=item.source_ref,
        tag=item.tag,
        observations=obs,
        points=exact,
        points_bounds=(low, high),
        conversion=conversion,
        note=note,
    )


def all_of(
    row: Row, screen: str, rows: Sequence[Criterion]
) -> tuple[tuple[CriterionOutcome, ...], ScreenStatus, list[str]]:
    """Screens that need every criterion: the outcomes, the status and the missing parts.

    Met when every criterion is met, not met when one is not, else not assessable; a criterion
    that cannot be decided lists the parts whose inputs are missing.
    """
    outcomes = tuple(outcome(row, screen, item) for item in rows)
    decided = [o.met for o in outcomes]
    status: ScreenStatus = (
        "met" if all(decided) else "not_met" if False in decided else "not_assessable"
    )
    missing = []
    for item, result in zip(rows, outcomes, strict=True):
        if result.met is None:
            lacking = [
                part.id for part in item.parts if row.get(f"{screen}.{item.id}.{part.id}") is None
            ]
            missing.append(f"{item.id} ({', '.join(lacking)})")
    return outcomes, status, missing


def status_of(met: pl.Expr, not_met: pl.Expr) -> pl.Expr:
    """A screen's status as a column: "met" where ``met``, else "not_met" where ``not_met``,
    else "not_assessable" (a null condition counts as not holding, as in ``decide``)."""
    return (
        pl.when(met)
        .then(pl.lit("met"))
        .when(not_met)
        .then(pl.lit("not_met"))
        .otherwise(pl.lit("not_assessable"))
    )


def all_of_status(screen: str, rows: Sequence[Criterion]) -> pl.Expr:
    """``all_of``'s status as a column over the criteria columns (``columns_for``).

    Kleene logic as ``all_of`` reads the outcomes: met when every criterion is met, not met
    when one is not, otherwise not assessable.
    """
    met = [pl.col(f"{screen}.{item.id}") for item in rows]
    every = pl.all_horizontal(met)
    return status_of(every.fill_null(False), every.not_().fill_null(False))
