"""The compiled Lloyd iterations of k-means (numba); model/kmeans.py seeds them with
scikit-learn's k-means++ and calls them.

Why not scikit-learn's own loop: on the few dimensions spotclust clusters in (2 PCA axes by
default), its Lloyd step spends its time on per-chunk overhead (a small matrix product for
every 256 rows): 3.5 ms an iteration for 88,732 2-D rows whatever k, where this loop takes
a tenth of that. The steps are scikit-learn's ``_kmeans_single_lloyd``: assign each row to
its nearest centre (first of equals), move each centre to its members' mean, relocate empty
clusters to the rows farthest from their centres, and stop when no label changes or the
centres move less than ``tol`` in all (then assign once more, so the labels match the
centres). ``nogil``: fits run side by side in threads (model/parallel.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

try:  # as model/_silhouette_kernels.py: no cache folder means compiling in each process
    _CACHE = bool(njit(cache=True)(lambda: None))
except RuntimeError:
    _CACHE = False


_BLOCK = 512  # rows assigned at a time: their coordinates and best distances stay in L1


@njit(cache=_CACHE, nogil=True, error_model="numpy", fastmath={"contract"})
def _assign(XT, centers, labels, distances, sums, counts):
    """labels[i] = the nearest centre of row i (first of equals), distances[i] its squared
    distance; XT holds the rows as columns (features x rows). Returns how many labels
    changed.

    sums (k x features) and counts (k) are each cluster's coordinate sums and member count
    for the labels held: only the rows whose label changes move between them (all of them
    on the first call, when labels are -1), which after the first iterations are few.
    Blocks of rows, centres in the middle loop and rows innermost: the distance loops are
    branch-free SIMD code over a block that stays in L1.
    """
    d, n = XT.shape
    k = centers.shape[0]
    best = np.empty(_BLOCK)
    nearest = np.empty(_BLOCK, dtype=np.int64)
    squares = np.empty(_BLOCK)
    changed = 0
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        best[:m] = np.inf
        nearest[:m] = 0
        for j in range(k):
            if d == 2:  # the default (2 PCA axes): one pass per centre, 1.3-1.5x faster
                x0, x1 = XT[0, start : start + m], XT[1, start : start + m]
                c0, c1 = centers[j, 0], centers[j, 1]
                for i in range(m):
                    diff0, diff1 = x0[i] - c0, x1[i] - c1
                    s = diff0 * diff0 + diff1 * diff1
                    closer = s < best[i]
                    best[i] = s if closer else best[i]
                    nearest[i] = j if closer else nearest[i]
                continue
            _block_squares(XT, start, m, centers[j], squares)
            for i in range(m):
                s = squares[i]
                closer = s < best[i]
                best[i] = s if closer else best[i]
                nearest[i] = j if closer else nearest[i]
        for i in range(m):
            row_id = start + i
            distances[row_id] = best[i]
            new = nearest[i]
            old = labels[row_id]
            if new != old:
                changed += 1
                labels[row_id] = new
                # _move written out: numba's inlined call cost 60 ns a row, 5 ms of the
                # first assignment (where every row moves), a third of a k = 2 fit
                if old >= 0:
                    counts[old] -= 1.0
                    for f in range(d):
                        sums[old, f] -= XT[f, row_id]
                counts[new] += 1.0
                for f in range(d):
                    sums[new, f] += XT[f, row_id]
    return changed


@njit(cache=_CACHE, nogil=True)
def _move(XT, i, old, new, sums, counts):
    """Row i leaves cluster old (none if -1) for cluster new (_update's rare relocations;
    _assign writes it out)."""
    if old >= 0:
        counts[old] -= 1.0
        for f in range(XT.shape[0]):
            sums[old, f] -= XT[f, i]
    counts[new] += 1.0
    for f in range(XT.shape[0]):
        sums[new, f] += XT[f, i]


@njit(cache=_CACHE, nogil=True, error_model="numpy")
def _update(XT, labels, distances, sums, counts, centers, new_centers):
    """new_centers = the members' means; first, an empty cluster takes the row farthest
    from its centre, as scikit-learn does. Returns the squared shift of all centres."""
    k, d = centers.shape
    n_empty = 0
    for j in range(k):
        if counts[j] == 0.0:
            n_empty += 1
    if n_empty:
        far = np.argsort(-distances, kind="mergesort")[:n_empty]
        taken = 0
        for j in range(k):
            if counts[j] == 0.0:
                i = far[taken]
                taken += 1
                _move(XT, i, labels[i], j, sums, counts)
                labels[i] = j
    shift = 0.0
    for j in range(k):
        for f in range(d):
            new_centers[j, f] = sums[j, f] / counts[j] if counts[j] > 0.0 else centers[j, f]
            diff = new_centers[j, f] - centers[j, f]
            shift += diff * diff
    return shift


@njit(cache=_CACHE, nogil=True, error_model="numpy")
def lloyd(XT, centers, max_iter, tol):
    """k-means of the rows XT (features x rows) from the initial centres (k x features)
    -> (labels, centers, inertia, iterations)."""
    n = XT.shape[1]
    k, d = centers.shape
    centers = centers.copy()
    new_centers = np.empty_like(centers)
    sums = np.zeros((k, d))
    counts = np.zeros(k)
    labels = np.full(n, -1, dtype=np.int64)
    distances = np.empty(n)
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        if _assign(XT, centers, labels, distances, sums, counts) == 0:
            converged = True  # the centres are already the means of these labels
            break
        shift = _update(XT, labels, distances, sums, counts, centers, new_centers)
        centers, new_centers = new_centers, centers
        if shift <= tol:
            break
    if not converged:
        _assign(XT, centers, labels, distances, sums, counts)  # labels of the final centres
    return labels, centers, distances.sum(), iterations


@njit(cache=_CACHE, nogil=True, error_model="numpy")
def nearest(XT, centers):
    """The nearest centre of each row of XT (features x rows; first of equals)."""
    labels = np.full(XT.shape[1], -1, dtype=np.int64)
    k, d = centers.shape
    _assign(XT, centers, labels, np.empty(XT.shape[1]), np.zeros((k, d)), np.zeros(k))
    return labels


@njit(cache=_CACHE, nogil=True, error_model="numpy", fastmath={"contract", "reassoc"})
def plusplus(XT, first, draws):
    """k-means++ seeding as scikit-learn's ``_kmeans_plusplus`` (greedy: of the trials
    candidates drawn for each centre, the one that lowers the potential most), with its
    random draws made beforehand: ``first`` the first centre's row, ``draws`` (k - 1,
    trials) uniform numbers in [0, 1). Returns the centres (k x features).

    A candidate's potential is summed a block of rows at a time and not kept: the chosen
    one's distances are worked out again. Keeping every candidate's (trials x rows) put
    the passes out of the core's cache: 1.7x slower for k = 10. Potentials are summed in
    another order than NumPy's, as scikit-learn's own distances (a dot-product shortcut)
    differ from these in the last bits: candidates tie only in contrived data."""
    d, n = XT.shape
    k = draws.shape[0] + 1
    trials = draws.shape[1]
    centers = np.empty((k, d))
    centers[0] = XT[:, first]
    closest = np.empty(n)
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _block_squares(XT, start, m, centers[0], closest[start : start + m])
    potential = closest.sum()
    squares = np.empty(_BLOCK)
    for c in range(1, k):
        cumulative = np.cumsum(closest)
        ids = np.minimum(np.searchsorted(cumulative, draws[c - 1] * potential), n - 1)
        best_t = 0
        best_potential = np.inf
        for t in range(trials):
            total = 0.0
            for start in range(0, n, _BLOCK):
                total += _with_candidate(XT, ids[t], closest, start, squares, False)
            if total < best_potential:
                best_potential = total
                best_t = t
        for start in range(0, n, _BLOCK):
            _with_candidate(XT, ids[best_t], closest, start, squares, True)
        potential = best_potential
        for f in range(d):
            centers[c, f] = XT[f, ids[best_t]]
    return centers


@njit(cache=_CACHE, nogil=True, error_model="numpy", fastmath={"contract", "reassoc"})
def _with_candidate(XT, candidate, closest, start, squares, keep):
    """The sum over the block of rows from start of min(closest, squared distance to row
    candidate): the block's share of the potential if candidate were a centre. keep:
    also store those minima in closest (candidate becomes a centre)."""
    m = min(_BLOCK, XT.shape[1] - start)
    _block_squares(XT, start, m, XT[:, candidate], squares)
    near = closest[start : start + m]
    total = 0.0
    for i in range(m):
        lowest = min(squares[i], near[i])
        total += lowest
        if keep:
            near[i] = lowest
    return total


@njit(cache=_CACHE, nogil=True, error_model="numpy", fastmath={"contract"})
def _block_squares(XT, start, m, point, squares):
    """squares[:m] = the squared distances from point (one value per feature) to the m rows
    from start: a pass over the block per feature, each a SIMD loop."""
    squares[:m] = 0.0
    for f in range(XT.shape[0]):
        row = XT[f, start : start + m]
        c = point[f]
        for i in range(m):
            diff = row[i] - c
            squares[i] += diff * diff
