"""Where the dashboard's patient page and ward page spend their time.

    python bench/bench_dashboard.py [--repeat 3] [--days 30] [--vitals-every-minutes 5]

Fills a fresh SQLite store in a temporary directory with the demo ward (``demo_ward``, 24
patients at a fixed clock) and one long record (``--days`` of seven vital signs every 5 minutes,
the record of ``bench_api.py``; simulated records end within about 17 days), then times, for the
demo-ward patient with the most events, a demo-ward blinatumomab patient and the long record,
each part of ``GET /ward/patients/{id}``: loading from the store, ``to_frames``, the
trajectory, the headline grades at now, every part of ``patient_panels`` (all-scale grades,
recommendation, HLH screens, biomarker kinetics, blinatumomab status), the chart specs, the
template rendering, and the whole GET through the app (FastAPI TestClient, no network) with the
dashboard's timeline cache cold and warm; then the ward page for the 24 patients.  The parts
are timed as the library's public engines are called on their own (the straightforward path);
the panel and page rows time the dashboard's own code, which shares work between them
(docs/decisions/0024-dashboard-performance.md).
Prints the median milliseconds of ``--repeat`` runs; asserts nothing about time (the machine is
shared and noisy: compare the rows of one run with each other).

The ward page's rows include ``ward_rows`` in process (from ``Timeline`` objects, as the
library's pure entry point) and, where the code has it (decision 0068), the route's own path:
the records read through the cache (``cached_patients``) and ``ward_rows_of`` with the results
kept per stored version (a refresh) and with nothing kept (the first refresh of a process).

Then the ward's 30 s refresh (``GET /ward/rows``, the demo ward's 24 patients, timeline cache
warm), ``--requests`` times on each path: rendered (no ``If-None-Match``: the rows computed and
rendered), not modified (the refresh sends the rows' ETag back: 304, decision 0057), and,
``--writes`` times, rendered after a write (one new temperature of one patient stored before
each refresh, as a bedside entry), with p50/p95/p99 of the server time (measured around the
ASGI app, ``bench_api.ServerTimer``), the 100 ms p95 target of issue 16 met or missed, and the
load average.  The script runs unchanged against the code before decision 0068 (rows that need
the newer code are left out), so before and after are measured with one script.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import polars
from fastapi.testclient import TestClient

from crswatch.api import Settings, create_app
from crswatch.biomarkers import cytokine_profile, kinetics
from crswatch.episodes import assessment_gaps, trajectory
from crswatch.hlh import hlh_flags, screen_timelines
from crswatch.io import read_json_document
from crswatch.management import DEFAULT_RULESET, get_ruleset, recommend, steroid_exposure
from crswatch.regimens import blinatumomab_status
from crswatch.scales import grade_timelines
from crswatch.simulate import demo_ward
from crswatch.state import state_of
from crswatch.store import Store, TimelineCache, create_user, ingest_timelines, load_timeline
from crswatch.timeline import Event, Timeline, to_frames
from crswatch.web import _charts, _pages, _panels
from crswatch.web._templates import templates
from crswatch.web._ward import ICANS_SCALE, up_to, ward_rows

try:  # decision 0068; absent from the code before it (the "before" side of a comparison)
    from crswatch.store import cached_patients
    from crswatch.web._pages import _ward_record
    from crswatch.web._ward import TIMELINE_KINDS, ward_rows_of
except ImportError:
    ward_rows_of = None  # type: ignore[assignment]
try:  # decision 0078
    from crswatch.web._ward import WardMemo
except ImportError:
    WardMemo = None  # type: ignore[misc, assignment]

CLOCK = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
#: A demo-ward blinatumomab patient (stepped up; the regimen panel and the label's rule set).
BLINATUMOMAB = "ward-08"


def _sibling(name: str) -> Any:
    """A benchmark module beside this one (``bench/`` is not a package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


#: The API benchmark: its 30-day record, its server timer and its percentiles.
bench_api = _sibling("bench_api")


def _app_state(client: TestClient) -> Any:
    """The app's state behind the client (the app may be wrapped in a ``ServerTimer``)."""
    app: Any = client.app
    return getattr(app, "app", app).state


def _long_record(days: int, every_minutes: int) -> Timeline:
    """The 30-day, 5-minute record of ``bench_api.py`` (one CAR T patient, grade 3 CRS)."""
    document = bench_api.patient_document(days, every_minutes)
    (timeline,) = read_json_document(document).timelines
    return timeline


def _straightforward(timeline: Timeline, now: datetime) -> Any:
    """The page's engine calls as they were made before decision 0024, one question each.

    The headline grades, the grade table, the recommendation's facts (grades at T, its two
    scales' trajectory, the state at T, the HLH flags, and the grades around the latest
    tocilizumab and corticosteroid doses given 24 h before T or earlier), the HLH panel, the
    biomarker panel, the regimen panel and the chart's trajectory and specs.  The rules' own
    evaluation (plain Python over the facts, milliseconds) is left out.
    """
    grade_timelines([timeline], at=now, scales=["astct2019", ICANS_SCALE])
    grade_timelines([timeline], at=now)
    ruleset = get_ruleset(DEFAULT_RULESET[timeline.patient.therapy.kind])
    scales = [ruleset.crs_scale, f"icans.{ruleset.icans_scale}"]
    grade_timelines([timeline], at=now, scales=scales)
    trajectory([timeline], scales=scales)
    state_of([timeline], at=now)
    hlh_flags(timeline, now)
    doses = (
        [e.time for e in timeline.of("tocilizumab") if e.time <= now],
        [t for t, _, _ in steroid_exposure(timeline, now).doses],
    )
    for times in doses:
        matured = [t for t in times if t <= now - timedelta(hours=24)]
        for moment in matured[-1:]:
            for at in (moment - timedelta(minutes=1), moment + timedelta(hours=24)):
                grade_timelines([timeline], at=at, scales=[ruleset.crs_scale])
    screen_timelines([timeline], now)
    cytokine_profile(timeline, kinetics(timeline, now).at)
    if timeline.patient.therapy.kind == "blinatumomab":
        blinatumomab_status(timeline, now)
    path = trajectory([timeline])
    return _charts.timeline_chart(timeline, path), _charts.cytokine_chart(timeline)


def _render_ms(step: Callable[[], Any]) -> float:
    """Milliseconds spent in ``TemplateResponse`` (it renders the template) during ``step``."""
    original = templates.TemplateResponse
    spent: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - began) * 1000)

    templates.TemplateResponse = timed  # type: ignore[method-assign]
    try:
        step()
    finally:
        templates.TemplateResponse = original  # type: ignore[method-assign]
    return sum(spent)


def _median_ms(step: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = step()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), result


def _patient_rows(
    client: TestClient, store: Store, patient_id: str, now: datetime, repeat: int
) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []

    def timed(name: str, step: Callable[[], Any]) -> Any:
        ms, result = _median_ms(step, repeat)
        rows.append((name, ms))
        return result

    def load() -> Timeline:
        with store.transaction() as session:
            found = load_timeline(session, patient_id)
        assert found is not None
        return found

    full = timed("load from the store", load)
    cache = TimelineCache()

    def cached() -> Timeline | None:
        with store.transaction() as session:
            return cache.load(session, patient_id)

    cached()
    timed("  the same through the dashboard's cache (unchanged)", cached)
    timeline = up_to(full, now)
    rows.append((f"  ({len(timeline.events)} events)", float("nan")))
    timed("to_frames", lambda: to_frames([timeline]))
    path = timed("trajectory (all scales)", lambda: trajectory([timeline]))
    timed(
        "headline grades at now (ASTCT CRS, ICANS)",
        lambda: grade_timelines([timeline], at=now, scales=["astct2019", ICANS_SCALE]),
    )
    timed("panels: grades on every scale", lambda: grade_timelines([timeline], at=now))
    timed("panels: recommend", lambda: recommend(timeline, now, with_regimen=False))
    timed("panels: HLH screens", lambda: screen_timelines([timeline], now))
    timed(
        "panels: kinetics + cytokine profile",
        lambda: cytokine_profile(timeline, kinetics(timeline, now).at),
    )
    if timeline.patient.therapy.kind == "blinatumomab":
        timed("panels: blinatumomab status", lambda: blinatumomab_status(timeline, now))
    timed("patient_panels (dashboard)", lambda: _panels.patient_panels(timeline, at=now))
    timed(
        "chart specs (timeline + cytokines)",
        lambda: (_charts.timeline_chart(timeline, path), _charts.cytokine_chart(timeline)),
    )

    timed("page context, engines one by one (before 0024)", lambda: _straightforward(timeline, now))
    timed("page context (dashboard)", lambda: _pages.patient_data(timeline, now))
    page = client.get(f"/ward/patients/{patient_id}")  # warm the template cache
    assert page.status_code == 200, page.text[:500]
    state = _app_state(client)

    def cold() -> Any:
        state.timelines = TimelineCache()  # as the first view of the patient
        return client.get(page.url)

    timed("GET /ward/patients/{id} (TestClient, cache cold)", cold)
    timed("GET /ward/patients/{id} (TestClient, cache warm)", lambda: client.get(page.url))
    rows.append(("  of which template rendering", _render_ms(lambda: client.get(page.url))))
    return rows


def _ward_rows(
    client: TestClient, store: Store, timelines: list[Timeline], now: datetime, repeat: int
) -> list[tuple[str, float]]:
    def load_all() -> list[Timeline | None]:
        with store.transaction() as session:
            return [load_timeline(session, t.patient.id) for t in timelines]

    n = len(timelines)
    rows = [(f"ward: load {n} timelines from the store", _median_ms(load_all, repeat)[0])]

    def straightforward() -> None:
        # The ward's engine calls before decision 0024: two grading passes, the screens, the
        # ICE gaps, and a blinatumomab status (with its own trajectory) per patient.
        current = [up_to(t, now) for t in timelines]
        scales = ["astct2019", ICANS_SCALE]
        grade_timelines(current, at=now, scales=scales)
        grade_timelines(current, at=now - timedelta(hours=24), scales=scales)
        screen_timelines(current, now)
        assessment_gaps(current)
        for timeline in current:
            if timeline.patient.therapy.kind == "blinatumomab":
                blinatumomab_status(timeline, now)

    rows.append(
        (
            f"ward: engines one by one ({n} patients, before 0024)",
            _median_ms(straightforward, repeat)[0],
        )
    )
    rows.append(
        (
            f"ward: ward_rows ({n} patients, from Timelines)",
            _median_ms(lambda: ward_rows(timelines, now), repeat)[0],
        )
    )
    if ward_rows_of is not None:
        rows += _cached_ward_rows(store, timelines, now, repeat)
    state = _app_state(client)

    def cold() -> Any:
        state.timelines = TimelineCache()
        return client.get("/ward")

    rows.append((f"GET /ward, {n} patients (TestClient, cache cold)", _median_ms(cold, repeat)[0]))
    client.get("/ward")  # fills the dashboard's cache
    ms, page = _median_ms(lambda: client.get("/ward"), repeat)
    assert page.status_code == 200
    rows.append((f"GET /ward, {n} patients (TestClient, cache warm)", ms))
    return rows


def _cached_ward_rows(
    store: Store, timelines: list[Timeline], now: datetime, repeat: int
) -> list[tuple[str, float]]:
    """The route's path (decision 0068): records through the cache, then ``ward_rows_of``."""
    n = len(timelines)
    ids = [t.patient.id for t in timelines]

    def read(cache: TimelineCache) -> list[Any]:
        with store.transaction() as session:
            found = cached_patients(cache, session, ids, timeline_kinds=TIMELINE_KINDS)
        return [_ward_record(cache, patient) for patient in found]

    warm = TimelineCache()
    records = read(warm)
    # The route's memo of the ward's frames (decision 0078), where the code has it.
    memo: dict[str, Any] = {"memo": WardMemo()} if WardMemo is not None else {}
    ward_rows_of(records, now, **memo)  # the results kept for this version
    first, _ = _median_ms(lambda: ward_rows_of(read(TimelineCache()), now), repeat)
    reading, _ = _median_ms(lambda: read(warm), repeat)
    kept, _ = _median_ms(lambda: ward_rows_of(records, now, **memo), repeat)
    return [
        (f"ward: read {n} records through the cache (unchanged)", reading),
        (f"ward: ward_rows_of ({n} patients, results kept: a refresh)", kept),
        *_engine_costs(records, now, repeat),
        ("ward: read + ward_rows_of, nothing cached (first refresh)", first),
    ]


def _screens(patients: Any, events: Any, moments: Any) -> Any:
    from crswatch.hlh import screen_frame, screen_results

    return screen_results(screen_frame(patients, events, moments))


def _screen_statuses(patients: Any, events: Any, moments: Any) -> Any:
    """The ward's screens when nothing is kept (decision 0073): the statuses as columns."""
    from crswatch.hlh import screen_frame, screen_statuses

    return screen_statuses(screen_frame(patients, events, moments))


def _has_statuses() -> bool:
    import crswatch.hlh

    return hasattr(crswatch.hlh, "screen_statuses")


def _engine_costs(records: list[Any], now: datetime, repeat: int) -> list[tuple[str, float]]:
    """The engine calls a ward refresh makes, for the whole ward and for its first patient
    alone: what is a fixed cost per call and what grows with the patients."""
    from crswatch.web._ward import _AT, TREND_WINDOW, _graded

    at = polars.lit(now).cast(_AT)
    rows: list[tuple[str, float]] = []
    for label, chosen in (("ward", records), ("1 patient", records[:1])):
        patients = polars.concat([r.frames[0] for r in chosen])
        events = polars.concat([r.frames[1] for r in chosen]).filter(polars.col("time") <= at)
        moments = patients.select("patient_id", at.alias("at"))

        times = [now, now - TREND_WINDOW]
        scales = ["astct2019", ICANS_SCALE]
        if "prepared" in inspect.signature(_graded).parameters:  # decision 0078
            from crswatch.state import StateParameters, prepare_state

            def state_and_grades(
                patients: Any = patients, events: Any = events, times: Any = times
            ) -> Any:
                prepared = prepare_state(patients, events, StateParameters())
                return _graded(prepared, patients, times, ["astct2019", ICANS_SCALE])

            kept = prepare_state(patients, events, StateParameters())
            graded: list[tuple[str, Callable[[], Any]]] = [
                ("state + grades now and 24 h before", state_and_grades),
                (
                    "  the same, the record prepared (kept: 0078)",
                    partial(_graded, kept, patients, times, scales),
                ),
            ]
        else:
            graded = [
                (
                    "state + grades now and 24 h before",
                    partial(_graded, patients, events, times, scales),
                )
            ]
        steps: tuple[tuple[str, Callable[[], Any]], ...] = (
            *graded,
            ("HLH screens now", partial(_screens, patients, events, moments)),
            *(
                [("HLH screens now, statuses only (0073)",
                  partial(_screen_statuses, patients, events, moments))]
                if _has_statuses() else []
            ),
            ("ICE gaps (a trajectory; kept)", partial(assessment_gaps, [],
                                                      frames=(patients, events))),
        )  # fmt: skip
        rows += [(f"  {label}: {name}", _median_ms(step, repeat)[0]) for name, step in steps]
    return rows


def _ward_refresh(
    client: TestClient,
    timer: Any,
    store: Store,
    timelines: list[Timeline],
    now: datetime,
    requests: int,
    writes: int,
) -> list[tuple[str, int, list[float], float | None]]:
    """Server milliseconds of ``GET /ward/rows``: rendered (200), not modified (304) and
    rendered after a write to one patient (the demo ward's first CAR T patient)."""
    n = len(timelines)
    (patient,) = [t.patient for t in timelines if t.patient.id == "ward-01"]
    hx = {"HX-Request": "true"}
    first = client.get("/ward/rows", headers=hx)  # fills the timeline cache
    assert first.status_code == 200, first.text[:500]
    tag = first.headers["etag"]
    timer.take()
    for _ in range(requests):
        assert client.get("/ward/rows", headers=hx).status_code == 200
    rendered = [ms for code, path, ms in timer.take() if path == "/ward/rows" and code == 200]
    for _ in range(requests):
        reply = client.get("/ward/rows", headers={**hx, "If-None-Match": tag})
        assert reply.status_code == 304, reply.status_code
    unchanged = [ms for code, path, ms in timer.take() if path == "/ward/rows" and code == 304]
    after_write: list[float] = []
    for number in range(writes):
        _write_one(store, patient, now - timedelta(minutes=1, seconds=number + 1), number)
        timer.take()
        assert client.get("/ward/rows", headers=hx).status_code == 200
        after_write += [ms for code, path, ms in timer.take() if path == "/ward/rows"]
    return [
        (f"GET /ward/rows, {n} patients, rendered", 200, rendered, 100.0),
        (f"GET /ward/rows, {n} patients, not modified", 304, unchanged, 100.0),
        (f"GET /ward/rows, {n}, rendered after a write", 200, after_write, None),
    ]


def _write_one(store: Store, patient: Any, time: datetime, number: int) -> None:
    """One new temperature of ``patient`` (a bedside entry's write), stored at ``time``."""
    event = Event(time, "temperature", 37.0 + number / 100, "Cel", id=f"bench-write-{number}")
    with store.transaction() as session:
        ingest_timelines(session, [Timeline(patient, (event,))])


def _print_refresh(title: str, rows: list[tuple[str, int, list[float], float | None]]) -> None:
    print(f"\n{title}")
    print(f"| {'request':<42} | {'status':>6} | {'n':>4} | {'server ms p50 / p95 / p99':>24} "
          f"| {'p95 target ms':<14} |")  # fmt: skip
    print(f"|{'-' * 44}|{'-' * 8}|{'-' * 6}|{'-' * 26}|{'-' * 16}|")
    for name, status, values, target in rows:
        verdict = "-"
        if target is not None:
            met = bench_api._percentile(values, 95) < target
            verdict = f"{'met' if met else 'missed'} (< {target:g})"
        print(
            f"| {name:<42} | {status:>6} | {len(values):>4} | "
            f"{bench_api.percentiles(values)} | {verdict:<14} |"
        )


def _print(title: str, rows: list[tuple[str, float]]) -> None:
    print(f"\n{title}")
    width = max(len(name) for name, _ in rows)
    for name, ms in rows:
        figure = "" if ms != ms else f"{ms:10.1f} ms"
        print(f"  {name:<{width}}  {figure}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--vitals-every-minutes", type=int, default=5)
    parser.add_argument(
        "--requests", type=int, default=100, help="ward refreshes timed on each path (p95)"
    )
    parser.add_argument(
        "--ward-only",
        action="store_true",
        help="only the demo ward's page and refresh (no patient pages, no long record)",
    )
    parser.add_argument(
        "--writes", type=int, default=10, help="ward refreshes timed after a write (one each)"
    )
    args = parser.parse_args()
    print(f"load average before: {bench_api.load_average()}")

    ward = demo_ward(clock=CLOCK)
    biggest = max(ward, key=lambda t: len(t.events)).patient.id
    cases: list[tuple[list[Timeline], list[str], datetime, str]] = [
        (ward, [biggest, BLINATUMOMAB], CLOCK, "demo ward")
    ]
    if not args.ward_only:
        long = _long_record(args.days, args.vitals_every_minutes)
        cases.append(([long], [long.patient.id], long.events[-1].time, f"{args.days}-day record"))
    with tempfile.TemporaryDirectory() as tmp:
        for number, (timelines, patient_ids, now, what) in enumerate(cases):
            store = Store(f"sqlite:///{Path(tmp) / f'bench-{number}.db'}")
            with store.transaction() as session:
                create_user(session, "bench", PASSWORD, "viewer")
                ingest_timelines(session, timelines)
            settings = Settings(rate_limit_per_minute=0, secure_cookies=False, dashboard_now=now)
            timer = bench_api.ServerTimer(create_app(store, settings))
            with TestClient(timer) as client:
                login = client.get("/login")
                token = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                client.post(
                    "/login",
                    data={"username": "bench", "password": PASSWORD, "csrf_token": token},
                )
                for patient_id in [] if args.ward_only else patient_ids:
                    rows = _patient_rows(client, store, patient_id, now, args.repeat)
                    _print(f"{what}: patient {patient_id} at {now.isoformat()}", rows)
                if len(timelines) > 1:
                    rows = _ward_rows(client, store, timelines, now, args.repeat)
                    _print(f"{what}: the ward page at {now.isoformat()}", rows)
                    refresh = _ward_refresh(
                        client, timer, store, timelines, now, args.requests, args.writes
                    )
                    _print_refresh(f"{what}: the 30 s refresh at {now.isoformat()}", refresh)
            store.dispose()
    print(f"\nload average after: {bench_api.load_average()}")


if __name__ == "__main__":
    main()
