"""Every golden blinatumomab case: plans (doses, caps, premedication) and status replays."""

from __future__ import annotations

from typing import Any

import pytest

from crswatch.regimens import blinatumomab_status, grade_courses, plan_blinatumomab
from tests.regimens._golden import StatusCase, plan_cases, status_cases

PLANS = plan_cases()
STATUSES = status_cases()


def test_the_golden_files_cover_the_issue() -> None:
    ids = {case["id"] for case in PLANS} | {case.id for case in STATUSES}
    for needed in (
        "D41-70kg-rr",
        "D41-44kg-bsa2.0-caps",
        "D42-gap-3h-no-premedication",
        "D42-gap-4h-without-premedication",
        "D42-interruption-6-days",
        "D42-interruption-8-days",
        "P10-crs-grade3-interrupt",
        "P11-crs-grade4-discontinue",
        "P12-two-seizures",
        "P13-neuro-grade3-at-9",
        "neuro-grade3-over-7-days",
        "neuro-grade4",
        "D42-other-grade3-15-days",
        "ojemolon2022-after-second-stop",
    ):
        assert needed in ids


@pytest.mark.parametrize("case", PLANS, ids=[case["id"] for case in PLANS])
def test_plan(case: dict[str, Any]) -> None:
    payload = plan_blinatumomab(**case["input"]).to_dict()
    expected = case["expected"]
    context = f"{case['id']} ({case['source']})"
    if "n_cycles" in expected:
        assert len(payload["cycles"]) == expected["n_cycles"], context
    if "dosing_basis" in expected:
        assert payload["dosing_basis"] == expected["dosing_basis"], context
    for number, want in expected["cycles"].items():
        cycle = payload["cycles"][number - 1]
        assert cycle["cycle"] == number
        if "segments" in want:
            got = [[s["start_day"], s["end_day"], s["dose_ug_per_day"]] for s in cycle["segments"]]
            assert got == want["segments"], context
        if "capped" in want:
            assert [s["capped"] for s in cycle["segments"]] == want["capped"], context
        if "premedications" in want:
            got = [
                [p["day"], p["drug"], p["dose_mg"], p["reason"]] for p in cycle["premedications"]
            ]
            assert got == want["premedications"], context
        if "verified_premedications" in want:
            got_verified = [p["verified"] for p in cycle["premedications"]]
            assert got_verified == want["verified_premedications"], context
        for key in ("course_day", "treatment_free_days"):
            if key in want:
                assert cycle[key] == want[key], context
        if "hospital_days" in want:
            assert cycle["hospitalization"]["first_days"] == want["hospital_days"], context


@pytest.mark.parametrize("case", STATUSES, ids=[case.id for case in STATUSES])
def test_status(case: StatusCase) -> None:
    result = blinatumomab_status(
        case.timeline,
        case.at,
        params=case.params,
        courses=case.courses,
        adverse_events=case.adverse_events,
    )
    payload = result.to_dict()
    expected = case.expected
    context = f"{case.id} ({case.source}): {payload}"
    for key in ("state", "cycle"):
        if key in expected:
            assert payload[key] == expected[key], context
    if "infusion_days" in expected:
        assert payload["infusion_days"] == pytest.approx(expected["infusion_days"], abs=1e-3)
    if "dose_due" in expected:
        assert payload["dose_due"]["dose_ug_per_day"] == expected["dose_due"], context
    if "dose_due_rule" in expected:
        assert payload["dose_due"]["rule"] == expected["dose_due_rule"], context
    if "actions" in expected:
        assert {a["rule"] for a in payload["actions"]} == set(expected["actions"]), context
    if "action_detail_contains" in expected:
        details = " ".join(a["detail"] for a in payload["actions"])
        assert expected["action_detail_contains"] in details, context
    if "deviations" in expected:
        assert sorted(d["kind"] for d in payload["deviations"]) == sorted(expected["deviations"]), (
            context
        )
    if "deviation_rules" in expected:
        assert [d["rule"] for d in payload["deviations"]] == expected["deviation_rules"]
    if "interruptions" in expected:
        got = [
            [i["outcome"], i["premedication_required"], i["premedication_given"]]
            for i in payload["interruptions"]
        ]
        assert got == expected["interruptions"], context
    if "next_premedication" in expected:
        premed = payload["next_premedication"]
        assert premed is not None, context
        assert premed["items"][0]["reason"] == expected["next_premedication"], context
    for text in expected.get("ambiguous_contains", []):
        assert any(text in note for note in payload["ambiguous"]), context
    if "crs_peak" in expected:
        courses = grade_courses(case.timeline, case.params)
        crs = next(course for course in courses if course.kind == "crs")
        assert max(point.lower for point in crs.points) == expected["crs_peak"]
    for action in payload["actions"]:
        assert action["source"] and action["rule"], context
