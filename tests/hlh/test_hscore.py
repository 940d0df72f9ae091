"""HScore: the points table as data, points with the values behind them, no probability."""

from __future__ import annotations

import json

from crswatch.hlh import hscore
from crswatch.hlh._criteria import BandVariable, CountVariable
from tests.builders import ev
from tests.hlh._support import screens


def test_table_maximum_is_337_and_cutoff_169() -> None:
    top = 0
    for variable in hscore.VARIABLES:
        if isinstance(variable, BandVariable):
            top += max(band.points for band in variable.bands)
        else:
            assert isinstance(variable, CountVariable)
            top += variable.points_by_count[-1]
    assert top == hscore.MAXIMUM == 337
    assert hscore.CUTOFF == 169


def test_no_probability_anywhere_in_the_result() -> None:
    result = screens([ev(5, "ferritin", 7000, "ng/mL")]).results["hscore"]
    text = json.dumps(result.to_dict()).lower()
    assert "probability" not in text.replace("no probability", "")
    assert ">= 169" in result.cutoff


def test_each_variable_shows_points_value_unit_and_time() -> None:
    result = screens(
        [ev(5, "temperature", 39.0, "Cel"), ev(6, "triglycerides", 2.0, "mmol/L")]
    ).results["hscore"]
    temperature = next(c for c in result.criteria if c.id == "temperature")
    assert temperature.points == 33
    [obs] = temperature.observations
    assert (obs.value, obs.unit, obs.item) == (39.0, "Cel", "temperature")
    assert obs.time is not None
    triglycerides = next(c for c in result.criteria if c.id == "triglycerides")
    assert triglycerides.points == 44
    assert triglycerides.observations[0].unit == "mg/dL"
    assert triglycerides.conversion is not None and "885.7" in triglycerides.conversion
    immunosuppression = next(c for c in result.criteria if c.id == "immunosuppression")
    assert immunosuppression.points is None and immunosuppression.points_bounds == (0, 18)


def test_lymphodepletion_caveat_for_car_t() -> None:
    result = screens([ev(5, "ferritin", 7000, "ng/mL")]).results["hscore"]
    assert any("lymphodepletion" in w for w in result.warnings)
