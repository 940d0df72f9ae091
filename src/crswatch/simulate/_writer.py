"""Simulate one patient, a stream of patients, or a whole cohort written to disk.

A cohort directory holds Parquet shards sharded by patient (``patients/part-NNNNN.parquet`` and
``events/part-NNNNN.parquet``, the layout ``crswatch.io`` reads back), the generator's intent in
``truth/part-NNNNN.parquet``, its intended CRS and ICANS grades over time in
``truth_grades/part-NNNNN.parquet`` (one row per patient and span of one grade) and
``manifest.json``.  Patients are generated one at a time and a
shard is written as soon as it is full, so memory is bounded by one shard whatever the cohort
size.  A path ending in ``.json`` gets one JSON document instead (a list of timelines; fine for
small cohorts, since it is built in memory).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq

from crswatch.io import write_path
from crswatch.simulate._manifest import CohortManifest, ShardInfo
from crswatch.simulate._patient import SimulatedPatient, moment_of, simulate_record, to_timeline
from crswatch.simulate._scenario import TherapyChoice
from crswatch.simulate._tables import event_table, patient_table
from crswatch.simulate._truth import truth_table
from crswatch.simulate._truth_grades import truth_grade_table
from crswatch.timeline import Timeline

__all__ = ["iter_cohort", "simulate_patient", "write_cohort"]

THERAPIES = ("car_t", "blinatumomab", "bispecific", "mixed")
#: Progress is reported at least this often (patients), and at the end of every shard.
PROGRESS_EVERY = 50
_SHORTEST_INTERVAL = timedelta(minutes=5)
_LONGEST_INTERVAL = timedelta(hours=24)


def _check(
    *,
    seed: int,
    therapy: str,
    vitals_every: timedelta,
    index: int | None = None,
    n: int | None = None,
) -> float:
    """Validate the common arguments; return the vital-sign interval in hours."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative integer")
    if therapy not in THERAPIES:
        raise ValueError(f"therapy={therapy!r} must be one of {', '.join(THERAPIES)}")
    if (
        not isinstance(vitals_every, timedelta)
        or not _SHORTEST_INTERVAL <= vitals_every <= _LONGEST_INTERVAL
    ):
        raise ValueError(
            f"vitals_every={vitals_every!r} must be a timedelta from 5 minutes to 24 hours"
        )
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
        raise ValueError(f"index={index!r} must be a non-negative integer")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n={n!r} must be a positive integer")
    return vitals_every / timedelta(hours=1)


def simulate_patient(
    index: int,
    *,
    seed: int,
    therapy: TherapyChoice = "mixed",
    vitals_every: timedelta = timedelta(hours=4),
) -> Timeline:
    """Patient ``index`` of the cohort drawn with ``seed``: the same whatever the cohort size.

    The timeline holds only vocabulary items in canonical units within their plausibility
    bounds, times in UTC, and no two events of one item at one time.
    """
    hours = _check(seed=seed, therapy=therapy, vitals_every=vitals_every, index=index)
    return to_timeline(simulate_record(index, seed, therapy, hours))


def iter_cohort(
    n: int,
    *,
    seed: int,
    therapy: TherapyChoice = "mixed",
    vitals_every: timedelta = timedelta(hours=4),
) -> Iterator[Timeline]:
    """Patients 0 to ``n - 1``, one at a time."""
    hours = _check(seed=seed, therapy=therapy, vitals_every=vitals_every, n=n)
    for index in range(n):
        yield to_timeline(simulate_record(index, seed, therapy, hours))


def _records(n: int, seed: int, therapy: TherapyChoice, hours: float) -> Iterator[SimulatedPatient]:
    for index in range(n):
        yield simulate_record(index, seed, therapy, hours)


def _write_shard(
    root: Path, number: int, first: int, patients: Sequence[SimulatedPatient]
) -> ShardInfo:
    name = f"part-{number:05d}.parquet"
    events = event_table(patients)
    pq.write_table(patient_table(patients), root / "patients" / name)
    pq.write_table(events, root / "events" / name)
    pq.write_table(
        truth_table([patient.truth for patient in patients], number), root / "truth" / name
    )
    spans = [(p.patient_id, moment_of(p.start_us), p.grades) for p in patients]
    pq.write_table(truth_grade_table(spans), root / "truth_grades" / name)
    return ShardInfo(
        index=number,
        patients=f"patients/{name}",
        events=f"events/{name}",
        truth=f"truth/{name}",
        first_patient=first,
        n_patients=len(patients),
        n_events=events.num_rows,
    )


def write_cohort(
    path: Path,
    n: int,
    *,
    seed: int,
    therapy: TherapyChoice = "mixed",
    vitals_every: timedelta = timedelta(hours=4),
    shard_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> CohortManifest:
    """Write ``n`` patients to ``path``: a ``.json`` file, or a directory of Parquet shards.

    A directory must be new or empty (stale shards of another cohort would be read with it).
    ``progress(k)`` is called with the number of patients finished since the last call.
    """
    path = Path(path)
    hours = _check(seed=seed, therapy=therapy, vitals_every=vitals_every, n=n)
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise ValueError(f"shard_size={shard_size!r} must be a positive integer")
    report = progress if progress is not None else _ignore
    if path.suffix.lower() == ".json":
        return _write_json(path, n, seed, therapy, vitals_every, report)

    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"path={str(path)!r} exists and is not an empty directory")
    for folder in ("patients", "events", "truth", "truth_grades"):
        (path / folder).mkdir(parents=True, exist_ok=True)
    records = _records(n, seed, therapy, hours)
    shards: list[ShardInfo] = []
    by_therapy: Counter[str] = Counter()
    pending = 0
    for number, first in enumerate(range(0, n, shard_size)):
        batch: list[SimulatedPatient] = []
        for record in records:
            batch.append(record)
            by_therapy[record.kind] += 1
            pending += 1
            if pending >= PROGRESS_EVERY:
                report(pending)
                pending = 0
            if len(batch) == min(shard_size, n - first):
                break
        shards.append(_write_shard(path, number, first, batch))
        del batch
        if pending:
            report(pending)
            pending = 0
    manifest = CohortManifest(
        path=path,
        output="parquet",
        seed=seed,
        n=n,
        therapy=therapy,
        vitals_every_seconds=vitals_every.total_seconds(),
        shard_size=shard_size,
        shards=tuple(shards),
        n_events=sum(shard.n_events for shard in shards),
        patients_by_therapy=dict(by_therapy),
    )
    manifest.write(path / "manifest.json")
    return manifest


def _ignore(_: int) -> None:
    return None


def _write_json(
    path: Path,
    n: int,
    seed: int,
    therapy: TherapyChoice,
    vitals_every: timedelta,
    report: Callable[[int], None],
) -> CohortManifest:
    by_therapy: Counter[str] = Counter()
    events = 0

    def counted() -> Iterator[Timeline]:
        nonlocal events
        for timeline in iter_cohort(n, seed=seed, therapy=therapy, vitals_every=vitals_every):
            by_therapy[timeline.patient.therapy.kind] += 1
            events += len(timeline.events)
            report(1)
            yield timeline

    write_path(counted(), path, to="json")
    return CohortManifest(
        path=path,
        output="json",
        seed=seed,
        n=n,
        therapy=therapy,
        vitals_every_seconds=vitals_every.total_seconds(),
        shard_size=None,
        shards=(),
        n_events=events,
        patients_by_therapy=dict(by_therapy),
    )
