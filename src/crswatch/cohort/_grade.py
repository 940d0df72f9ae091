"""``grade_cohort``: every CRS and ICANS scale for every patient of a cohort, resumable.

The run is described by its identity (source, scales, state parameters); an existing output with
the same identity is resumed (done shards are skipped), another one is refused unless
``overwrite``.  See docs/decisions/0019-cohort-grade.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from crswatch import __version__
from crswatch.cohort._output import (
    MANIFEST,
    Manifest,
    prepare_output,
    remove_stale_parts,
    shard_complete,
    shard_key,
    write_json_atomic,
)
from crswatch.cohort._schema import COHORT_FORMAT
from crswatch.cohort._shard import ShardOutcome
from crswatch.cohort._sources import DEFAULT_SHARD_SIZE, plan_shards
from crswatch.scales import select_scales
from crswatch.state import StateParameters

__all__ = ["ENGINES", "CohortSummary", "Engine", "grade_cohort"]

Engine = Literal["local", "spark"]
ENGINES: tuple[str, ...] = ("local", "spark")


@dataclass(slots=True)
class CohortSummary:
    """What a run did: shards graded now and skipped (done before), counts, rejections."""

    out: Path
    engine: str
    shards: int
    skipped: int
    graded: list[ShardOutcome] = field(default_factory=list)

    @property
    def patients(self) -> int:
        return sum(outcome.patients for outcome in self.graded)

    @property
    def events(self) -> int:
        return sum(outcome.events for outcome in self.graded)

    @property
    def rejected(self) -> list[ShardOutcome]:
        """The shards graded now whose input had rejected records (their valid ones are graded)."""
        return [outcome for outcome in self.graded if outcome.rejected]


def grade_cohort(
    path: str | Path,
    out: str | Path,
    *,
    scales: Sequence[str] | None = None,
    params: StateParameters | None = None,
    engine: Engine = "local",
    workers: int = 1,
    overwrite: bool = False,
    shard_size: int = DEFAULT_SHARD_SIZE,
    on_plan: Callable[[int, int], None] | None = None,
    on_shard: Callable[[ShardOutcome], None] | None = None,
) -> CohortSummary:
    """Grade the cohort at ``path`` into the ``crswatch.cohort/1`` directory ``out``.

    ``scales`` are selectors (default: every CRS scale and ICANS); ``shard_size`` is the size of
    the pseudo-shards JSON input is cut into.  ``on_plan(total, pending)`` is called once the
    shards are known, ``on_shard`` after each shard is written and marked done.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} must be one of {', '.join(ENGINES)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r} must be a positive integer")
    source_path, out = Path(path), Path(out)
    params = params or StateParameters()
    selectors = sorted({scale.key for scale in select_scales(scales)})
    identity: Manifest = {
        "format": COHORT_FORMAT,
        "source": str(source_path.resolve()),
        "scales": selectors,
        "params": params.to_dict(),
    }
    # The input first: a bad input must not cost an existing output (--overwrite deletes it).
    sources = plan_shards(source_path, shard_size=shard_size)
    existing = prepare_output(out, identity, overwrite=overwrite)
    done_before = dict((existing or {}).get("shards", {}))
    manifest: Manifest = {
        **identity,
        "crswatch_version": __version__,
        "engine": engine,
        "shards": {shard_key(source.shard): {"done": False} for source in sources},
    }
    pending = []
    for source in sources:
        key = shard_key(source.shard)
        before = done_before.get(key)
        if isinstance(before, dict) and before.get("done") and shard_complete(out, source.shard):
            manifest["shards"][key] = before
        else:
            pending.append(source)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out, {source.shard for source in sources})
    write_json_atomic(out / MANIFEST, manifest)
    summary = CohortSummary(out, engine, len(sources), len(sources) - len(pending))
    if on_plan is not None:
        on_plan(len(sources), len(pending))

    def done(outcome: ShardOutcome) -> None:
        manifest["shards"][shard_key(outcome.shard)] = outcome.to_manifest()
        write_json_atomic(out / MANIFEST, manifest)
        summary.graded.append(outcome)
        if on_shard is not None:
            on_shard(outcome)

    run: Any
    if engine == "spark":
        from crswatch.cohort._spark import run_spark as run
    else:
        from crswatch.cohort._local import run_local as run
    run(pending, out, scales=selectors, params=params, workers=workers, on_done=done)
    return summary
