"""The exact and sampled silhouette against scikit-learn, on real data (no mocks)."""

import numpy as np
import pytest
from numba import njit
from sklearn import metrics
from sklearn.datasets import make_blobs

from spotclust.model import _silhouette_kernels as _kernels
from spotclust.model import silhouette as _sil
from spotclust.model.silhouette import sampled_silhouette, silhouette_samples, silhouette_score

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


# --------------------------------------------------------------------------- pruning
# silhouette_samples only computes the mean distance to the clusters that can still
# attain b (bounds from cell centroids and radii). These tests pin the cases where a
# wrong bound or a missing margin would show: ties, overlap, many clusters, tiny and
# far clusters, and distances at the edges of the float32 range of the square root.


def brute_silhouette(X, labels):
    """Silhouette from the full distance matrix, each distance as sqrt(sum of squares)."""
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    dist = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1))
    names, codes = np.unique(labels, return_inverse=True)
    sums = np.stack([dist[:, codes == c].sum(axis=1) for c in range(len(names))], axis=1)
    counts = np.bincount(codes)
    rows = np.arange(len(X))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[rows, codes] / (counts[codes] - 1)
        means = sums / counts
        means[rows, codes] = np.inf
        b = means.min(axis=1)
        s = (b - a) / np.maximum(a, b)
    s[counts[codes] == 1] = 0.0
    return np.nan_to_num(s)


def uses_pruning(X, labels):
    """True if silhouette_samples takes the pruned-tile path for this input."""
    prep = _sil._prepare(X, labels)
    need = _sil._need(prep, np.arange(prep.lab.shape[0]))  # every distinct point
    return _sil._plan(prep, need, 2) is not None


def test_both_paths_are_exercised():
    X, labels = make_blobs(n_samples=3000, centers=8, cluster_std=0.6, random_state=20)
    assert uses_pruning(X, labels)
    assert_matches_sklearn(X, labels)
    X2, labels2 = make_blobs(n_samples=1500, centers=2, random_state=21)
    assert not uses_pruning(X2, labels2)  # k = 2: nothing to prune


def mirror_data():
    """Cluster 0 lies on the mirror axis between clusters 1 and 2, which are mirror
    images: each point of cluster 0 is exactly as far (on average) from 1 as from 2."""
    rng = np.random.default_rng(22)
    right = rng.normal(size=(300, 2)) + [6.0, 0.0]
    left = right * [-1.0, 1.0]
    middle = np.column_stack([np.zeros(80), rng.normal(size=80)])
    far = rng.normal(size=(200, 2)) + [0.0, 40.0]  # makes pruning worth it
    X = np.vstack([middle, left, right, far])
    return X, np.repeat([0, 1, 2, 3], [80, 300, 300, 200])


def test_exact_tie_between_two_clusters():
    X, labels = mirror_data()
    assert uses_pruning(X, labels)
    prep = _sil._prepare(X, labels)
    need = _sil._need(prep, np.arange(prep.lab.shape[0]))
    in_middle = prep.lab == 0
    assert need[in_middle][:, [1, 2]].all()  # both tied clusters stay candidates
    assert not need[in_middle][:, 3].any()  # the far one is pruned
    assert_matches_sklearn(X, labels)


def test_ring_of_equally_distant_clusters():
    # Six congruent clusters on a ring around a central one: six-way ties.
    rng = np.random.default_rng(23)
    base = rng.normal(size=(150, 2)) * 0.4
    parts = [rng.normal(size=(60, 2)) * 0.2]
    for angle in np.arange(6) * np.pi / 3:
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        parts.append(base @ rot.T + 3.0 * np.array([np.cos(angle), np.sin(angle)]))
    X = np.vstack(parts)
    labels = np.repeat(np.arange(7), [60] + [150] * 6)
    assert_matches_sklearn(X, labels)


@pytest.mark.parametrize("k", [3, 12])
def test_heavily_overlapping_clusters(k):
    # Same centre, different spreads: the bounds prune little or nothing.
    rng = np.random.default_rng(24 + k)
    labels = rng.integers(0, k, size=2500)
    X = rng.normal(size=(2500, 2)) * (1.0 + 0.2 * labels[:, None])
    assert_matches_sklearn(X, labels)


def test_k12_kmeans_like_real_use():
    # k-means cells of one elongated 2-D cloud, like the PCA projection of the tracks.
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(26)
    X = rng.normal(size=(6000, 2)) * [3.0, 1.0]
    X[:1500] += [2.0, 4.0]  # a second, overlapping lobe
    labels = KMeans(12, n_init=1, random_state=0).fit(X).labels_
    assert uses_pruning(X, labels)
    assert_matches_sklearn(X, labels)


def test_far_cluster_tiny_clusters_and_singletons():
    rng = np.random.default_rng(27)
    X, labels = make_blobs(n_samples=2000, centers=5, cluster_std=1.0, random_state=27)
    extra = np.array([[1e4, 1e4], [1e4 + 1, 1e4], [1e4, 1e4 + 2]])  # a far, tiny cluster
    pair = X[:2] + 0.01  # a two-point cluster sitting inside cluster labels[0]
    lone = np.array([[50.0, -50.0]])  # a singleton
    X = np.vstack([X, extra, pair, lone, rng.normal(size=(1, 2))])
    labels = np.concatenate([labels, [5, 5, 5, 6, 6, 7, 8]])
    s = silhouette_samples(X, labels)
    assert s[-2] == 0.0 and s[-1] == 0.0  # singleton clusters
    np.testing.assert_allclose(s, brute_silhouette(X, labels), rtol=0, atol=ATOL)
    # scikit-learn's dot-product distances lose ~1e-10 next to coordinates of 1e4.
    np.testing.assert_allclose(s, metrics.silhouette_samples(X, labels), rtol=0, atol=1e-8)


@pytest.mark.parametrize("data", ["blobs", "mirror"])
def test_pruned_candidates_always_hold_the_minimum(data):
    # Directly: for every point, every cluster with the smallest mean distance (from
    # the full distance matrix; ties within 1e-12 included) is among the candidates.
    if data == "blobs":
        X, labels = make_blobs(n_samples=2500, centers=10, cluster_std=1.5, random_state=28)
    else:
        X, labels = mirror_data()
    prep = _sil._prepare(X, labels)
    need = _sil._need(prep, np.arange(prep.lab.shape[0]))
    coords = prep.coords.T
    dist = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(axis=-1))
    k = len(prep.counts)
    means = np.stack([dist[:, prep.lab == c].mean(axis=1) for c in range(k)], axis=1)
    means[np.arange(len(means)), prep.lab] = np.inf
    is_min = means <= means.min(axis=1, keepdims=True) * (1 + 1e-12)
    assert need[is_min].all()
    assert need.sum() < 0.8 * need.size  # and pruning does prune
    if data == "mirror":
        assert (is_min.sum(axis=1) == 2).sum() >= 80  # the ties are really there


def test_huge_and_tiny_coordinates():
    # Scaling by a power of two is exact: the same points at 2^600 and 2^-600 give the
    # same silhouettes (at 2^600 a naive d^2 overflows to inf).
    X, labels = make_blobs(n_samples=1200, centers=6, random_state=29)
    s = silhouette_samples(X, labels)
    np.testing.assert_array_equal(silhouette_samples(np.ldexp(X, 600), labels), s)
    np.testing.assert_array_equal(silhouette_samples(np.ldexp(X, -600), labels), s)
    np.testing.assert_allclose(s, metrics.silhouette_samples(X, labels), rtol=0, atol=ATOL)


def test_distances_below_float32_range_are_exact():
    # Clusters 1e-40 across next to a point at distance 1: the squared distances
    # between them underflow float32, so those points are redone with the IEEE sqrt.
    X = np.array([[0, 0], [1e-40, 0], [2e-40, 0], [3e-40, 1e-40], [0, 5e-41], [1, 1], [1, 1.001]])
    labels = np.array([0, 0, 1, 1, 1, 2, 2])
    np.testing.assert_allclose(
        silhouette_samples(X, labels), brute_silhouette(X, labels), rtol=0, atol=1e-12
    )


def test_fast_sqrt_accuracy():
    rng = np.random.default_rng(30)
    q = np.concatenate(
        [rng.uniform(0, 4, 100_000), 2.0 ** rng.uniform(-126, 126, 100_000), [2.0**-126]]
    )
    got = _fast_sqrt(q)
    np.testing.assert_allclose(got, np.sqrt(q), rtol=1e-14, atol=0)
    assert _fast_sqrt(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    tiny = np.array([1e-60, 2.0**-140, 2.0**-127])
    assert np.all(np.abs(_fast_sqrt(tiny) - np.sqrt(tiny)) < 2.0**-50)


@njit
def _fast_sqrt(q):
    out = np.empty_like(q)
    for i in range(q.shape[0]):
        out[i] = _kernels._sqrt(q[i])
    return out


def test_sampled_with_pruning_matches_exact_samples():
    X, labels = make_blobs(n_samples=3000, centers=12, cluster_std=0.8, random_state=31)
    exact_samples = silhouette_samples(X, labels)
    picked = np.random.default_rng(5).choice(len(labels), size=500, replace=False)
    est = sampled_silhouette(X, labels, sample_size=500, seed=5)
    assert abs(est.estimate - exact_samples[picked].mean()) <= 1e-12


# --------------------------------------------------------------------------- duplicates
# A track listed under several genres is one point several times: each distinct (point,
# label) pair is worked out once and counts as often as it occurs.


def listings_like(seed: int):
    """Blobs where most points occur 1-4 times, some of them under two labels."""
    X, labels = make_blobs(n_samples=1200, centers=6, cluster_std=0.9, random_state=seed)
    times = np.random.default_rng(seed).integers(1, 5, size=len(X))
    X, labels = np.repeat(X, times, axis=0), np.repeat(labels, times)
    relabelled = np.random.default_rng(seed + 1).choice(len(X), size=40, replace=False)
    labels[relabelled] = (labels[relabelled] + 1) % 6  # the same point in two clusters
    return X, labels


@pytest.mark.parametrize("seed", [30, 31])
def test_repeated_points_count_as_often_as_they_occur(seed):
    X, labels = listings_like(seed)
    prep = _sil._prepare(X, labels)
    assert prep.lab.shape[0] < 0.5 * len(labels)  # far fewer distinct points than samples
    assert prep.weights.sum() == len(labels)
    assert uses_pruning(X, labels)
    np.testing.assert_allclose(silhouette_samples(X, labels), brute_silhouette(X, labels),
                               rtol=0, atol=ATOL)  # fmt: skip
    assert_matches_sklearn(X, labels)


def test_sampled_silhouette_of_repeated_points_is_exact_at_the_drawn_points():
    X, labels = listings_like(32)
    exact = brute_silhouette(X, labels)
    picked, values = _sil.sampled_silhouette_samples(X, labels, 300, seed=5)
    np.testing.assert_allclose(values, exact[picked], rtol=0, atol=ATOL)
