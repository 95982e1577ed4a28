"""k-means as spotclust fits it (model/kmeans.py, model/_kmeans_kernels.py): each restart is
the fit scikit-learn's KMeans(n_init=1, random_state=seed) makes, compiled."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from threadpoolctl import threadpool_limits

from spotclust.model.kmeans import Rows, lloyd_kmeans


def _sklearn(X, k, seed):
    with threadpool_limits(1):
        return KMeans(k, n_init=1, random_state=seed).fit(X)


def _assert_same_fit(X, k, seed):
    ours, theirs = lloyd_kmeans(X, k, seed), _sklearn(X, k, seed)
    assert np.array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-9)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("k", [1, 2, 4, 7, 10])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_restart_is_scikit_learns_fit_on_the_shipped_datas_shape(k, seed):
    # Overlapping blobs in 2-D, the shape of the tracks' PCA map (k-means runs there)
    X, _ = make_blobs(n_samples=6000, centers=5, cluster_std=2.5, random_state=seed)
    _assert_same_fit(X, k, seed)


@pytest.mark.parametrize("dims", [3, 12])
def test_more_dimensions_give_the_same_fit_as_scikit_learn(dims):
    X, _ = make_blobs(n_samples=3000, n_features=dims, centers=6, random_state=dims)
    _assert_same_fit(X, 6, 4)


def test_far_from_the_origin_and_unsorted_rows():
    X, _ = make_blobs(n_samples=2000, centers=4, random_state=5)
    X = X[np.random.default_rng(5).permutation(len(X))] + [1e6, -3e5]
    _assert_same_fit(X, 4, 9)


def test_more_clusters_than_distinct_points_relocates_empty_clusters():
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 0.0]]), 50, axis=0)
    fit = lloyd_kmeans(X, 5, 0)  # scikit-learn warns and relocates: never an empty cluster
    assert set(fit.labels_.tolist()) <= set(range(5))
    assert fit.inertia_ == pytest.approx(0.0, abs=1e-12)
    assert fit.cluster_centers_.shape == (5, 2)


def test_restarts_sharing_prepared_rows_are_each_scikit_learns_fit():
    # A sweep prepares the rows once (Rows) and fits every restart and k from them
    X, _ = make_blobs(n_samples=4000, centers=5, cluster_std=2.5, random_state=7)
    rows = Rows.of(X)
    for k, seed in [(3, 11), (5, 12), (3, 11), (8, 13)]:
        ours, theirs = lloyd_kmeans(rows, k, seed), _sklearn(X, k, seed)
        assert np.array_equal(ours.labels_, theirs.labels_)
        assert ours.n_iter_ == theirs.n_iter_
