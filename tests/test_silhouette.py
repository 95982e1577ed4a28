"""The exact and sampled silhouette against scikit-learn, on real data (no mocks)."""

import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import make_blobs

from spotclust.silhouette import sampled_silhouette, silhouette_samples, silhouette_score

ATOL = 1e-9


def assert_matches_sklearn(X, labels, X_ref=None):
    """Score and per-sample values agree with scikit-learn to ATOL."""
    X_ref = X if X_ref is None else X_ref
    ref_samples = metrics.silhouette_samples(X_ref, labels)
    ours_samples = silhouette_samples(X, labels)
    assert ours_samples.shape == ref_samples.shape
    np.testing.assert_allclose(ours_samples, ref_samples, rtol=0, atol=ATOL)
    score = silhouette_score(X, labels)
    assert isinstance(score, float)
    assert abs(score - metrics.silhouette_score(X_ref, labels)) <= ATOL
    return score


def test_small_random_three_clusters():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    labels = rng.integers(0, 3, size=60)
    assert_matches_sklearn(X, labels)


@pytest.mark.parametrize(("n_features", "centers"), [(2, 4), (12, 8)])
def test_medium_blobs(n_features, centers):
    # 5,000 points span several 1024-point tiles, so clusters cross tile edges.
    X, labels = make_blobs(
        n_samples=5000, n_features=n_features, centers=centers, cluster_std=2.5, random_state=3
    )
    assert_matches_sklearn(X, labels)


@pytest.mark.parametrize("n_features", [1, 3])
def test_other_dimensions(n_features):
    X, labels = make_blobs(n_samples=1500, n_features=n_features, centers=5, random_state=4)
    assert_matches_sklearn(X, labels)


def test_many_small_clusters_and_unsorted_labels():
    rng = np.random.default_rng(5)
    X = rng.uniform(-50, 50, size=(3000, 2))
    labels = rng.integers(0, 60, size=3000)  # many short blocks within one tile
    assert_matches_sklearn(X, labels)


def test_two_clusters():
    X, labels = make_blobs(n_samples=800, n_features=2, centers=2, random_state=6)
    assert_matches_sklearn(X, labels)


def test_singleton_clusters_get_zero():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 2))
    labels = np.repeat([0, 1, 2], [18, 20, 2])
    labels[5] = 3  # singleton
    labels[30] = 4  # singleton
    assert_matches_sklearn(X, labels)
    s = silhouette_samples(X, labels)
    assert s[5] == 0.0
    assert s[30] == 0.0


def test_duplicate_points_and_identical_cluster():
    # Small-integer coordinates: scikit-learn's dot-product distances are exact here,
    # so duplicates really are at distance 0 on both sides.
    rng = np.random.default_rng(8)
    X = rng.integers(0, 4, size=(300, 2)).astype(np.float64)
    labels = rng.integers(0, 3, size=300)
    X[labels == 2] = [7.0, -3.0]  # a whole cluster of identical points
    assert_matches_sklearn(X, labels)
    assert np.all(silhouette_samples(X, labels)[labels == 2] == 1.0)


def test_all_points_identical_gives_zero():
    # a == b == 0 for every sample: 0/0, which scikit-learn maps to 0.
    X = np.full((10, 3), 2.5)
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    assert_matches_sklearn(X, labels)
    assert silhouette_score(X, labels) == 0.0


def test_non_contiguous_and_negative_labels():
    X, labels = make_blobs(n_samples=700, n_features=2, centers=4, random_state=9)
    mapped = np.array([-7, 3, 1000, -1])[labels]
    assert_matches_sklearn(X, mapped)
    assert silhouette_score(X, mapped) == pytest.approx(silhouette_score(X, labels), abs=1e-15)
    assert_matches_sklearn(X, np.array(["rock", "jazz", "pop", "folk"])[labels])


def test_float32_input():
    X, labels = make_blobs(n_samples=2000, n_features=2, centers=4, random_state=10)
    X32 = X.astype(np.float32)
    # Exact for the float32 points themselves (they are exactly representable in
    # float64), to 1e-9...
    assert_matches_sklearn(X32, labels, X_ref=X32.astype(np.float64))
    # ...and scikit-learn, which accumulates float32 input in float32, is within
    # float32 rounding of that.
    assert abs(silhouette_score(X32, labels) - metrics.silhouette_score(X32, labels)) < 1e-5


def test_integer_and_list_input():
    X = [[0, 0], [0, 1], [1, 0], [9, 9], [9, 8], [8, 9], [4, 4]]
    labels = [0, 0, 0, 1, 1, 1, 2]
    assert_matches_sklearn(np.asarray(X), labels)
    assert silhouette_score(X, labels) == silhouette_score(np.asarray(X, dtype=float), labels)


def test_single_label_raises():
    X = np.random.default_rng(11).normal(size=(20, 2))
    with pytest.raises(ValueError, match="Number of labels is 1"):
        silhouette_score(X, np.zeros(20, dtype=int))


def test_one_label_per_sample_raises():
    X = np.random.default_rng(12).normal(size=(5, 2))
    with pytest.raises(ValueError, match="Number of labels is 5"):
        silhouette_score(X, np.arange(5))
    with pytest.raises(ValueError, match="Number of labels is 5"):
        sampled_silhouette(X, np.arange(5), sample_size=3, seed=0)


def test_bad_inputs_raise():
    X = np.random.default_rng(13).normal(size=(6, 2))
    labels = np.array([0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="inconsistent"):
        silhouette_score(X, labels[:5])
    with pytest.raises(ValueError, match="2-D"):
        silhouette_score(X[:, 0], labels)
    X_nan = X.copy()
    X_nan[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        silhouette_score(X_nan, labels)
    with pytest.raises(ValueError, match="sample_size"):
        sampled_silhouette(X, labels, sample_size=1, seed=0)


@pytest.fixture(scope="module")
def medium():
    X, labels = make_blobs(
        n_samples=4000, n_features=2, centers=4, cluster_std=3.0, random_state=14
    )
    return X, labels, silhouette_score(X, labels)


def test_sampled_with_all_points_is_exact(medium):
    X, labels, exact = medium
    for size in (len(labels), len(labels) + 100):
        est = sampled_silhouette(X, labels, sample_size=size, seed=0)
        assert abs(est.estimate - exact) <= 1e-12
        assert est.ci_low == est.ci_high == est.estimate


def test_sampled_ci_contains_exact(medium):
    X, labels, exact = medium
    est = sampled_silhouette(X, labels, sample_size=400, seed=123)
    estimate, low, high = est  # plain 3-tuple unpacking works
    assert low < estimate < high
    assert low <= exact <= high
    assert high - low < 0.2
    # Same seed, same answer.
    assert sampled_silhouette(X, labels, sample_size=400, seed=123) == est


def test_sampled_points_are_exact_against_all_points(medium):
    # Each drawn point's s(i) is measured against all n points, so the estimate is the
    # mean of the exact per-sample values at the drawn indices (drawn as documented).
    X, labels, _ = medium
    exact_samples = silhouette_samples(X, labels)
    picked = np.random.default_rng(77).choice(len(labels), size=250, replace=False)
    est = sampled_silhouette(X, labels, sample_size=250, seed=77)
    assert abs(est.estimate - exact_samples[picked].mean()) <= 1e-12
