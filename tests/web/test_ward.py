"""The ward view model: grades, trend, alerts and the severity order, without a browser."""

from __future__ import annotations

from datetime import timedelta

from crswatch.scales import GradeResult
from crswatch.web import FERRITIN_ALERT_NG_ML, GradeCell, Trend, ward_rows
from crswatch.web._ward import up_to
from tests.builders import START, at, ev, timeline
from tests.web.ward import NOW, make_ward


def _cell(status: str, grade: int | None, low: int, high: int) -> GradeCell:
    return GradeCell("astct2019", status, grade, (low, high))


def test_rows_are_graded_and_sorted_by_severity() -> None:
    rows = ward_rows(make_ward(), NOW)
    assert [r.patient_id for r in rows] == ["W-SHOCK", "W-ICANS", "W-TOCI4", "W-FEVER", "W-CALM"]
    shock, icans, toci, fever, calm = rows
    assert (shock.crs.grade, shock.crs.status) == (3, "graded")
    assert (icans.icans.grade, icans.crs.grade) == (2, 1)
    assert (toci.crs.grade, fever.crs.grade, calm.crs.grade) == (1, 1, 0)
    assert shock.severity == (3, 2, 4)
    # Equal certain grade: the alert (4 of 4 tocilizumab doses) ranks W-TOCI4 above W-FEVER.
    assert toci.severity == (1, 1, 1) and fever.severity == (1, 0, 1)
    assert all(r.day == 1 for r in rows)
    assert shock.therapy == "CAR T (axicabtagene ciloleucel)" and calm.therapy == "CAR T"


def test_alerts() -> None:
    rows = {r.patient_id: r for r in ward_rows(make_ward(), NOW)}
    shock = {a.code: a for a in rows["W-SHOCK"].alerts}
    assert set(shock) == {"ferritin", "ice_overdue", "tocilizumab"}
    assert shock["ferritin"].detail == "latest ferritin 15,000 ng/mL"
    assert (shock["tocilizumab"].label, shock["tocilizumab"].level) == ("Toci 1/4", "info")
    toci = {a.code: a for a in rows["W-TOCI4"].alerts}
    assert (toci["tocilizumab"].label, toci["tocilizumab"].level) == ("Toci 4/4", "alert")
    assert rows["W-CALM"].alerts == ()


def test_ferritin_threshold_is_exclusive() -> None:
    def alerts(value: float) -> set[str]:
        t = timeline([ev(1, "ferritin", value, "ng/mL"), ev(1, "temperature", 37, "Cel")])
        return {a.code for a in ward_rows([t], at(2))[0].alerts}

    assert "ferritin" not in alerts(FERRITIN_ALERT_NG_ML)
    assert "ferritin" in alerts(FERRITIN_ALERT_NG_ML + 1)


def test_trend_and_scale_choice() -> None:
    rows = {r.patient_id: r for r in ward_rows(make_ward(), NOW)}
    assert (rows["W-SHOCK"].crs_trend.arrow, rows["W-SHOCK"].crs_trend.text) == ("↑", "0 → 3")
    assert rows["W-CALM"].crs_trend.arrow == "="
    # No ICE 24 h ago: the ICANS trend cannot be told, and says so.
    assert rows["W-ICANS"].icans_trend.arrow == "?"
    lee = {r.patient_id: r for r in ward_rows(make_ward(), NOW, crs_scale="lee2014")}
    assert lee["W-SHOCK"].crs.scale == "lee2014"
    assert (lee["W-SHOCK"].crs.status, lee["W-SHOCK"].crs.bounds) == ("provisional", (2, 4))


def test_ungraded_cells_never_show_a_number() -> None:
    cell = _cell("not_assessable", None, 1, 4)
    # The shared notation (crswatch.scales.grade_notation), as in the terminal and the report.
    assert (cell.label, cell.short, cell.certain, cell.possible) == (
        "1–4 (not assessable)",
        "1–4",
        1,
        4,
    )
    assert _cell("ambiguous", None, 2, 3).label == "2–3 (ambiguous)"
    assert _cell("graded", 2, 2, 2).label == "2"
    provisional = _cell("provisional", 2, 2, 3)
    assert (provisional.label, provisional.certain, provisional.possible) == (
        "2 (provisional, ≤ 3)",
        2,
        3,
    )


def test_a_provisional_grade_is_the_grade_on_record() -> None:
    cell = _cell("provisional", 2, 2, 3)
    assert (cell.on_record, cell.short, cell.label) == (2, "2", "2 (provisional, ≤ 3)")
    # Certain: the grade; possible: what the undocumented inputs could give.
    assert (cell.certain, cell.possible) == (2, 3)


def test_trend_arrows_only_when_certain() -> None:
    assert Trend(_cell("graded", 1, 1, 1), _cell("graded", 3, 3, 3)).arrow == "↑"
    assert Trend(_cell("graded", 3, 3, 3), _cell("graded", 1, 1, 1)).arrow == "↓"
    assert Trend(_cell("graded", 2, 2, 2), _cell("graded", 2, 2, 2)).arrow == "="
    assert Trend(_cell("graded", 1, 1, 1), _cell("ambiguous", None, 1, 2)).arrow == "?"
    assert Trend(_cell("graded", 1, 1, 1), _cell("ambiguous", None, 2, 3)).arrow == "↑"


def test_events_after_now_are_not_seen() -> None:
    t = timeline([ev(1, "temperature", 37, "Cel"), ev(5, "temperature", 39, "Cel")])
    assert len(up_to(t, at(2)).events) == 1
    row = ward_rows([t], at(2))[0]
    assert row.crs.certain == 0


def test_day_counts_from_the_infusion_day() -> None:
    t = timeline([ev(1, "temperature", 37, "Cel")])
    assert ward_rows([t], START + timedelta(hours=23))[0].day == 0
    assert ward_rows([t], START + timedelta(days=3, hours=1))[0].day == 3


def test_empty_ward() -> None:
    assert ward_rows([], NOW) == []


def test_grade_cell_of_result() -> None:
    result = GradeResult("astct2019", "2019", NOW, None, "ambiguous", (1, 2))
    assert GradeCell.of(result) == _cell("ambiguous", None, 1, 2)


def test_blinatumomab_deviations_are_flagged() -> None:
    # No dexamethasone before the start or the step, and 28 ug/day after 3 days instead of 7
    # (BLINCYTO label rules, crswatch.regimens).
    therapy = {"kind": "blinatumomab", "start": "2024-01-01T08:00:00Z"}
    events = [
        ev(0, "blinatumomab", 9, "ug/d"),
        ev(72, "blinatumomab", 28, "ug/d"),
        ev(84, "temperature", 37, "Cel"),
    ]
    row = ward_rows([timeline(events, patient_id="B", therapy=therapy)], at(96))[0]
    (alert,) = row.alerts
    assert (alert.code, alert.label, alert.level) == ("blinatumomab", "Blina deviation ×3", "alert")
    assert alert.detail.startswith("escalation_before_7_days: escalated from 9 to 28 µg/day")
    assert row.therapy == "Blinatumomab"


def test_blinatumomab_status_that_cannot_be_computed_is_information() -> None:
    therapy = {"kind": "blinatumomab", "start": "2024-01-01T08:00:00Z"}
    events = [ev(0, "blinatumomab", 9, "ug/d"), ev(2, "temperature", 37, "Cel")]
    t = timeline(events, patient_id="B", therapy=therapy, weight_kg=None)
    alerts = ward_rows([t], at(4))[0].alerts
    assert [(a.code, a.level) for a in alerts] == [("blinatumomab", "info")]


def test_bispecific_in_the_label_stay_says_until_when() -> None:
    therapy = {"kind": "bispecific", "product": "elranatamab", "start": "2024-01-01T08:00:00Z"}
    record = timeline(
        [ev(0, "elranatamab", 12, "mg"), ev(1, "temperature", 36.9, "Cel")],
        patient_id="BSP",
        therapy=therapy,
    )
    (inside,) = ward_rows([record], at(47))
    stay = [alert for alert in inside.alerts if alert.code == "monitoring"]
    assert [alert.label for alert in stay] == ["In monitoring window until 2024-01-03T08:00:00Z"]
    assert stay[0].level == "info"
    (after,) = ward_rows([record], at(49))
    assert not [alert for alert in after.alerts if alert.code == "monitoring"]
