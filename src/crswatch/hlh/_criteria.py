"""Criteria as data for the HLH/MAS screens: thresholds, counted criteria and points tables.

Every threshold is a :class:`Part`: a Kleene-logical Polars test built with
:func:`crswatch.scales.compare` (operator as published), the input columns shown as evidence, the
threshold as printed in the source and, when the source's unit is not the canonical one, how the
*threshold* was converted.  Thresholds are converted with the reader's own conversion
(:func:`crswatch.timeline.conversion_for`: the same named molar mass or factor that converted the
results), so a result sent exactly at a published boundary in the published unit lands exactly
on the converted threshold (triglycerides 1.5 mmol/L -> 132.855 mg/dL on both sides).

Three shapes of criterion:

- :class:`Criterion`: ``need`` of its parts must hold (1 = "and/or", all = "and").  Met when at
  least ``need`` parts are true, not met when too few can still be true, else undecided (null).
- :class:`BandVariable`: a value scored by the first band that holds (HScore temperature,
  ferritin, ...).  An unknown value scores anywhere between the lowest and highest band.
- :class:`CountVariable`: points by how many parts hold (HScore cytopenias, organomegaly,
  yes/no items).  Unknown parts give a range of counts, hence a range of points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from crswatch.scales._compare import Operator, compare
from crswatch.timeline import conversion_for

__all__ = [
    "BandVariable",
    "CountVariable",
    "Criterion",
    "Part",
    "Tag",
    "band",
    "criterion_met",
    "finding",
    "threshold",
]

#: Verification tag of a row: ``V``/``V-2`` as in shared/spec/clinical-criteria.md, ``R`` for
#: recalled and unverified items, ``rule`` for a crswatch rule where the source is silent.
Tag = Literal["V", "V-2", "R", "rule"]


@dataclass(frozen=True, slots=True)
class Part:
    """One testable clause: ``test`` is true, false or null (cannot tell)."""

    id: str
    test: pl.Expr
    #: Input columns shown as the observations behind the clause.
    inputs: tuple[str, ...]
    #: The threshold as the source prints it (``< 90 g/L``).
    text: str
    #: How the threshold was brought to the canonical unit, when it was.
    conversion: str | None = None
    #: Further columns shown as context but not needed to decide (the age, a pg/mL result).
    shown: tuple[str, ...] = ()


def threshold(
    part_id: str,
    column: str,
    item: str,
    op: Operator,
    value: float,
    unit: str,
    *,
    text: str | None = None,
) -> Part:
    """``column op value unit``, the threshold converted to ``item``'s canonical unit."""
    conversion = conversion_for(item, unit)
    canonical = conversion.apply(value, weight_kg=None, bsa_m2=None)
    how = None
    if not conversion.identity:
        via = conversion.note or f"x {conversion.factor:g}"
        how = f"{value:g} {unit} = {canonical:g} {conversion.unit} ({via})"
    return Part(
        id=part_id,
        test=compare(column, op, canonical),
        inputs=(column,),
        text=text or f"{op} {value:g} {unit}",
        conversion=how,
    )


def finding(part_id: str, column: str, text: str) -> Part:
    """A yes/no finding recorded as true (null when it was not recorded)."""
    return Part(id=part_id, test=compare(column, "==", 1.0), inputs=(column,), text=text)


@dataclass(frozen=True, slots=True)
class Criterion:
    """A criterion met when ``need`` of its parts hold."""

    id: str
    label: str
    parts: tuple[Part, ...]
    need: int
    #: The source's wording.
    wording: str
    source_ref: str
    tag: Tag
    note: str | None = None


def criterion_met(parts: tuple[Part, ...], need: int) -> pl.Expr:
    """True when ``need`` parts hold; False when fewer than ``need`` can; null otherwise."""
    true = pl.sum_horizontal([p.test.fill_null(False).cast(pl.Int32) for p in parts])
    unknown = pl.sum_horizontal([p.test.is_null().cast(pl.Int32) for p in parts])
    return (
        pl.when(true >= need)
        .then(pl.lit(True))
        .when(true + unknown < need)
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )


@dataclass(frozen=True, slots=True)
class Band:
    """One row of a points table: ``points`` when ``test`` holds."""

    points: int
    test: pl.Expr
    text: str


def band(points: int, text: str, *tests: pl.Expr) -> Band:
    """A band that holds when every test holds (``38.4 <= T <= 39.4``)."""
    combined = tests[0]
    for test in tests[1:]:
        combined = combined & test
    return Band(points=points, test=combined, text=text)


@dataclass(frozen=True, slots=True)
class BandVariable:
    """A scored variable read from one value: the band that holds gives the points."""

    id: str
    label: str
    column: str
    bands: tuple[Band, ...]
    conversion: str | None
    wording: str
    source_ref: str
    tag: Tag
    note: str | None = None

    def points(self) -> pl.Expr:
        """The points of the band that holds; null when the value is unknown or in a gap."""
        expr: pl.Expr = pl.lit(None, pl.Int32)
        for row in reversed(self.bands):  # built inside out: the first band that holds wins
            expr = pl.when(row.test).then(pl.lit(row.points, pl.Int32)).otherwise(expr)
        return expr.cast(pl.Int32)

    def bounds(self) -> tuple[pl.Expr, pl.Expr]:
        """Lowest and highest points possible at T."""
        exact = self.points()
        low = min(row.points for row in self.bands)
        high = max(row.points for row in self.bands)
        return exact.fill_null(low), exact.fill_null(high)


@dataclass(frozen=True, slots=True)
class CountVariable:
    """A scored variable read from how many parts hold: ``points_by_count[n]``."""

    id: str
    label: str
    parts: tuple[Part, ...]
    points_by_count: tuple[int, ...]
    wording: str
    source_ref: str
    tag: Tag
    note: str | None = None

    def __post_init__(self) -> None:
        if len(self.points_by_count) != len(self.parts) + 1:
            raise ValueError(f"{self.id}: points_by_count needs one entry per possible count")
        pairs = zip(self.points_by_count, self.points_by_count[1:], strict=False)
        if any(later < earlier for earlier, later in pairs):
            raise ValueError(f"{self.id}: points must not fall as the count rises")

    def _points_of(self, count: pl.Expr) -> pl.Expr:
        expr: pl.Expr = pl.lit(None, pl.Int32)
        for n, points in reversed(list(enumerate(self.points_by_count))):
            expr = pl.when(count == n).then(pl.lit(points, pl.Int32)).otherwise(expr)
        return expr.cast(pl.Int32)

    def counts(self) -> tuple[pl.Expr, pl.Expr]:
        true = pl.sum_horizontal([p.test.fill_null(False).cast(pl.Int32) for p in self.parts])
        unknown = pl.sum_horizontal([p.test.is_null().cast(pl.Int32) for p in self.parts])
        return true, true + unknown

    def bounds(self) -> tuple[pl.Expr, pl.Expr]:
        """Lowest and highest points possible at T."""
        low, high = self.counts()
        return self._points_of(low), self._points_of(high)
