"""Exact and sampled silhouette coefficients, fast enough for 10^5 tracks.

The method (bounds that prune clusters, tiles of pair distances, exact sums) is described
in model/_silhouette_kernels.py, next to the compiled kernels that carry it out; the points
are sorted and cut into cells for them in model/_silhouette_points.py.
"""

from __future__ import annotations

import heapq
import math
from typing import NamedTuple

import numba
import numpy as np

from spotclust.model._silhouette_kernels import _candidates, _row_sums, _symmetric_sums, _tile_sums
from spotclust.model._silhouette_points import _prepare, _Sorted

__all__ = [
    "SampledSilhouette",
    "sampled_estimate",
    "sampled_silhouette",
    "sampled_silhouette_samples",
    "silhouette_samples",
    "silhouette_score",
]

_TILE = 1024  # rows and columns per tile
_ROW_BLOCK = 4096  # block length for the blocked sums of the row kernel
_MAX_PAIRS = 4096  # plan pruned tiles for at most this many cluster pairs
_MIN_SAVING = 0.9  # use the pruned tiles only if they need < 90% of the pairs
_PRUNE_RTOL = 1e-10  # margin of the pruning test, relative to max|x|
_DEGENERATE = 2.0**-10  # a and b both below this (scaled units): redo with IEEE sqrt
_Z95 = 1.959963984540054  # two-sided 95% normal quantile


def _need(prep: _Sorted, queries: np.ndarray) -> np.ndarray:
    """(m, k) bool: the clusters each query point needs exact sums for (own + candidates)."""
    k = prep.counts.shape[0]
    if k == 2:  # nothing to prune
        need = np.ones((queries.shape[0], 2), dtype=bool)
        need[prep.counts[prep.lab[queries]] == 1] = False
        return need
    coords, cs = prep.coords, prep.cell_starts
    n_cells = cs.shape[0] - 1
    cell_mu = np.empty((coords.shape[0], n_cells))
    cell_r = np.empty(n_cells)
    cell_v = np.empty(n_cells)
    cell_n = np.add.reduceat(prep.weights, cs[:-1])  # samples in each cell
    for g in range(n_cells):  # NumPy's pairwise sums: error ~1e-16 * log2(n) * max|x|
        pts = coords[:, cs[g] : cs[g + 1]]
        w = prep.weights[cs[g] : cs[g + 1]]
        cell_mu[:, g] = (pts * w).sum(axis=1) / cell_n[g]
        sq = ((pts - cell_mu[:, g : g + 1]) ** 2).sum(axis=0)
        cell_r[g] = (np.sqrt(sq) * w).sum() / cell_n[g]
        cell_v[g] = (sq * w).sum() / cell_n[g]
    norm_max = float(np.sqrt((np.abs(coords).max(axis=1) ** 2).sum()))
    return _candidates(
        coords,
        prep.lab,
        prep.counts,
        queries,
        prep.lab[cs[:-1]],
        cell_n,
        cell_mu,
        cell_r,
        cell_v,
        _PRUNE_RTOL * norm_max,
    )


def _plan(prep: _Sorted, need: np.ndarray, nthreads: int):
    """Tiles covering each pair that some point needs, once (module docstring, step 2).

    Returns ``(pool, tiles, thread_ptr, thread_tiles)`` for :func:`_tile_sums`, or None
    when pruning would save too little to be worth it.
    """
    pairs = _needed_pairs(prep, need)
    if pairs is None:
        return None
    wanted, first, second = pairs
    starts = prep.starts
    counts = np.diff(starts).astype(np.float64)  # distinct points per cluster
    k = counts.shape[0]
    n = int(starts[-1])
    pieces = [np.arange(n, dtype=np.int64)]  # the pool of index lists; first all points
    size = n
    tiles = []
    costs = []

    def add_list(idx):
        nonlocal size
        pieces.append(idx)
        size += idx.shape[0]
        return size - idx.shape[0], size

    def add_rect(rb, re, cb, ce, row_to, col_to, use_col):
        for r in range(rb, re, _TILE):
            r_end = min(re, r + _TILE)
            for c in range(cb, ce, _TILE):
                c_end = min(ce, c + _TILE)
                tiles.append((r, r_end, c, c_end, row_to, col_to, 0, use_col))
                costs.append((r_end - r) * (c_end - c) * (1.0 if use_col else 0.8))

    for a in range(k):  # within clusters: the upper triangle
        b, e = starts[a], starts[a + 1]
        for r in range(b, e, _TILE):
            r_end = min(e, r + _TILE)
            for c in range(r, e, _TILE):
                c_end = min(e, c + _TILE)
                diag = int(c == r)
                tiles.append((r, r_end, c, c_end, a, a, diag, 1))
                costs.append((r_end - r) * (c_end - c) * (0.5 if diag else 1.0))
    for a, c in zip(first.tolist(), second.tolist(), strict=True):  # I x C, J x (A - I)
        if wanted[a, c] == counts[a]:  # all of A needs C: the whole block
            add_rect(starts[a], starts[a + 1], starts[c], starts[c + 1], c, a, 1)
            continue
        if wanted[c, a] == counts[c]:
            add_rect(starts[c], starts[c + 1], starts[a], starts[a + 1], a, c, 1)
            continue
        a_pos = np.arange(starts[a], starts[a + 1])
        a_needs = need[a_pos, c]
        if wanted[a, c]:
            rb, re = add_list(a_pos[a_needs])
            add_rect(rb, re, starts[c], starts[c + 1], c, a, 1)
        if wanted[c, a]:
            c_pos = np.arange(starts[c], starts[c + 1])
            rb, re = add_list(c_pos[need[c_pos, a]])
            cb, ce = add_list(a_pos[~a_needs])
            add_rect(rb, re, cb, ce, a, c, 0)
    tiles = np.array(tiles, dtype=np.int64).reshape(-1, 8)
    return np.concatenate(pieces), tiles, *_assign_threads(costs, nthreads)


def _needed_pairs(prep: _Sorted, need: np.ndarray):
    """(wanted, first, second): how many points of cluster a need cluster c, and the pairs
    anyone needs; None when there are too many pairs or pruning would save too little."""
    starts = prep.starts
    counts = np.diff(starts).astype(np.float64)  # distinct points per cluster
    n = int(starts[-1])
    wanted = np.add.reduceat(need.astype(np.int64), starts[:-1], axis=0)
    first, second = np.nonzero(np.triu(wanted + wanted.T, 1))
    if first.size > _MAX_PAIRS:
        return None
    w_ac, w_ca = wanted[first, second], wanted[second, first]
    work = (counts**2).sum() / 2
    work += (w_ac * counts[second] + w_ca * (counts[first] - w_ac)).sum()
    if work > _MIN_SAVING * n * n / 2:
        return None
    return wanted, first, second


def _assign_threads(costs: list[float], nthreads: int) -> tuple[np.ndarray, np.ndarray]:
    """(thread_ptr, thread_tiles): largest tile first, each to the least loaded thread
    (deterministic)."""
    owner = np.empty(len(costs), dtype=np.int64)
    heap = [(0.0, t) for t in range(nthreads)]
    for p in np.argsort(-np.asarray(costs), kind="stable"):
        load, t = heapq.heappop(heap)
        owner[p] = t
        heapq.heappush(heap, (load + costs[p], t))
    thread_tiles = np.argsort(owner, kind="stable").astype(np.int64)
    thread_ptr = np.zeros(nthreads + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=nthreads), out=thread_ptr[1:])
    return thread_ptr, thread_tiles


def _a_b(sums, lab, counts, need):
    """a and b of each sample from its (k,) distance sums; only needed entries count."""
    rows = np.arange(sums.shape[0])
    denom = (counts - 1)[lab]
    intra = sums[rows, lab] / np.maximum(denom, 1)
    other = np.where(need, sums / counts, np.inf)
    other[rows, lab] = np.inf
    return intra, other.min(axis=1)


def _silhouettes(prep: _Sorted, queries, sums, need) -> np.ndarray:
    """Per-sample silhouette of the sorted points ``queries`` from their (m, k) sums.

    Follows scikit-learn: 0 in singleton clusters, and 0 when a == b == 0. Points
    whose a and b are both tiny are first recomputed with the IEEE sqrt.
    """
    lab = prep.lab[queries]
    intra, inter = _a_b(sums, lab, prep.counts, need)
    single = prep.counts[lab] == 1
    tiny = np.flatnonzero(~single & (np.maximum(intra, inter) < _DEGENERATE))
    if tiny.size:
        sums[tiny] = _row_sums(
            prep.coords, prep.weights, prep.starts, queries[tiny], need[tiny], True, _ROW_BLOCK
        )
        intra, inter = _a_b(sums, lab, prep.counts, need)
    with np.errstate(divide="ignore", invalid="ignore"):
        sil = (inter - intra) / np.maximum(intra, inter)  # nan when a == b == 0
    sil[single] = 0.0
    return np.nan_to_num(sil, nan=0.0)


# --------------------------------------------------------------------------- public API


def silhouette_samples(X, labels) -> np.ndarray:
    """Exact silhouette coefficient of every sample (Euclidean metric).

    Same result as ``sklearn.metrics.silhouette_samples(X, labels)`` (to ~1e-12):
    samples in singleton clusters get 0. Labels may be any values; they need not be
    0..k-1. Works in float64 whatever the input dtype. Raises ValueError unless
    2 <= n_labels <= n_samples - 1. Time at most O(n^2 * d / 2) (much less when
    clusters can be pruned, see the module docstring), memory O(threads * k * n).
    """
    prep = _prepare(X, labels)
    distinct = prep.lab.shape[0]
    k = prep.counts.shape[0]
    everyone = np.arange(distinct, dtype=np.int64)
    need = _need(prep, everyone)
    nthreads = max(1, numba.get_num_threads())
    plan = _plan(prep, need, nthreads)
    if plan is None:
        sums = _symmetric_sums(prep.coords, prep.weights, prep.lab, prep.starts, _TILE, nthreads)
    else:
        sums = _tile_sums(prep.coords, prep.weights, *plan, k, _TILE)
    return _silhouettes(prep, everyone, sums.T, need)[prep.position]


def silhouette_score(X, labels) -> float:
    """Exact mean silhouette coefficient: the mean of :func:`silhouette_samples`.

    Agrees with ``sklearn.metrics.silhouette_score(X, labels)`` (default Euclidean
    metric, no sampling). For float32 input this gives the exact value of the same
    points, computed in float64. scikit-learn adds up float32 input in float32, so
    its answer can be off by about 1e-7.
    """
    return float(np.mean(silhouette_samples(X, labels)))


class SampledSilhouette(NamedTuple):
    """Sampled estimate of the silhouette score with a 95% normal confidence interval."""

    estimate: float
    ci_low: float
    ci_high: float


def sampled_silhouette(X, labels, sample_size: int, seed=None) -> SampledSilhouette:
    """Unbiased estimate of the silhouette score from a random subsample of points.

    Draws ``min(sample_size, n)`` distinct points uniformly at random with
    ``numpy.random.default_rng(seed)``. The s(i) of each drawn point is exact,
    measured against all n points (unlike scikit-learn's ``sample_size``, which
    compares the subsample only with itself). So the mean is an unbiased estimate
    of ``silhouette_score(X, labels)``.

    The interval is ``mean +/- 1.96 * sd / sqrt(m) * sqrt((n - m) / (n - 1))``,
    with ``sd`` the sample standard deviation (ddof=1). The last factor corrects
    for sampling without replacement; it is ~1 when m << n. When m == n the
    estimate is the exact score and the interval shrinks to that point.

    Cost is at most O(m * n * d) time (only the own and candidate clusters of each
    drawn point are visited) and O(n * d + m * k) memory.

    Returns a ``SampledSilhouette(estimate, ci_low, ci_high)`` named tuple.
    """
    _, sil = sampled_silhouette_samples(X, labels, sample_size, seed)
    return sampled_estimate(sil, np.asarray(labels).shape[0])


def sampled_estimate(sil: np.ndarray, n: int) -> SampledSilhouette:
    """The estimate and interval of :func:`sampled_silhouette` from the s(i) of m drawn
    points out of n."""
    m = sil.shape[0]
    estimate = float(np.mean(sil))
    fpc = math.sqrt((n - m) / (n - 1))
    half = _Z95 * float(np.std(sil, ddof=1)) / math.sqrt(m) * fpc
    return SampledSilhouette(estimate, estimate - half, estimate + half)


def sampled_silhouette_samples(
    X, labels, sample_size: int, seed=None
) -> tuple[np.ndarray, np.ndarray]:
    """(picked, values): the original indices of the points :func:`sampled_silhouette`
    draws (same seed, same points) and the exact s(i) of each, against all n points."""
    if isinstance(sample_size, bool) or not isinstance(sample_size, (int, np.integer)):
        raise ValueError(f"sample_size must be an integer; got {sample_size!r}.")
    if sample_size < 2:
        raise ValueError(f"sample_size must be at least 2; got {sample_size}.")
    prep = _prepare(X, labels, distinct=False)
    n = prep.position.shape[0]
    m = min(int(sample_size), n)
    rng = np.random.default_rng(seed)
    picked = rng.choice(n, size=m, replace=False)  # original indices
    queries = prep.position[picked]  # their distinct points (two may share one)
    need = _need(prep, queries)
    sums = _row_sums(prep.coords, prep.weights, prep.starts, queries, need, False, _ROW_BLOCK)
    sil = _silhouettes(prep, queries, sums, need)
    return picked, sil
