"""The timeline vocabulary: every item, its kind, canonical unit(s) and plausibility bounds.

The vocabulary is data (``vocabulary.csv`` beside this module), one row per item of
``shared/spec/timeline.md`` §4, each bound with a one-line rationale.  Molar masses for the
analyte-specific conversions live in ``molar_masses.csv`` with their sources.

Kinds:

- ``quantity``: a number with a UCUM unit, converted to the first canonical unit it matches.
  Several canonical units (``pg/mL|U/mL`` for il2r) are *kept apart*: they are not converted into
  each other.
- ``code``: one of the listed values.
- ``boolean``: true or false.
- ``score``: a bounded integer score (unit optional), or ``not_assessed``.
- ``any``: kept as given (the CAR T cell dose).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, cast

from crswatch.errors import UnknownCodeError

__all__ = ["BodySize", "ItemSpec", "MolarMass", "item_spec", "molar_mass", "vocabulary"]

ItemKind = Literal["quantity", "code", "boolean", "score", "any"]
BodySize = Literal["weight", "bsa"]
_KINDS = ("quantity", "code", "boolean", "score", "any")
_BODY_SIZES = ("weight", "bsa")

#: The value a score item takes when the assessment was not done (never counted as 0).
NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """One vocabulary item."""

    name: str
    group: str
    kind: ItemKind
    #: Canonical units, most usual first; they are kept apart, never converted into each other.
    units: tuple[str, ...]
    #: Inclusive plausibility bounds, in the canonical unit.
    low: float | None
    high: float | None
    #: Allowed codes for ``code`` items.
    values: tuple[str, ...]
    #: Body-size quantities a unit may be normalised by (``weight``, ``bsa``).
    scale_by: tuple[BodySize, ...]
    rationale: str

    @property
    def unit(self) -> str | None:
        """The primary canonical unit (``None`` for unitless kinds)."""
        return self.units[0] if self.units else None


@dataclass(frozen=True, slots=True)
class MolarMass:
    """A named molar mass for substance-concentration conversions, with its source."""

    item: str
    grams_per_mole: float
    conventional_factor: str
    source: str


def _float_or_none(text: str) -> float | None:
    return float(text) if text.strip() else None


def _split(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split("|") if part)


@cache
def vocabulary() -> dict[str, ItemSpec]:
    """Every known item by name, loaded once from ``vocabulary.csv``."""
    text = resources.files("crswatch.timeline").joinpath("vocabulary.csv").read_text("utf-8")
    specs: dict[str, ItemSpec] = {}
    for row in csv.DictReader(text.splitlines()):
        kind = row["kind"]
        scale_by = _split(row["scale_by"])
        if kind not in _KINDS or any(size not in _BODY_SIZES for size in scale_by):
            raise ValueError(f"vocabulary.csv: item={row['item']!r} has a bad kind or scale_by")
        specs[row["item"]] = ItemSpec(
            name=row["item"],
            group=row["group"],
            kind=cast(ItemKind, kind),
            units=_split(row["units"]),
            low=_float_or_none(row["low"]),
            high=_float_or_none(row["high"]),
            values=_split(row["values"]),
            scale_by=cast(tuple[BodySize, ...], scale_by),
            rationale=row["rationale"],
        )
    return specs


def item_spec(name: str) -> ItemSpec:
    """The spec of item ``name``; raises :class:`UnknownCodeError` for an unknown name."""
    try:
        return vocabulary()[name]
    except KeyError:
        raise UnknownCodeError(name, "the timeline vocabulary") from None


@cache
def _molar_masses() -> dict[str, MolarMass]:
    text = resources.files("crswatch.timeline").joinpath("molar_masses.csv").read_text("utf-8")
    return {
        row["item"]: MolarMass(
            item=row["item"],
            grams_per_mole=float(row["molar_mass_g_mol"]),
            conventional_factor=row["conventional_factor"],
            source=row["source"],
        )
        for row in csv.DictReader(text.splitlines())
    }


def molar_mass(item: str) -> MolarMass | None:
    """The molar mass used to convert ``item`` between substance and mass concentration."""
    return _molar_masses().get(item)
