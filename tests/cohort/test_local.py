"""The local engine's pool: each worker's Polars threads are its share of the cores (0071)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import polars as pl
import pytest

from crswatch.cohort._local import THREADS_VARIABLE, _worker_threads, threads_per_worker


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def test_each_worker_gets_an_equal_share_of_the_cores() -> None:
    cores = _cores()
    assert threads_per_worker(1) == cores
    assert threads_per_worker(2) == max(1, cores // 2)
    assert threads_per_worker(cores * 4) == 1
    assert threads_per_worker(0) == cores


def test_the_variable_is_set_for_the_pool_and_removed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    with _worker_threads(1):
        assert os.environ[THREADS_VARIABLE] == "1"
    assert THREADS_VARIABLE not in os.environ


def test_a_value_the_user_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_VARIABLE, "7")
    with _worker_threads(1):
        assert os.environ[THREADS_VARIABLE] == "7"
    assert os.environ[THREADS_VARIABLE] == "7"


def test_a_spawned_worker_sizes_its_polars_pool_from_the_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    context = multiprocessing.get_context("spawn")
    with _worker_threads(1), ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert pool.submit(pl.thread_pool_size).result() == 1
