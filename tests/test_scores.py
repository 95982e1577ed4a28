"""Scores model/metrics.py computes in a few numpy passes, because a sweep computes them many
times (Calinski-Harabasz and Davies-Bouldin for every k, adjusted Rand for every stability
pair), equal scikit-learn's own functions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import make_blobs

from spotclust.model.metrics import adjusted_rand_of, separation


def _scikit_learn(X, labels):
    return {
        "calinski_harabasz": skm.calinski_harabasz_score(X, labels),
        "davies_bouldin": skm.davies_bouldin_score(X, labels),
    }


@pytest.mark.parametrize(("dims", "k"), [(2, 2), (2, 4), (2, 10), (3, 5), (12, 7)])
def test_equal_to_scikit_learn(dims, k):
    X, labels = make_blobs(
        n_samples=4000, n_features=dims, centers=k, cluster_std=3, random_state=k
    )
    X = X * 40 + 1000  # far from the origin: sums of squares lose digits if done naively
    np.random.default_rng(dims).shuffle(labels[:1000])  # some mixing: not trivial scores
    assert separation(X, labels) == pytest.approx(_scikit_learn(X, labels), rel=1e-9)


def test_labels_with_a_gap_count_only_the_clusters_present():
    X, _ = make_blobs(n_samples=500, centers=3, random_state=1)
    labels = np.random.default_rng(1).choice([0, 2, 5], size=500)  # 1, 3, 4 empty
    assert separation(X, labels) == pytest.approx(_scikit_learn(X, labels), rel=1e-9)


def test_one_cluster_has_no_scores_and_identical_points_score_as_scikit_learn():
    X = np.ones((50, 2))
    assert separation(X, np.zeros(50, dtype=int)) == {
        "calinski_harabasz": None,
        "davies_bouldin": None,
    }
    labels = np.arange(50) % 2
    assert (
        separation(X, labels)
        == _scikit_learn(X, labels)
        == {
            "calinski_harabasz": 1.0,
            "davies_bouldin": 0.0,
        }
    )


@pytest.mark.parametrize(
    ("n", "k_a", "k_b"), [(20000, 10, 10), (3000, 2, 9), (40, 3, 3), (500, 4, 1)]
)
def test_adjusted_rand_equals_scikit_learns(n, k_a, k_b):
    rng = np.random.default_rng(n + k_a)
    a, b = rng.integers(0, k_a, n), rng.integers(0, k_b, n)
    b[: n // 2] = a[: n // 2] % k_b  # half the rows agree: neither 0 nor 1
    assert adjusted_rand_of(a, b) == pytest.approx(skm.adjusted_rand_score(a, b), rel=1e-12)


def test_adjusted_rand_of_the_same_partition_is_one_whatever_the_numbers():
    a = np.random.default_rng(3).integers(0, 5, 1000)
    assert adjusted_rand_of(a, (a + 2) % 5) == 1.0
    assert adjusted_rand_of(np.zeros(9, dtype=int), np.zeros(9, dtype=int)) == 1.0
