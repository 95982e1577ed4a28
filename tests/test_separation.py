"""Calinski-Harabasz and Davies-Bouldin as model/metrics.py computes them (a few passes over
the rows, for every k of a sweep) equal scikit-learn's own functions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import make_blobs

from spotclust.model.metrics import separation


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
