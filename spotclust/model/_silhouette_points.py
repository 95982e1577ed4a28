"""The points of a silhouette as its kernels take them (model/silhouette.py): the distinct
(point, label) pairs sorted by cluster, scaled by a power of two, each cluster cut into a few
k-d cells for the bounds (model/_silhouette_kernels.py, steps 1 and 4 of its method)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

_CELLS_PER_CLUSTER = 8  # k-d cells per cluster for the bounds...
_MAX_CELLS = 96  # ...but at most this many in all
_SCALE_EXP = 50  # coordinates are scaled by a power of two to max|x| in [2^49, 2^50)


class _Sorted(NamedTuple):
    """The distinct (point, label) pairs in cluster order: u of them for n samples."""

    coords: np.ndarray  # (d, u) float64, points in cluster order, scaled by a power of 2
    weights: np.ndarray  # (u,) float64: how many samples each distinct point stands for
    lab: np.ndarray  # (u,) int64 cluster ids in 0..k-1, sorted
    starts: np.ndarray  # (k + 1,) int64 block boundaries (in distinct points)
    counts: np.ndarray  # (k,) int64 cluster sizes (in samples)
    position: np.ndarray  # (n,) original index -> sorted position of its distinct point
    cell_starts: np.ndarray  # (cells + 1,) int64 cell boundaries (cells nest in clusters)


def _split_cells(coords, starts, per_cluster):
    """Reorder each cluster into up to ``per_cluster`` cells by median cuts (k-d tree).

    coords: (d, u) points in cluster order. Returns them reordered (a new array), the
    permutation of sorted positions that does it, and the cell boundaries.
    """
    out = np.empty_like(coords)
    perm = np.arange(coords.shape[1])
    sizes = []
    for c in range(starts.shape[0] - 1):
        # The cluster's points are reordered in place as they are cut, so that every cell
        # is a slice (a view) of them: no gathered copy of each cell's points to measure it.
        lo, hi = starts[c], starts[c + 1]
        points, order = out[:, lo:hi], perm[lo:hi]
        points[:] = coords[:, lo:hi]
        cells = [(0, hi - lo)]
        while len(cells) < per_cluster:
            longest = max(range(len(cells)), key=lambda s: cells[s][1] - cells[s][0])
            begin, end = cells[longest]
            if end - begin < 2:
                break
            pts = points[:, begin:end]
            dim = int(np.argmax(pts.max(axis=1) - pts.min(axis=1)))  # the widest side...
            half = (end - begin) // 2
            part = np.argpartition(pts[dim], half)  # ... cut at the median
            points[:, begin:end] = np.take(pts, part, axis=1)
            order[begin:end] = order[begin:end][part]
            cells[longest : longest + 1] = [(begin, begin + half), (begin + half, end)]
        sizes += [end - begin for begin, end in cells]
    cell_starts = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=cell_starts[1:])
    return out, perm, cell_starts


def _codes(labels: np.ndarray) -> np.ndarray:
    """labels as 0..k-1 in the order of their values (np.unique's inverse). Non-negative
    integers, as k-means gives them, are renumbered by a count instead of a sort."""
    if labels.dtype.kind in "iu" and labels.size and labels.min() >= 0 and labels.max() < 1 << 20:
        present = np.bincount(labels) > 0
        return (np.cumsum(present) - 1)[labels]
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def _prepare(X, labels, distinct: bool = True) -> _Sorted:
    X = np.asarray(X)
    labels = np.asarray(labels)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_samples, n_features); got shape {X.shape}.")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric; got dtype {X.dtype}.")
    if X.shape[1] == 0:
        raise ValueError("X has 0 features; at least 1 is required.")
    if labels.ndim != 1:
        raise ValueError(f"labels must be a 1-D array; got shape {labels.shape}.")
    if labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and labels have inconsistent numbers of samples: {X.shape[0]} and "
            f"{labels.shape[0]}."
        )
    X = X.astype(np.float64, copy=False)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinity.")
    n = X.shape[0]
    codes = _codes(labels).astype(np.int64, copy=False)
    k = int(codes.max()) + 1 if n else 0
    if not 1 < k < n:
        raise ValueError(
            f"Number of labels is {k}. Valid values are 2 to n_samples - 1 (inclusive)"
        )
    counts = np.bincount(codes, minlength=k).astype(np.int64)
    # Samples with the same point and label have the same s(i): each distinct one is worked
    # out once, weighted by how many samples it stands for. Finding them costs a sort (~2.5 s
    # at 2M rows): worth it for the exact score (quadratic), not for a sample (linear in n).
    # (d, n), and np.take to gather columns: arr[:, idx] would give an F-ordered copy,
    # 6x slower to make and slower still in the kernels
    columns = np.ascontiguousarray(X.T)
    if distinct:
        order = np.lexsort((*columns[::-1], codes))
        ordered = np.take(columns, order, axis=1)
        new = np.ones(n, dtype=bool)
        sorted_codes = codes[order]
        moved = (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)
        new[1:] = (sorted_codes[1:] != sorted_codes[:-1]) | moved
        first = np.flatnonzero(new)
        group = np.cumsum(new) - 1  # sorted sample -> its distinct point
        weights = np.diff(np.append(first, n)).astype(np.float64)
        lab = sorted_codes[first]
        ordered = np.take(ordered, first, axis=1)
    else:  # every sample is a point of its own
        order = np.argsort(codes, kind="stable")
        ordered, group = np.take(columns, order, axis=1), None
        weights, lab = np.ones(n), codes[order]
    starts = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(lab, minlength=k), out=starts[1:])
    biggest = float(np.abs(X).max())
    exponent = _SCALE_EXP - math.frexp(biggest)[1] if biggest > 0 else 0
    coords = np.ldexp(ordered, exponent, out=ordered)  # exact: a power of two
    per_cluster = 1 if k == 2 else max(1, min(_CELLS_PER_CLUSTER, _MAX_CELLS // k))
    coords, perm, cell_starts = _split_cells(coords, starts, per_cluster)  # within clusters
    sorted_position = np.empty_like(perm)
    sorted_position[perm] = np.arange(perm.shape[0])
    position = np.empty(n, dtype=np.int64)
    position[order] = sorted_position if group is None else sorted_position[group]
    return _Sorted(
        coords,
        weights[perm],
        lab,  # perm only reorders within clusters
        starts,
        counts,
        position,
        cell_starts,
    )
