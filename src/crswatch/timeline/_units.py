"""Unit conversion: UCUM codes parsed by ucumvert into one pint registry.

Quantities are converted once, when a timeline is read, to their item's canonical unit.  A
conversion is computed with pint the first time an (item, unit) pair is seen and cached as an
affine map ``canonical = (value * factor + offset) * body_size ** power``, so reading a large
cohort costs one dictionary lookup per event rather than one pint call.

Three kinds of conversion need more than the unit itself, and each is named, never a bare factor:

- **Molar** (creatinine and bilirubin in umol/L, triglycerides in mmol/L): pint's ``chemistry``
  context with the analyte's molar mass from ``molar_masses.csv`` (each with its source).
- **Body size**: a rate or dose per kg (``ug/kg/min``) needs the patient's weight, a dose per m2
  (``ug/m2/d``) the body-surface area; only items whose vocabulary row allows it are scaled.
- **Annotations** (``{FEU}``, ``{DDU}``): UCUM treats them as unit 1, but D-dimer FEU and DDU are
  different measurements; where an item's canonical units carry annotations, the annotation must
  match, and a missing one is assumed to be the primary's with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

from crswatch.errors import UnitError
from crswatch.timeline._vocabulary import BodySize, ItemSpec, item_spec, molar_mass

__all__ = [
    "UCUM_SPELLINGS",
    "Conversion",
    "UnitErrorKind",
    "conversion_for",
    "registry",
    "ucum_suggestion",
]

UnitErrorKind = Literal["unknown_unit", "wrong_dimension"]

_ANNOTATION = re.compile(r"\{([^}]*)\}")


class _ConversionError(UnitError):
    def __init__(self, unit: str, reason: str, kind: UnitErrorKind) -> None:
        self.kind: UnitErrorKind = kind
        super().__init__(unit, reason)


@dataclass(frozen=True, slots=True)
class Conversion:
    """How to bring a value in one unit to an item's canonical unit."""

    unit: str
    factor: float
    offset: float = 0.0
    #: The body-size quantity the value is multiplied (power 1) or divided (power -1) by.
    body: BodySize | None = None
    power: int = 0
    #: What was done beyond a plain unit change (the molar mass used).
    note: str | None = None
    #: What was assumed because the input did not say (an annotation such as {FEU}).
    assumption: str | None = None

    @property
    def identity(self) -> bool:
        return self.factor == 1.0 and self.offset == 0.0 and self.body is None

    def apply(self, value: float, *, weight_kg: float | None, bsa_m2: float | None) -> float:
        converted = value * self.factor + self.offset
        if self.body is not None:
            size = weight_kg if self.body == "weight" else bsa_m2
            if size is None:  # the caller checks first; this guards the arithmetic
                raise ValueError(f"body size {self.body!r} is needed")
            converted *= size**self.power
        # 12 significant digits: far beyond any assay's precision, and free of float noise
        # (0.05 ug/kg/min x 68 kg is 3.4 ug/min, not 3.4000000000000004).
        return _significant(converted, 12)


@cache
def registry() -> Any:
    """The one pint registry (ucumvert's UCUM-aware subclass), built on first use."""
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


#: Common clinical spellings that are not UCUM, and the UCUM code a chart or device means by
#: them (UCUM: Schadow G, McDonald CJ, The Unified Code for Units of Measure, Regenstrief
#: Institute, version 2.1, 2017; §4.2 prefixes, Table 3 special units in square brackets,
#: "Cel" and "[degF]" for temperatures, "mm[Hg]", "[IU]", "10*9" for powers of ten).  A whole
#: code is looked up first, then each part between "/" and ".": "mcg/kg/min" -> "ug/kg/min".
#: They are only ever *suggested* in an error message: a unit is never rewritten silently.
UCUM_SPELLINGS: Final[dict[str, str]] = {
    # temperatures
    "°F": "[degF]",
    "ºF": "[degF]",
    "degF": "[degF]",
    "deg F": "[degF]",
    "F": "[degF]",
    "°C": "Cel",
    "ºC": "Cel",
    "degC": "Cel",
    "deg C": "Cel",
    "C": "Cel",
    # micro: "mc" and the micro sign are not UCUM prefixes ("u" is)
    "mcg": "ug",
    "µg": "ug",
    "μg": "ug",
    "mcL": "uL",
    "µL": "uL",
    "μL": "uL",
    "µl": "ul",
    "μl": "ul",
    "µmol": "umol",
    "μmol": "umol",
    "mcmol": "umol",
    # pressures
    "mmHg": "mm[Hg]",
    "mm Hg": "mm[Hg]",
    "cmH2O": "cm[H2O]",
    "cm H2O": "cm[H2O]",
    # rates and times
    "bpm": "/min",
    "beats/min": "/min",
    "breaths/min": "/min",
    "lpm": "L/min",
    "LPM": "L/min",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "sec": "s",
    # amounts and counts
    "IU": "[IU]",
    "units": "U",
    "mEq": "meq",
    "cc": "mL",
    "m²": "m2",
    "x10^9": "10*9",
    "10^9": "10*9",
    "x10E9": "10*9",
    "x10^3": "10*3",
    "10^3": "10*3",
    "K": "10*3",
    "cells": "1",
}

_UNIT_PARTS = re.compile(r"([/.])")


def ucum_suggestion(code: str) -> str | None:
    """The UCUM spelling of a common clinical unit that is not UCUM, if it parses as UCUM."""
    text = code.strip()
    candidate = UCUM_SPELLINGS.get(text)
    if candidate is None:
        parts = [UCUM_SPELLINGS.get(part, part) for part in _UNIT_PARTS.split(text)]
        # "cells/uL" is "/uL": a leading unit 1 is dropped, as UCUM writes counts.
        if len(parts) > 2 and parts[0] == "1" and parts[1] == "/":
            parts = parts[1:]
        candidate = "".join(parts)
    if candidate == text:
        return None
    try:
        _valid(candidate)
    except _ConversionError:
        return None
    return candidate


@cache
def _valid(code: str) -> Any:
    from lark.exceptions import LarkError

    ureg = registry()
    try:
        return ureg.from_ucum(code).units
    except (LarkError, ValueError, KeyError, AttributeError, TypeError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _ConversionError(
            code, f"not a valid UCUM unit ({first_line})", "unknown_unit"
        ) from None


@cache
def _parse(code: str) -> Any:
    """The pint unit for a UCUM code; raises ``_ConversionError`` for codes that are not UCUM,
    with the UCUM spelling when the code is a common clinical one (``mcg`` -> ``ug``)."""
    try:
        return _valid(code)
    except _ConversionError as exc:
        suggestion = ucum_suggestion(code)
        if suggestion is None:
            raise
        raise _ConversionError(
            code, f"{exc.reason}; did you mean {suggestion!r} (UCUM)?", "unknown_unit"
        ) from None


def _annotations(code: str) -> tuple[str, ...]:
    return tuple(a.lower() for a in _ANNOTATION.findall(code))


def _affine(src: Any, dst: Any, context: tuple[str, dict[str, Any]] | None) -> tuple[float, float]:
    """factor and offset with dst = src * factor + offset (offset units such as degF need both)."""
    ureg = registry()

    def to(value: float) -> float:
        quantity = ureg.Quantity(value, src)
        if context is None:
            return float(quantity.to(dst).magnitude)
        name, params = context
        return float(quantity.to(dst, name, **params).magnitude)

    # Rounded to 15 significant digits so that exact factors (10, 1000) stay exact and a
    # same-unit conversion is recognised as the identity despite pint's float noise.
    at_zero = _significant(to(0.0), 15)
    at_one = to(1.0)
    return _significant(at_one - at_zero, 15), at_zero


def _significant(number: float, digits: int) -> float:
    return float(f"{number:.{digits}g}")


def _try(
    src: Any, dst: Any, context: tuple[str, dict[str, Any]] | None = None
) -> tuple[float, float] | None:
    from pint.errors import DimensionalityError

    try:
        return _affine(src, dst, context)
    except DimensionalityError:
        return None


def _candidates(spec: ItemSpec, code: str) -> tuple[list[str], str | None]:
    """Canonical units the input may convert to, and a note when an annotation was assumed."""
    if not any(_annotations(unit) for unit in spec.units):
        return list(spec.units), None
    given = _annotations(code)
    if not given:
        primary = spec.units[0]
        return [primary], f"no annotation given; assumed {primary!r}"
    return [unit for unit in spec.units if _annotations(unit) == given], None


@cache
def conversion_for(item: str, code: str) -> Conversion:
    """The conversion of ``code`` to ``item``'s canonical unit.

    Raises :class:`crswatch.errors.UnitError` (with ``kind`` ``unknown_unit`` or
    ``wrong_dimension``) when the unit is not UCUM or cannot be brought to the item's unit.

    A code that *is* one of the item's canonical units is its own unit: the identity, without
    the unit registry (which takes a second to load), so reading data in canonical units never
    loads it.  ``tests/timeline/test_units.py`` checks, for every canonical unit of the
    vocabulary, that this is exactly the conversion the registry computes.
    """
    spec = item_spec(item)
    if code in spec.units:
        return Conversion(code, 1.0)
    return _registry_conversion(spec, item, code)


def _registry_conversion(spec: ItemSpec, item: str, code: str) -> Conversion:
    """The conversion computed with the unit registry (any UCUM code)."""
    src = _parse(code)
    candidates, assumed = _candidates(spec, code)
    ureg = registry()
    body_units: dict[BodySize, Any] = {"weight": _parse("kg"), "bsa": _parse("m2")}
    molar = molar_mass(item)
    for canonical in candidates:
        dst = _parse(canonical)
        direct = _try(src, dst)
        if direct is not None:
            return Conversion(canonical, direct[0], direct[1], assumption=assumed)
        if molar is not None:
            context = ("chemistry", {"mw": ureg.Quantity(molar.grams_per_mole, _parse("g/mol"))})
            via_molar = _try(src, dst, context)
            if via_molar is not None:
                note = (
                    f"molar conversion with {item} molar mass {molar.grams_per_mole} g/mol "
                    f"({molar.conventional_factor}; {molar.source.split(';')[0]})"
                )
                return Conversion(
                    canonical, via_molar[0], via_molar[1], note=note, assumption=assumed
                )
        for body in spec.scale_by:
            size = body_units[body]
            for power, scaled in ((1, src * size), (-1, src / size)):
                found = _try(scaled, dst)
                if found is not None:
                    return Conversion(
                        canonical, found[0], found[1], body=body, power=power, assumption=assumed
                    )
    wanted = " or ".join(repr(unit) for unit in spec.units) or "no unit"
    reason = f"cannot be converted to {wanted}, the unit of item {item!r}"
    # "F" and "C" are UCUM (farad, coulomb), but a temperature charted so means [degF] or Cel.
    suggestion = ucum_suggestion(code)
    if suggestion is not None and _converts(item, suggestion):
        reason += f"; did you mean {suggestion!r} (UCUM)?"
    raise _ConversionError(code, reason, "wrong_dimension")


def _converts(item: str, code: str) -> bool:
    try:
        conversion_for(item, code)
    except UnitError:
        return False
    return True
