"""Why a grade is what it is: deciding findings in the patient's values and times, and what is
missing or undecided, in words (``crswatch.web._why``; decision 0049)."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from crswatch.management import TimelineEvaluation
from crswatch.web._ward import ward_rows
from crswatch.web._why import Finding, deciding_findings, finding_text, open_question, short_time
from tests.builders import at, ev, timeline
from tests.web.ward import NOW, make_ward


def _texts(findings: tuple[Finding, ...], zone: object = UTC) -> list[str]:
    return [finding_text(f, zone, NOW) for f in findings]  # type: ignore[arg-type]


def test_ward_rows_say_why_in_the_patients_values() -> None:
    rows = {r.patient_id: r for r in ward_rows(make_ward(), NOW)}
    # W-SHOCK: ASTCT 3 on norepinephrine 8 µg/min from hour 26 (10:00 UTC), Tmax 39.2 °C at hour
    # 20 (04:00), fever waived by tocilizumab at hour 22 (06:00); tests/web/ward.py.
    assert _texts(rows["W-SHOCK"].crs_why) == [
        "norepinephrine 8 µg/min since 10:00",
        "Tmax 39.2 °C (04:00)",
        "fever waived after tocilizumab at 06:00",
    ]
    assert _texts(rows["W-ICANS"].icans_why) == ["ICE 5/10 (12:30)", "awakens to voice (12:30)"]
    assert _texts(rows["W-FEVER"].crs_why) == ["Tmax 38.6 °C (12:00)"]
    assert rows["W-CALM"].crs_why == () and rows["W-CALM"].crs_open == ""
    # No ICE or consciousness for W-SHOCK: not assessable, said in words with the range.
    assert rows["W-SHOCK"].icans_open.startswith("not assessable: missing ICE score")
    assert "level of consciousness" in rows["W-SHOCK"].icans_open
    assert rows["W-SHOCK"].icans_open.endswith("; grade between 0 and 4")


def test_times_are_written_in_the_site_zone() -> None:
    rows = {r.patient_id: r for r in ward_rows(make_ward(), NOW)}
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in January
    assert _texts(rows["W-FEVER"].crs_why, berlin) == ["Tmax 38.6 °C (13:00)"]
    # Another day than the page's "now": the date is written too.
    assert short_time(NOW - timedelta(days=1), UTC, NOW) == "1 Jan 14:00"


def test_last_recorded_and_stale_flags() -> None:
    rows = {r.patient_id: r for r in ward_rows(make_ward(), NOW)}
    shock = rows["W-SHOCK"]
    assert shock.last_vitals is not None and shock.last_vitals.at == at(28)
    assert (shock.last_vitals.ago, shock.last_vitals.stale) == ("2 h", False)
    # W-SHOCK has no ICE/CAPD at all: stale, "never".
    assert shock.last_neuro is not None
    assert (shock.last_neuro.at, shock.last_neuro.ago, shock.last_neuro.stale) == (
        None,
        "never",
        True,
    )
    # Vital signs 4 h old are not stale; just over 4 h they are (VITALS_STALE_AFTER, exclusive).
    old = timeline([ev(0, "temperature", 37.0, "Cel"), ev(0, "ice_score", 10)])
    fresh, stale = ward_rows([old], at(4))[0], ward_rows([old], at(4.02))[0]
    assert fresh.last_vitals is not None and not fresh.last_vitals.stale
    assert stale.last_vitals is not None and stale.last_vitals.stale


def test_icans_4_ranks_and_marks_like_crs_4() -> None:
    crs4 = timeline(
        [
            ev(1, "temperature", 39.5, "Cel"),
            ev(2, "norepinephrine", 10, "ug/min"),
            ev(2, "epinephrine", 5, "ug/min"),
            ev(2, "ice_score", 10),
            ev(2, "consciousness", "alert"),
        ],
        patient_id="CRS4",
    )
    icans4 = timeline(
        [
            ev(1, "temperature", 37.0, "Cel"),
            ev(2, "sbp", 120, "mm[Hg]"),
            ev(2, "o2_device", "room_air"),
            ev(2, "ice_score", 0),
            ev(2, "consciousness", "unarousable"),
        ],
        patient_id="ICANS4",
    )
    rows = {r.patient_id: r for r in ward_rows([crs4, icans4], at(3))}
    assert rows["CRS4"].crs.grade == 4 and rows["ICANS4"].icans.grade == 4
    assert rows["CRS4"].severity[0] == rows["ICANS4"].severity[0] == 4
    assert _texts(rows["ICANS4"].icans_why)[-1] == "unarousable (1 Jan 10:00)"


def test_open_question_words_per_status() -> None:
    # Lee 2014: the low-dose pressor sets grade 2, organ toxicity (no liver labs) could raise it
    # to 4: open, with what is missing and how high it could go (provisional under decision 0026,
    # not assessable before it).
    shock = make_ward()[-1]
    graded = TimelineEvaluation(shock).grades(NOW)
    lee = graded.crs["lee2014"]
    text = open_question(lee)
    if lee.status == "provisional":
        assert text.startswith("provisional: missing ")
        assert text.endswith("; could be up to grade 4")
    else:
        assert lee.status == "not_assessable"
        assert text.startswith("not assessable: missing ")
        assert text.endswith("; grade between 2 and 4")
    ctcae = graded.crs["ctcae_v4"]
    assert ctcae.status == "graded" and open_question(ctcae) == ""
    assert deciding_findings(graded.crs["astct2019"])[0].relation == "since"
