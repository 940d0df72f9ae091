"""The screens as other engines read them: flags, the course, and cohort == one patient."""

from __future__ import annotations

from crswatch.hlh import SCREENS, hlh_flags, screen_course, screen_timelines
from tests.builders import at, ev, timeline
from tests.hlh._golden import load_cases

_EVENTS = [
    ev(-24, "ferritin", 400, "ng/mL"),
    ev(24, "ferritin", 3000, "ng/mL"),
    ev(48, "immunosuppressed", True),
    ev(48, "temperature", 39.6, "Cel"),
    ev(48, "hepatomegaly", True),
    ev(48, "splenomegaly", True),
    ev(48, "ferritin", 7000, "ng/mL"),
    ev(48, "fibrinogen", 2.0, "g/L"),
    ev(48, "ast", 45, "U/L"),
]


def test_flags_are_each_screens_status() -> None:
    flags = hlh_flags(timeline(_EVENTS), at(48))
    assert set(flags) == set(SCREENS)
    assert flags["hscore"] == "met"  # 18 + 49 + 38 + 50 + 30 + 19 = 204 certain


def test_course_reports_first_met_and_the_hscore_peak() -> None:
    course = screen_course(timeline(_EVENTS))
    assert course.first_met["hscore"] == at(48)
    assert course.first_met["hlh2004"] is None
    assert course.hscore_peak is not None and course.hscore_peak[0] == 204
    assert course.hscore_peak_at == at(48)
    document = course.to_dict()
    assert document["schema"] == "crswatch.hlh-course/1"
    assert len(document["statuses"]["hscore"]) == len(document["evaluated_at"])


def test_cohort_equals_one_patient_at_a_time() -> None:
    timelines = [case.timeline for case in load_cases()][:12]
    together = screen_timelines(timelines)
    for one, timeline_ in zip(together, timelines, strict=True):
        [alone] = screen_timelines([timeline_])
        assert one.to_dict() == alone.to_dict()


def test_empty_timeline_is_not_assessable_everywhere() -> None:
    [result] = screen_timelines([timeline([])])
    assert set(result.flags.values()) == {"not_assessable"}
    assert result.results["hscore"].score_bounds == (0, 337)
