"""Blood counts: WBC, ANC, platelets and haemoglobin, with HLH-like cytopenias and transfusions.

- CAR T, after lymphodepletion: WBC 1.5-6 x10^3/uL on day -1, nadir 0.1-0.9 on days 3-7,
  recovery to 2-5 by days 12-21; neutrophils 5-30 % of it at the nadir; platelets fall to 30-70 %
  by days 7-14; haemoglobin drifts down by up to 1.5 g/dL (assumptions in line with CAR-HEMATOTOX
  cohorts, clinical-criteria §5.4).
- Blinatumomab, as in seed 004: ANC median 1.8 x10^3/uL, a rise on day 2 (mean peak 3.5), nadir at
  one week (0.6), recovery by day 29; platelets median 59 x10^3/uL, half on day 2 (30), back within
  2 weeks and above baseline by day 29; circulating blasts gone by day 2 (seed 000).
- HLH-like (seed 000): WBC falls to 10-30 % (5.7 -> 0.8 x10^3/uL), haemoglobin by 2 g/dL, platelets
  to 20-40 %, then a transient WBC rise after tocilizumab (0.7 -> 4.9, activated lymphocytes) while
  neutrophils stay low.
- Platelets below 10 x10^3/uL and haemoglobin below 7 g/dL are transfused.
"""

from __future__ import annotations

import numpy as np

from crswatch.simulate._demographics import Demographics
from crswatch.simulate._events import FloatArray
from crswatch.simulate._kinetics import knots, log_knots
from crswatch.simulate._lab_sampling import Anchors, Curve, LabWriter
from crswatch.simulate._streams import lognormal, uniform

__all__ = ["write_blood_counts"]


def write_blood_counts(
    rng: np.random.Generator,
    writer: LabWriter,
    kind: str,
    patient: Demographics,
    anchors: Anchors,
    daily: FloatArray,
    window: tuple[float, float],
) -> None:
    """Append WBC, ANC, platelets and haemoglobin at the daily times, and any transfusions."""
    first = min(window[0], -24.0)
    if kind == "car_t":
        nadir_at, recovered_at = uniform(rng, 72.0, 168.0), uniform(rng, 288.0, 504.0)
        wbc_times = [first, nadir_at, recovered_at]
        wbc_values = [uniform(rng, 1.5, 6.0), uniform(rng, 0.1, 0.9), uniform(rng, 2.0, 5.0)]
        fraction_values = [0.6, uniform(rng, 0.05, 0.3), 0.55]
        platelets0 = uniform(rng, 60.0, 250.0)
        platelet_times = [first, uniform(rng, 168.0, 336.0), 720.0]
        platelet_values = [
            platelets0,
            platelets0 * uniform(rng, 0.3, 0.7),
            platelets0 * uniform(rng, 0.6, 1.0),
        ]
        hemoglobin0 = uniform(rng, 8.5, 12.5)
        hemoglobin_values = [
            hemoglobin0,
            hemoglobin0 - uniform(rng, 0.3, 1.5),
            hemoglobin0 - uniform(rng, 0.0, 0.5),
        ]

        def anc(t: FloatArray) -> FloatArray:
            return log_knots(t, wbc_times, wbc_values) * knots(t, wbc_times, fraction_values)

        def wbc(t: FloatArray) -> FloatArray:
            return log_knots(t, wbc_times, wbc_values)

    else:
        # seed 004: ANC median 1.8 x10^3/uL, mean peak on day 2, nadir after a week.
        anc0 = float(np.clip(lognormal(rng, 1.8, 0.5), 0.3, 6.0))
        anc_times = [first, 0.0, 36.0, 168.0, 672.0]
        anc_values = [
            anc0,
            anc0,
            anc0 * uniform(rng, 1.2, 2.0),
            anc0 * uniform(rng, 0.2, 0.5),
            anc0 * uniform(rng, 0.9, 1.2),
        ]
        lymphocytes = uniform(rng, 0.3, 1.2)
        blasts = float(np.clip(lognormal(rng, 1.5, 1.0), 0.0, 50.0))
        platelets0 = float(np.clip(lognormal(rng, 59.0, 0.5), 10.0, 300.0))
        platelet_times = [first, 0.0, 48.0, 336.0, 672.0]
        platelet_values = [
            platelets0,
            platelets0,
            platelets0 * uniform(rng, 0.4, 0.6),
            platelets0,
            platelets0 * uniform(rng, 1.2, 2.5),
        ]
        hemoglobin0 = uniform(rng, 8.0, 11.5)
        hemoglobin_values = [hemoglobin0, hemoglobin0 - uniform(rng, 0.0, 0.6), hemoglobin0]

        def anc(t: FloatArray) -> FloatArray:
            return log_knots(t, anc_times, anc_values)

        def wbc(t: FloatArray) -> FloatArray:
            # Circulating blasts are gone by day 2 (seed 000).
            return anc(t) + lymphocytes + blasts * np.exp(-np.maximum(t, 0.0) / 12.0)

    hemoglobin_times = [first, 168.0, 720.0]
    white_factor, neutrophil_factor, platelet_factor, hemoglobin_drop = _hlh_cytopenias(
        rng, anchors, first
    )

    white = writer.write("wbc", daily, lambda t: wbc(t) * white_factor(t), 0.06)

    def neutrophils(t: FloatArray) -> FloatArray:
        # Measured with the same sample as the WBC: never more than 95 % of it.
        measured = anc(t) * neutrophil_factor(t) * writer.noise(t.size, 0.08)
        return np.minimum(measured, white * 0.95)

    writer.write("anc", daily, neutrophils, 0.0)
    platelets = writer.write(
        "platelets",
        daily,
        lambda t: log_knots(t, platelet_times, platelet_values) * platelet_factor(t),
        0.06,
    )
    hemoglobin = writer.write(
        "hemoglobin",
        daily,
        lambda t: knots(t, hemoglobin_times, hemoglobin_values) - hemoglobin_drop(t),
        0.02,
    )
    writer.log.add_codes("transfusion", daily[platelets < 10.0] + 1.5, "platelets")
    writer.log.add_codes("transfusion", daily[hemoglobin < 7.0] + 2.5, "red_cells")


def _unchanged(t: FloatArray) -> FloatArray:
    return np.ones_like(t)


def _no_drop(t: FloatArray) -> FloatArray:
    return np.zeros_like(t)


def _hlh_cytopenias(
    rng: np.random.Generator, anchors: Anchors, first: float
) -> tuple[Curve, Curve, Curve, Curve]:
    """Factors on WBC, ANC and platelets and a haemoglobin fall for an HLH-like course.

    Seed 000: WBC 5.7 -> 0.8 x10^3/uL and haemoglobin down 2 g/dL at the peak; after
    tocilizumab a transient WBC rise (0.7 -> 4.9, activated lymphocytes) while neutrophils stay low.
    """
    if anchors.hlh_peak is None:
        return _unchanged, _unchanged, _unchanged, _no_drop
    peak = anchors.hlh_peak
    low = uniform(rng, 0.1, 0.3)
    after = (anchors.last_tocilizumab or peak) + 24.0
    white = (
        [first, anchors.start, peak, max(peak + 1.0, after - 12.0), after, after + 96.0],
        [1.0, 1.0, low, low, low * uniform(rng, 3.0, 7.0), 1.0],
    )
    neutrophils = (
        [first, anchors.start, peak, peak + 168.0],
        [1.0, 1.0, uniform(rng, 0.1, 0.3), 1.0],
    )
    platelets = (
        [first, anchors.start, peak, peak + 240.0],
        [1.0, 1.0, uniform(rng, 0.2, 0.4), 1.0],
    )
    hemoglobin = ([first, anchors.start, peak, peak + 240.0], [0.0, 0.0, 2.0, 0.0])

    def white_factor(t: FloatArray) -> FloatArray:
        return log_knots(t, *white)

    def neutrophil_factor(t: FloatArray) -> FloatArray:
        return log_knots(t, *neutrophils)

    def platelet_factor(t: FloatArray) -> FloatArray:
        return log_knots(t, *platelets)

    def hemoglobin_drop(t: FloatArray) -> FloatArray:
        return knots(t, *hemoglobin)

    return white_factor, neutrophil_factor, platelet_factor, hemoglobin_drop
