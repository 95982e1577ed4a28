"""Both cores for the fits (model/parallel.py): k-means restarts, the k values of a sweep,
stability pairs and gap sets run side by side, and give the same results on one worker."""

from __future__ import annotations

import shutil
import threading
import time

import duckdb
import numpy as np
import pytest
from threadpoolctl import threadpool_info

import spotclust
from spotclust.model.config import ClusterConfig
from spotclust.model.kmeans import fit_all, lloyd_kmeans, restart_seeds
from spotclust.model.parallel import map_fits, worker_count


@pytest.fixture
def full_copy(tmp_path, full_db):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(full_db, db)
    return db


def _sweep_rows(db, workers, monkeypatch):
    monkeypatch.setenv("SPOTCLUST_WORKERS", str(workers))
    result = spotclust.sweep(
        "1..6", db, n_init=2, stability_pairs=2, gap_refs=2, score_silhouette=True
    )
    return [{key: v for key, v in row.items() if key != "seconds"} for row in result.rows]


def test_sweep_gives_the_same_rows_on_one_or_two_workers(full_copy, monkeypatch):
    two = _sweep_rows(full_copy, 2, monkeypatch)
    one = _sweep_rows(full_copy, 1, monkeypatch)
    assert one == two
    assert [r["k"] for r in two] == [1, 2, 3, 4, 5, 6]
    assert all(r["stability_mean"] is not None for r in two[1:])
    assert all(r["gap"] is not None for r in two)


def _assignments(db, run_id):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT cluster FROM assignments WHERE run_id = ? ORDER BY row_number", [run_id]
        ).fetchnumpy()["cluster"]


def test_cluster_restarts_give_the_same_run_on_one_or_two_workers(full_copy, monkeypatch):
    monkeypatch.setenv("SPOTCLUST_WORKERS", "2")
    two = spotclust.cluster(4, full_copy, n_init=4, silhouette_sample=1000)
    monkeypatch.setenv("SPOTCLUST_WORKERS", "1")
    one = spotclust.cluster(4, full_copy, n_init=4, silhouette_sample=1000)
    assert one.metrics["inertia"] == two.metrics["inertia"]
    assert np.array_equal(_assignments(full_copy, one.run_id), _assignments(full_copy, two.run_id))


def test_the_best_restart_is_the_lowest_inertia_of_the_seeded_restarts():
    rng = np.random.default_rng(3)
    space = np.vstack([rng.normal(c, 1.0, size=(400, 2)) for c in (0, 4, 8, 12)])
    config = ClusterConfig(k=5, n_init=6, seed=11)
    best = fit_all(space, config, 5)
    restarts = [lloyd_kmeans(space, 5, s) for s in restart_seeds(11, 6)]
    inertias = [fit.inertia_ for fit in restarts]
    assert best.inertia_ == min(inertias)
    first = inertias.index(min(inertias))
    assert np.array_equal(best.labels_, restarts[first].labels_)
    assert len(set(restart_seeds(11, 6))) == 6
    assert restart_seeds(11, 6) == restart_seeds(11, 6)


def test_fits_run_side_by_side_each_on_one_openmp_thread():
    if worker_count() < 2:
        pytest.skip("one core: nothing runs side by side")
    both_running = threading.Barrier(2, timeout=20)  # broken unless two tasks overlap

    def task(_):
        both_running.wait()
        openmp = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "openmp"]
        return threading.get_ident(), openmp

    results = map_fits(task, range(2), workers=2)
    assert len({ident for ident, _ in results}) == 2
    assert all(threads == [1] * len(threads) for _, threads in results)


def test_a_failed_fit_raises_in_the_caller_and_the_rest_never_start():
    started = []

    def task(i):
        started.append(i)
        if i == 0:
            raise ValueError("fit 0 failed")
        time.sleep(0.05)
        return i

    with pytest.raises(ValueError, match="fit 0 failed"):
        map_fits(task, range(50), workers=2)
    assert len(started) < 50


def test_workers_follow_the_setting(monkeypatch):
    monkeypatch.setenv("SPOTCLUST_WORKERS", "3")
    assert worker_count() == 3
    monkeypatch.setenv("SPOTCLUST_WORKERS", "nonsense")
    assert worker_count() >= 1
