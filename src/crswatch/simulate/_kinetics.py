"""Curve shapes shared by the physiology modules: a gamma-variate pulse and knot curves.

- :func:`pulse` is the gamma variate ``(τ/tp)^k · exp(k(1 − τ/tp))`` for ``τ = t − onset > 0``:
  zero before the onset, exactly 1 at ``onset + tp``, smooth, and back near zero a few peak
  times later.  It gives cytokines a peak at a chosen delay (seed 004: TNF-α at 2 h, IL-2 at
  6 h, IL-6/IL-10/IFN-γ at 24 h) and CRP its slower rise and fall.
- :func:`knots` and :func:`log_knots` interpolate a course through (time, value) points, linearly
  or in log space (laboratory values that change by folds: ferritin, counts, transaminases).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crswatch.simulate._events import FloatArray

__all__ = ["knots", "log_knots", "pulse"]


def pulse(t: FloatArray, onset: float, peak_after: float, shape: float) -> FloatArray:
    """Gamma-variate pulse: 0 before ``onset``, 1 at ``onset + peak_after``."""
    ratio = np.maximum(t - onset, 0.0) / peak_after
    with np.errstate(divide="ignore"):
        # log form avoids 0 ** k warnings; exp(-inf) is exactly 0 before the onset.
        logged = shape * (np.log(ratio) + 1.0 - ratio)
    return np.exp(logged)


def _increasing(times: Sequence[float]) -> FloatArray:
    # np.interp needs increasing abscissae; equal knots (a plan collapsing two steps onto one
    # time) are nudged apart by a second rather than rejected.
    out = [float(times[0])]
    for time in times[1:]:
        out.append(max(float(time), out[-1] + 1.0 / 3600.0))
    return np.array(out, dtype=np.float64)


def knots(t: FloatArray, times: Sequence[float], values: Sequence[float]) -> FloatArray:
    """Piecewise-linear course through the knots, flat before the first and after the last."""
    return np.interp(t, _increasing(times), np.asarray(values, dtype=np.float64))


def log_knots(t: FloatArray, times: Sequence[float], values: Sequence[float]) -> FloatArray:
    """Like :func:`knots`, interpolated in log space (values must be positive)."""
    logged = np.log(np.asarray(values, dtype=np.float64))
    return np.exp(np.interp(t, _increasing(times), logged))
