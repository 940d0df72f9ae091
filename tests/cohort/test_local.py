"""The local engine's pool: each worker's Polars threads are its share of the cores (0071), and
its allocator has one arena (0075)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import polars as pl
import pytest

from crswatch._runtime import ALLOCATOR_VARIABLE, COHORT_ALLOCATOR
from crswatch.cohort._local import THREADS_VARIABLE, _worker_environment, threads_per_worker


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def test_each_worker_gets_an_equal_share_of_the_cores() -> None:
    cores = _cores()
    assert threads_per_worker(1) == cores
    assert threads_per_worker(2) == max(1, cores // 2)
    assert threads_per_worker(cores * 4) == 1
    assert threads_per_worker(0) == cores


def test_the_variables_are_set_for_the_pool_and_removed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    monkeypatch.delenv(ALLOCATOR_VARIABLE, raising=False)
    with _worker_environment(1):
        assert os.environ[THREADS_VARIABLE] == "1"
        assert os.environ[ALLOCATOR_VARIABLE] == COHORT_ALLOCATOR == "narenas:1"
    assert THREADS_VARIABLE not in os.environ
    assert ALLOCATOR_VARIABLE not in os.environ


def test_values_the_user_set_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_VARIABLE, "7")
    monkeypatch.setenv(ALLOCATOR_VARIABLE, "narenas:4")
    with _worker_environment(1):
        assert os.environ[THREADS_VARIABLE] == "7"
        assert os.environ[ALLOCATOR_VARIABLE] == "narenas:4"
    assert os.environ[THREADS_VARIABLE] == "7"
    assert os.environ[ALLOCATOR_VARIABLE] == "narenas:4"


def test_allocator_options_are_added_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polars puts its own decay options in the variable when it loads: they stay."""
    polars_own = "dirty_decay_ms:500,muzzy_decay_ms:1000"
    monkeypatch.setenv(ALLOCATOR_VARIABLE, polars_own)
    with _worker_environment(1):
        assert os.environ[ALLOCATOR_VARIABLE] == f"{polars_own},narenas:1"
    assert os.environ[ALLOCATOR_VARIABLE] == polars_own


def test_a_spawned_worker_sizes_its_polars_pool_from_the_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    context = multiprocessing.get_context("spawn")
    with _worker_environment(1), ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert pool.submit(pl.thread_pool_size).result() == 1


def test_a_spawned_worker_starts_with_the_allocator_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ALLOCATOR_VARIABLE, raising=False)
    context = multiprocessing.get_context("spawn")
    with _worker_environment(1), ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        options = pool.submit(os.getenv, ALLOCATOR_VARIABLE).result()
    # The worker's Polars put its decay options first when it loaded.
    assert options is not None and options.endswith(COHORT_ALLOCATOR)
