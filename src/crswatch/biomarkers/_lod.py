"""Censored assay results: the limit-of-detection rule of seed 004 (Nägele et al. 2017).

Seed 004_6bbaadb357dc1e1b.txt (Nägele et al., Exp Hematol Oncol 2017;6:14, "Cytokines and
granzyme B"): "values below LLOQ were included as such; values below LOD were set to 1/2 LOD to
allow logarithmic plotting."  A timeline result marked ``censored: below_lod`` holds the LOD as
its value (shared/spec/timeline.md §3), so:

- ``below_lod``: the value used for statistics (means, fold changes, peaks, kinetics) is half the
  LOD, and the result is flagged ``below_lod`` with the LOD kept beside it;
- ``above_uloq``: the limit is used as is, a lower bound, and flagged;
- results between the LOD and the LLOQ are not censored in the timeline and are used as reported
  (seed 004: "included as such").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

__all__ = ["LOD_RULE", "StatValue", "stat_value", "stat_value_expr"]

LOD_RULE = (
    "below the limit of detection: half the LOD is used for statistics and the result is "
    "flagged (Nägele et al., Exp Hematol Oncol 2017: 'values below LOD were set to 1/2 "
    "LOD'); above the upper "
    "limit of quantification: the limit is used as a lower bound and flagged"
)


@dataclass(frozen=True, slots=True)
class StatValue:
    """A reported value and the value statistics use, with the censoring flag."""

    reported: float
    value: float
    censored: str | None = None

    @property
    def flag(self) -> str | None:
        if self.censored == "below_lod":
            return f"below LOD {self.reported:g}: {self.value:g} (LOD/2) used"
        if self.censored == "above_uloq":
            return f"above ULOQ {self.reported:g}: the limit used (a lower bound)"
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "reported": self.reported}
        if self.censored is not None:
            out["censored"] = self.censored
            out["flag"] = self.flag
        return out


def stat_value(reported: float, censored: str | None) -> StatValue:
    """The value for statistics of a (possibly censored) result."""
    if censored == "below_lod":
        return StatValue(reported=reported, value=reported / 2.0, censored=censored)
    if censored not in (None, "above_uloq"):
        raise ValueError(f"censored={censored!r} is not below_lod or above_uloq")
    return StatValue(reported=reported, value=reported, censored=censored)


def stat_value_expr(value: str = "value_num", censored: str = "censored") -> pl.Expr:
    """The same rule as a Polars expression over an event frame."""
    return (
        pl.when(pl.col(censored) == "below_lod")
        .then(pl.col(value) / 2.0)
        .otherwise(pl.col(value))
        .alias("stat_value")
    )
