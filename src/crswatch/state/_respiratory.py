"""Respiratory support at T: device class, flow, FiO2 (measured or estimated), positive pressure.

- ``o2_device``: the last attributable device at or before T, unless it had ended; no device
  record at all means room air (support is recorded when given; ``o2_device_recorded`` says
  whether any record exists).  A flow of 0 L/min recorded at or after the device started turns
  the oxygen off (timeline vocabulary: "0 means oxygen off"; like a rate of 0 for an infusion):
  the device is room air from then on, until a later flow above 0 or a new device record.  A
  positive-pressure device (CPAP, BiPAP, ventilation) is not ended by a zero oxygen flow: it
  supports breathing with or without added oxygen.
- ``o2_flow_l_min`` and ``fio2_measured_pct`` count only when recorded at or after the current
  device started (a flow from a previous device is stale) and the device is not room air.
- ``fio2_estimated_pct``: for a nasal cannula without a measured FiO2, from the flow by
  ``fio2_rule`` (clinical-criteria §1.11; discrepancy D5): ``fpnotebook`` is 20 % + 4 % per L/min
  up to 6 L/min (1 L 24 %, 6 L 44 %), and the 6 L/min value, a lower bound, above 6;
  ``pmc4753186`` is the stepwise table 2 L 25 %, 4 L 30 %, 6-8 L 40 %, 9-10 L 50 % (below 2
  L/min: not estimated).  ``fio2_pct`` is the measured value, else the estimate; ``fio2_source``
  says which.
- ``fio2_low_pct`` and ``fio2_high_pct``: the lowest and highest FiO2 the record allows at T, which
  the scales' FiO2 thresholds read.  Measured (or room air): both are that value, so a charted
  FiO2 always wins.  Estimated: with ``fio2_estimate_range`` (the default) the lowest and highest
  estimate of every shipped estimator (``fpnotebook`` and ``pmc4753186``; for 5 L/min 40 % and
  30 %), so a threshold between them is undecided by the record (docs/decisions/0030); without it,
  the ``fio2_rule`` estimate alone.  ``fio2_rule`` ``none`` estimates nothing: both are null.
"""

from __future__ import annotations

import polars as pl
from polars.expr.whenthen import When

from crswatch.state._common import KEYS, latest_at
from crswatch.state._parameters import StateParameters

__all__ = ["ESTIMATORS", "POSITIVE_PRESSURE", "respiratory_state"]

POSITIVE_PRESSURE = ("cpap", "bipap", "mechanical_ventilation")
NASAL_CANNULA = ("nasal_cannula", "high_flow_nasal_cannula")


_COLUMNS = (
    "o2_device",
    "o2_device_ref",
    "o2_device_recorded",
    "o2_flow_l_min",
    "o2_flow_l_min_ref",
    "fio2_measured_pct",
    "fio2_measured_pct_ref",
    "fio2_estimated_pct",
    "fio2_pct",
    "fio2_low_pct",
    "fio2_high_pct",
    "fio2_source",
    "positive_pressure",
    "invasive_ventilation",
)
#: The estimators the FiO2 range spans (``StateParameters.fio2_estimate_range``).
ESTIMATORS = ("fpnotebook", "pmc4753186")


def _estimate(flow: pl.Expr, rule: str) -> pl.Expr:
    if rule == "fpnotebook":
        # min_horizontal skips nulls, so a missing flow must stay missing explicitly.
        return pl.when(flow.is_not_null()).then(20.0 + 4.0 * pl.min_horizontal(flow, pl.lit(6.0)))
    if rule == "pmc4753186":
        return (
            pl.when(flow >= 9)
            .then(50.0)
            .when(flow >= 6)
            .then(40.0)
            .when(flow >= 4)
            .then(30.0)
            .when(flow >= 2)
            .then(25.0)
            .otherwise(None)
        )
    return pl.lit(None, dtype=pl.Float64)


def respiratory_state(
    times: pl.LazyFrame, events: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    keyed = times.select(KEYS)
    device = latest_at(keyed, events, ("o2_device",), "value_code", "o2_device")
    flow = latest_at(keyed, events, ("o2_flow",), "value_num", "o2_flow_l_min")
    fio2 = latest_at(keyed, events, ("fio2",), "value_num", "fio2_measured_pct")
    ended = pl.col("o2_device_end").is_not_null() & (pl.col("o2_device_end") <= pl.col("at"))
    # A zero flow charted on the current (flow-driven) device turns the oxygen off.
    flow_off = (
        (pl.col("o2_flow_l_min") == 0)
        & (pl.col("o2_flow_l_min_time") >= pl.col("o2_device_time"))
        & ~pl.col("o2_device").is_in(POSITIVE_PRESSURE)
    ).fill_null(False)
    device_now = (
        pl.when(pl.col("o2_device").is_null() | ended | flow_off)
        .then(pl.lit("room_air"))
        .otherwise(pl.col("o2_device"))
    )
    on_support = pl.col("o2_device") != "room_air"

    def current(prefix: str) -> When:
        fresh = pl.col(f"{prefix}_time") >= pl.col("o2_device_time")
        not_ended = pl.col(f"{prefix}_end").is_null() | (pl.col(f"{prefix}_end") > pl.col("at"))
        return pl.when(on_support & fresh & not_ended)

    flow_now = pl.col("o2_flow_l_min")
    cannula = pl.col("o2_device") == "nasal_cannula"
    estimate = _estimate(flow_now, params.fio2_rule)
    if params.fio2_rule != "none" and params.fio2_estimate_range:
        estimates = [_estimate(flow_now, rule) for rule in ESTIMATORS]
        lowest, highest = pl.min_horizontal(estimates), pl.max_horizontal(estimates)
    else:
        lowest = highest = estimate
    room_air = pl.col("o2_device") == "room_air"
    measured = pl.col("fio2_measured_pct")
    return (
        device.join(flow, on=KEYS, how="left")
        .join(fio2, on=KEYS, how="left")
        .with_columns(
            o2_device_recorded=pl.col("o2_device").is_not_null(),
            # Room air by a zero flow: the evidence names that flow record.
            o2_device_ref=pl.when(flow_off & ~ended)
            .then(pl.col("o2_flow_l_min_ref"))
            .when(~ended)
            .then(pl.col("o2_device_ref")),
            o2_device=device_now,
        )
        .with_columns(
            o2_flow_l_min=current("o2_flow_l_min").then(pl.col("o2_flow_l_min")),
            o2_flow_l_min_ref=current("o2_flow_l_min").then(pl.col("o2_flow_l_min_ref")),
            fio2_measured_pct=current("fio2_measured_pct").then(pl.col("fio2_measured_pct")),
            fio2_measured_pct_ref=current("fio2_measured_pct").then(
                pl.col("fio2_measured_pct_ref")
            ),
        )
        .with_columns(
            fio2_estimated_pct=pl.when(cannula).then(estimate),
            fio2_low_pct=pl.when(room_air)
            .then(21.0)
            .otherwise(pl.coalesce(measured, pl.when(cannula).then(lowest))),
            fio2_high_pct=pl.when(room_air)
            .then(21.0)
            .otherwise(pl.coalesce(measured, pl.when(cannula).then(highest))),
        )
        .with_columns(
            fio2_pct=pl.when(room_air)
            .then(21.0)
            .otherwise(pl.coalesce(measured, pl.col("fio2_estimated_pct"))),
            fio2_source=pl.when(room_air)
            .then(pl.lit("room_air"))
            .when(measured.is_not_null())
            .then(pl.lit("measured"))
            .when(pl.col("fio2_estimated_pct").is_not_null())
            .then(pl.lit(f"estimated:{params.fio2_rule}")),
            positive_pressure=pl.col("o2_device").is_in(POSITIVE_PRESSURE),
            invasive_ventilation=pl.col("o2_device") == "mechanical_ventilation",
        )
        .select([*KEYS, *_COLUMNS])
    )
