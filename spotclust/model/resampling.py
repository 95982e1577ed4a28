"""Resampled evidence for choosing k: stability between subsamples, and the gap statistic.

Costs are bounded whatever the size of the data: subsamples, the labelled sample and the
gap's sample have at most RESAMPLE_ROWS rows, and the fits on them use full k-means with at
most RESAMPLE_N_INIT restarts. Every random draw is seeded from (seed, purpose, k, pair), so
the same seed gives the same numbers. See model/selection.py for how they are weighed.
"""

from __future__ import annotations

import math

import numpy as np

from spotclust.model.kmeans import KMeansFit, kmeans_restarts
from spotclust.model.metrics import adjusted_rand_of

RESAMPLE_FRACTION = 0.8  # share of the rows in each stability subsample
RESAMPLE_ROWS = 20_000  # cap on every resampled set: the cost stays flat at 10M rows
RESAMPLE_N_INIT = 3  # k-means restarts on resamples (fewer if the sweep's --n-init is lower)
# Labels of the independent random streams, so that no two uses share draws.
_SAMPLE, _STABILITY, _GAP, _REFERENCE = 0, 1, 2, 3


def _rng(seed: int, *keys: int) -> np.random.Generator:
    """A random stream of its own for each (seed, purpose, k, pair)."""
    return np.random.default_rng([seed, *keys])


def _kmeans(X: np.ndarray, k: int, n_init: int, rng: np.random.Generator) -> KMeansFit:
    """Full k-means, whatever the sweep's algorithm: resampled sets are small. A sweep runs
    these side by side (model/parallel.py)."""
    return kmeans_restarts(X, k, n_init, int(rng.integers(2**31)))


def fixed_sample(space: np.ndarray, seed: int) -> np.ndarray:
    """At most RESAMPLE_ROWS rows, the same for every k: what stability labels, what gap uses."""
    if len(space) <= RESAMPLE_ROWS:
        return space
    rows = _rng(seed, _SAMPLE).choice(len(space), RESAMPLE_ROWS, replace=False)
    return space[np.sort(rows)]


def stability(
    space: np.ndarray, sample: np.ndarray, k: int, pairs: int, n_init: int, seed: int
) -> tuple[float, float] | None:
    """Mean and std of the adjusted Rand index between clusterings of `pairs` subsample pairs.

    Both models of a pair label the same rows (sample), so their labelings can be compared
    even though they were fitted on different rows. None when k < 2 or the subsamples are
    too small for k. (A sweep runs the pairs side by side: stability_pair, summarise.)
    """
    if not has_stability(len(space), k):
        return None
    scores = [stability_pair(space, sample, k, pair, n_init, seed) for pair in range(pairs)]
    return summarise(scores)


def has_stability(n: int, k: int) -> bool:
    """Whether stability is defined: k >= 2 and a subsample holds at least k rows."""
    return k >= 2 and _subsample_size(n) >= k


def _subsample_size(n: int) -> int:
    return min(round(RESAMPLE_FRACTION * n), RESAMPLE_ROWS)


def stability_pair(
    space: np.ndarray, sample: np.ndarray, k: int, pair: int, n_init: int, seed: int
) -> float:
    """The adjusted Rand index between the labelings of `sample` by the models of two
    subsamples drawn for (seed, k, pair)."""
    n = len(space)
    size = _subsample_size(n)
    rng = _rng(seed, _STABILITY, k, pair)
    labelings = [
        _kmeans(space[rng.choice(n, size, replace=False)], k, n_init, rng).predict(sample)
        for _ in range(2)
    ]
    return adjusted_rand_of(*labelings)


def summarise(scores: list[float]) -> tuple[float, float]:
    """(mean, std) of the pairs' adjusted Rand indices."""
    return float(np.mean(scores)), float(np.std(scores))


def principal_box(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sample on its principal axes, and that box's (low, high) corners.

    Within-cluster sums of squares do not change under rotation, so the references can be
    drawn and clustered in the rotated space directly (Tibshirani et al.'s method b).
    """
    centred = sample - sample.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ vt.T
    return rotated.min(axis=0), rotated.max(axis=0)


def gap_statistic(
    sample: np.ndarray,
    box: tuple[np.ndarray, np.ndarray],
    k: int,
    refs: int,
    n_init: int,
    seed: int,
) -> tuple[float, float] | None:
    """(gap_k, s_k) of the sample against `refs` uniform reference datasets in box.

    The reference datasets depend on (seed, ref) only, so every k is measured against the
    same ones, as in the paper. None when a sum of squares is 0 (k >= distinct rows).
    (A sweep runs the fits side by side: gap_inertia, gap_from.)
    """
    if k > len(sample):
        return None
    inertias = [gap_inertia(sample, box, k, ref, n_init, seed) for ref in [None, *range(refs)]]
    return gap_from(inertias[0], inertias[1:])


def gap_inertia(
    sample: np.ndarray,
    box: tuple[np.ndarray, np.ndarray],
    k: int,
    ref: int | None,
    n_init: int,
    seed: int,
) -> float:
    """W_k of the sample (ref None) or of uniform reference dataset `ref` in box."""
    if ref is None:
        return float(_kmeans(sample, k, n_init, _rng(seed, _GAP, k)).inertia_)
    uniform = _rng(seed, _REFERENCE, ref).uniform(*box, size=(len(sample), len(box[0])))
    return float(_kmeans(uniform, k, n_init, _rng(seed, _GAP, k, ref)).inertia_)


def gap_from(data_w: float, reference_w: list[float]) -> tuple[float, float] | None:
    """(gap_k, s_k) from the sample's W_k and the references' (None if a W_k is 0)."""
    if data_w <= 0 or min(reference_w) <= 0:
        return None
    log_w = np.log(reference_w)
    gap = float(log_w.mean() - math.log(data_w))
    return gap, float(log_w.std() * math.sqrt(1 + 1 / len(reference_w)))


def gap_rule(ks: list[int], gaps: list[float | None], errors: list[float | None]) -> int | None:
    """The smallest k with gap_k >= gap_next - s_next (next: the next k swept), or None."""
    for i in range(len(ks) - 1):
        if gaps[i] is None or gaps[i + 1] is None:
            continue
        if gaps[i] >= gaps[i + 1] - errors[i + 1]:
            return ks[i]
    return None
