"""The compiled kernels of the exact silhouette (numba, run on every core), and the method;
model/silhouette.py prepares the points, plans the work and calls these. The results agree
with ``sklearn.metrics.silhouette_score`` to about 1e-12 (its dot-product shortcut for
distances is a little less exact).

Method
------
For point ``i`` in cluster ``A`` let ``S(i, C)`` be the sum of the Euclidean
distances from ``i`` to the members of cluster ``C`` and ``D(i, C) = S(i, C) / n_C``.
Then ``a = S(i, A) / (n_A - 1)``, ``b = min over C != A of D(i, C)`` and
``s(i) = (b - a) / max(a, b)``; singleton clusters and ``a == b == 0`` both give 0,
as in scikit-learn. Only two of the k sums of a point matter: its own cluster's and
that of the cluster that attains ``b``. The method computes those exactly and
skips what provably cannot matter.

1. Bounds, to prune clusters. For a group ``G`` of points with centroid ``mu``,
   mean radius ``r = mean ||x_j - mu||``, mean squared radius
   ``v = mean ||x_j - mu||^2``, and ``t = ||x_i - mu||``::

       max(t, r - t)  <=  mean over j in G of ||x_i - x_j||  <=  min(t + r, sqrt(t^2 + v))

   Left: Jensen (the norm is convex) and ``||x_j - mu|| <= ||x_j - x_i|| + t``.
   Right: the triangle inequality, and Jensen for the concave sqrt, because
   ``mean ||x_i - x_j||^2 = t^2 + v``. Each cluster is cut into up to 8 cells by
   median splits (a small k-d tree). The cells' bounds, weighted by cell size, add
   up to ``L(i, C) <= D(i, C) <= U(i, C)``. A cluster ``C != A`` is a *candidate*
   for ``i`` unless ``L(i, C) > min over C' != A of U(i, C') + tol``. A cluster
   that is not a candidate has ``D(i, C) > U(i, C') >= D(i, C')`` for some ``C'``,
   so it cannot attain the minimum. Every cluster that attains it (all of them, in
   a tie) stays a candidate. ``tol = 1e-10 * max|x|`` is more than 1000 times the
   rounding error of the bounds (centroids are NumPy pairwise means), so rounding
   cannot prune the minimum either. ``b`` is then the minimum over the candidates,
   the same number as the minimum over all clusters. On the 2-D PCA of the
   Spotify tracks with k = 4..12, points keep 1.02-1.07 other clusters on
   average.

2. Pair tiles, each needed pair once. Points are sorted by cluster. Within a
   cluster, the kernel walks the upper triangle of the ``A x A`` block in
   1024 x 1024 tiles and adds each distance to both points' sums, since
   ``d(i, j) == d(j, i)``. For a pair of clusters ``A < C``, let ``I`` be the
   points of ``A`` that have ``C`` as a candidate and ``J`` the points of ``C`` that
   have ``A``. Tiles cover ``I x C``: row sums give ``S(i, C)`` for ``i`` in ``I``,
   column sums give the ``I`` part of ``S(j, A)``. Then they cover
   ``J x (A minus I)``, with row sums only, which completes ``S(j, A)`` for ``j``
   in ``J``. Every sum a point needs is complete. Each pair that either side
   needs is computed once, and pairs that neither side needs are skipped. The
   work is ``sum n_A^2 / 2 + sum over A < C of |I| n_C + |J| (n_A - |I|)``,
   instead of ``n^2 / 2``. On the Spotify data that is 0.76 of the pairs for
   k = 4, 0.43 for k = 8 and 0.30 for k = 12. Row by row, without the symmetry,
   it would be 1.29, 0.66 and 0.46, so for k = 4 worse than no pruning. For
   k = 2 nothing can be pruned.
   When pruning saves less than 10% (or there are too many cluster pairs to
   plan), the kernel falls back to the plain upper triangle over all points.
   The columns of a tile are gathered into a contiguous buffer, so the inner loop
   is SIMD code over slices that start at 0. Tiles go to threads largest first,
   and each goes to the least loaded thread, so the sums are deterministic for
   a given number of threads. Each thread adds into its own ``(k, n)`` buffer.
   So memory is O(threads * k * n), and no n x n matrix is ever held.

3. Square roots. The float64 square root (``vsqrtpd``) is what limits the speed.
   Instead, ``y = float32 sqrt(q)`` and ``h = float32 0.5 / y``, and then one
   Newton step in float64: ``d = y + (q - y*y) * h``. ``y*y`` and ``q - y*y``
   are exact (y has 24 bits; Sterbenz). With ``|y/sqrt(q) - 1| <= 1.5 * 2^-24``
   and ``h`` within 2^-24, the relative error is below 1e-14 (about 45 ulp).
   Two float32 divider operations cost less than one float64 one, so this is
   about 1.45x faster. ``q == 0`` gives exactly 0 (a tiny float32 constant keeps
   ``h`` finite), so duplicate points and identical clusters come out exactly as
   in scikit-learn. The coordinates are first multiplied by a power of two so
   that ``max|x|`` lies in [2^49, 2^50). That is exact, and it leaves s(i)
   unchanged. It also keeps every ``q`` far below the float32 overflow
   threshold, and it makes every distance above 2^-63 (about 2^-112 max|x|) a
   normal float32. Smaller distances are off by at most 2^-50. Any point whose
   ``a`` and ``b`` are both below 2^-10 (about 1e-18 max|x|) is recomputed with
   the IEEE sqrt. So ``a`` and ``b`` are within 1e-14 (relative) plus 2^-50
   (absolute) of their exact values. That puts every s(i) within 4e-12 of its
   exact value, and within about 1e-13 when no distance is that tiny (as for
   the Spotify data).
   ``fastmath={"reassoc", "contract"}`` lets LLVM keep several partial sums at
   once and use FMA. There are no approximate-sqrt or reciprocal flags. Sums
   taken in a different order differ by a few ulp.

4. Repeated points (a track listed under several genres) have the same s(i): each
   distinct (point, label) pair is worked out once, weighted by how many samples it
   stands for (sums add ``w_j * d(i, j)``; sizes and bounds count samples). The
   notebook's 112,419 rows are 85,736 distinct points: 0.58 of the pairs.

``sampled_silhouette`` works out the exact s(i) of m random points against all n (the
same candidates and square roots): its mean is an unbiased estimate of the score.

Why numba: the usual way to compile numeric kernels in scientific Python; binary wheels (no
C compiler needed); compiled kernels kept on disk (``make install`` compiles them:
model/compile_kernels.py). NumPy versions were quadratic in memory or ~40x slower.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Reassociation (vectorised partial sums) and FMA contraction only. Deliberately not
# "afn"/"arcp" (approximate sqrt/reciprocal) nor "nnan"/"ninf". error_model="numpy":
# no Python-style division-by-zero checks in the loops (none can happen).
_FASTMATH = {"reassoc", "contract"}
_TINY_F32 = np.float32(2.0**-100)
# cache=True raises at import where numba can write no cache folder ($NUMBA_CACHE_DIR, the
# package's __pycache__, the user's ~/.cache/numba): then each process compiles the kernels.
try:
    _CACHE = bool(njit(cache=True)(lambda: None))  # looks for a folder as the kernels do
except RuntimeError:  # "cannot cache function ...: no locator available"
    _CACHE = False


@njit(cache=_CACHE, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _sqrt(q):
    """sqrt(q) for 0 <= q < 2^127 via a float32 square root and one float64 Newton step.

    Relative error below 1e-14 if q >= 2^-126, exactly 0 if q == 0, absolute error
    below 2^-50 in between.
    """
    y0 = np.sqrt(np.float32(q))
    h = np.float32(0.5) / (y0 + _TINY_F32)  # 1 / (2 y0); the constant only matters at 0
    y = np.float64(y0)
    return y + (q - y * y) * np.float64(h)


@njit(cache=_CACHE, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _sum_2d(x, y, w, xi, yi, exact):
    """Sum of distances from (xi, yi) to the points (x, y), each counted w times; IEEE
    sqrt if ``exact``."""
    s = 0.0
    if exact:
        for jj in range(x.shape[0]):
            dx = x[jj] - xi
            dy = y[jj] - yi
            s += w[jj] * np.sqrt(dx * dx + dy * dy)
    else:
        for jj in range(x.shape[0]):
            dx = x[jj] - xi
            dy = y[jj] - yi
            s += w[jj] * _sqrt(dx * dx + dy * dy)
    return s


@njit(cache=_CACHE, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _sum_col_2d(x, y, w, col, xi, yi, wi):
    """Like _sum_2d (fast sqrt), also adding each distance, counted wi times (the weight
    of (xi, yi)), to col."""
    s = 0.0
    for jj in range(x.shape[0]):
        dx = x[jj] - xi
        dy = y[jj] - yi
        d = _sqrt(dx * dx + dy * dy)
        s += w[jj] * d
        col[jj] += wi * d
    return s


@njit(cache=_CACHE, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _squares_nd(cc, jb, je, ci, t):
    """t[:je - jb] = squared distances from the point ci (d,) to columns jb:je of cc."""
    length = je - jb
    c0 = cc[0, jb:je]
    v = ci[0]
    for jj in range(length):
        diff = c0[jj] - v
        t[jj] = diff * diff
    for f in range(1, cc.shape[0]):
        cf = cc[f, jb:je]
        v = ci[f]
        for jj in range(length):
            diff = cf[jj] - v
            t[jj] += diff * diff


@njit(cache=_CACHE, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _sum_nd(t, w, exact):
    s = 0.0
    if exact:
        for jj in range(t.shape[0]):
            s += w[jj] * np.sqrt(t[jj])
    else:
        for jj in range(t.shape[0]):
            s += w[jj] * _sqrt(t[jj])
    return s


@njit(cache=_CACHE, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _sum_col_nd(t, w, col, wi):
    s = 0.0
    for jj in range(t.shape[0]):
        d = _sqrt(t[jj])
        s += w[jj] * d
        col[jj] += wi * d
    return s


@njit(parallel=True, cache=_CACHE, fastmath=_FASTMATH, error_model="numpy")
def _tile_sums(coords, weights, pool, tiles, thread_ptr, thread_tiles, k, tile):
    """Distance sums over planned tiles; returns S (k, n) (zero where nothing was planned).

    Tile ``(r0, r1, c0, c1, row_to, col_to, diag, use_col)``: the rows are the points
    ``pool[r0:r1]`` and the columns ``pool[c0:c1]`` (sorted positions). Each row's sum
    of distances to the columns is added to ``S[row_to, row]``. If ``use_col``, each
    column's sum of distances to the rows is added to ``S[col_to, column]``. A diagonal
    tile (rows == columns) visits only the pairs with column > row. Thread t runs the
    tiles ``thread_tiles[thread_ptr[t]:thread_ptr[t + 1]]``.
    """
    d_feat = coords.shape[0]
    n = coords.shape[1]
    nthreads = thread_ptr.shape[0] - 1
    buf = np.zeros((nthreads, k, n))
    for t in prange(nthreads):
        cc = np.empty((d_feat, tile))
        cw = np.empty(tile)
        ci = np.empty(d_feat)
        col = np.empty(tile)
        tmp = np.empty(tile)
        for p in range(thread_ptr[t], thread_ptr[t + 1]):
            tl = tiles[thread_tiles[p]]
            r0, r1, c0, c1 = tl[0], tl[1], tl[2], tl[3]
            row_to, col_to, diag, use_col = tl[4], tl[5], tl[6] != 0, tl[7] != 0
            m = c1 - c0
            for jj in range(m):  # gather the columns into a contiguous buffer
                j = pool[c0 + jj]
                cw[jj] = weights[j]
                for f in range(d_feat):
                    cc[f, jj] = coords[f, j]
            if use_col:
                col[:m] = 0.0
            rows = buf[t, row_to]
            for ii in range(r1 - r0):
                i = pool[r0 + ii]
                wi = weights[i]
                jb = ii + 1 if diag else 0
                if jb >= m:
                    continue
                if d_feat == 2:
                    xi = coords[0, i]
                    yi = coords[1, i]
                    if use_col:
                        s = _sum_col_2d(cc[0, jb:m], cc[1, jb:m], cw[jb:m], col[jb:m], xi, yi, wi)
                    else:
                        s = _sum_2d(cc[0, jb:m], cc[1, jb:m], cw[jb:m], xi, yi, False)
                else:
                    for f in range(d_feat):
                        ci[f] = coords[f, i]
                    _squares_nd(cc, jb, m, ci, tmp)
                    if use_col:
                        s = _sum_col_nd(tmp[: m - jb], cw[jb:m], col[jb:m], wi)
                    else:
                        s = _sum_nd(tmp[: m - jb], cw[jb:m], False)
                rows[i] += s
            if use_col:
                cols = buf[t, col_to]
                for jj in range(m):
                    cols[pool[c0 + jj]] += col[jj]
    out = buf[0].copy()
    for t in range(1, nthreads):
        out += buf[t]
    return out


@njit(parallel=True, cache=_CACHE, fastmath=_FASTMATH, error_model="numpy")
def _symmetric_sums(coords, weights, lab, starts, tile, nthreads):
    """S[c, i] = sum of distances from sorted point i to all of cluster c (no pruning).

    Walks the upper triangle of all pairs in tiles, splitting each tile where the
    clusters change; each distance goes to the row and the column sum.
    """
    d_feat = coords.shape[0]
    n = coords.shape[1]
    k = starts.shape[0] - 1
    nb = (n + tile - 1) // tile
    n_tiles = nb * (nb + 1) // 2
    tile_i = np.empty(n_tiles, np.int64)
    tile_j = np.empty(n_tiles, np.int64)
    p = 0
    for a in range(nb):
        for b in range(a, nb):
            tile_i[p] = a
            tile_j[p] = b
            p += 1
    buf = np.zeros((nthreads, k, n))
    for t in prange(nthreads):
        col = np.empty(tile)
        tmp = np.empty(tile)
        ci = np.empty(d_feat)
        x = coords[0]
        y = coords[min(1, d_feat - 1)]
        for idx in range(t, n_tiles, nthreads):  # round-robin keeps the threads balanced
            i0 = tile_i[idx] * tile
            i1 = min(n, i0 + tile)
            j0 = tile_j[idx] * tile
            j1 = min(n, j0 + tile)
            diag = tile_i[idx] == tile_j[idx]
            i_seg = i0
            while i_seg < i1:  # split the tile where clusters change
                c_i = lab[i_seg]
                i_end = min(i1, starts[c_i + 1])
                j_seg = j0
                while j_seg < j1:
                    c_j = lab[j_seg]
                    j_end = min(j1, starts[c_j + 1])
                    for jj in range(j_seg - j0, j_end - j0):
                        col[jj] = 0.0
                    for i in range(i_seg, i_end):
                        jb = j_seg
                        if diag and i + 1 > jb:
                            jb = i + 1  # strict upper triangle on diagonal tiles
                        if jb >= j_end:
                            continue
                        colv = col[jb - j0 : j_end - j0]
                        w = weights[jb:j_end]
                        wi = weights[i]
                        if d_feat == 2:
                            s = _sum_col_2d(x[jb:j_end], y[jb:j_end], w, colv, x[i], y[i], wi)
                        else:
                            for f in range(d_feat):
                                ci[f] = coords[f, i]
                            _squares_nd(coords, jb, j_end, ci, tmp)
                            s = _sum_col_nd(tmp[: j_end - jb], w, colv, wi)
                        buf[t, c_j, i] += s
                    row = buf[t, c_i]
                    for j in range(j_seg, j_end):
                        row[j] += col[j - j0]
                    j_seg = j_end
                i_seg = i_end
    out = buf[0].copy()
    for t in range(1, nthreads):
        out += buf[t]
    return out


@njit(parallel=True, cache=_CACHE, fastmath=_FASTMATH, error_model="numpy")
def _row_sums(coords, weights, starts, queries, need, exact, block):
    """out[q, c] = sum of distances from sorted point queries[q] to all of cluster c,
    for the clusters with need[q, c] (0 elsewhere). IEEE sqrt if ``exact``."""
    d_feat = coords.shape[0]
    k = starts.shape[0] - 1
    m = queries.shape[0]
    out = np.zeros((m, k))
    for q in prange(m):
        i = queries[q]
        tmp = np.empty(block)
        ci = coords[:, i].copy()
        for c in range(k):
            if not need[q, c]:
                continue
            total = 0.0
            for jb in range(starts[c], starts[c + 1], block):
                je = min(jb + block, starts[c + 1])
                w = weights[jb:je]
                if d_feat == 2:
                    total += _sum_2d(coords[0, jb:je], coords[1, jb:je], w, ci[0], ci[1], exact)
                else:
                    _squares_nd(coords, jb, je, ci, tmp)
                    total += _sum_nd(tmp[: je - jb], w, exact)
            out[q, c] = total
    return out


@njit(parallel=True, cache=_CACHE, error_model="numpy")
def _candidates(coords, lab, counts, queries, cell_cluster, cell_n, cell_mu, cell_r, cell_v, tol):
    """need[q, c]: point queries[q] needs the exact S(i, c) (module docstring, step 1).

    True for the point's own cluster and its candidate clusters. All False for points
    in singleton clusters: their silhouette is 0 whatever the sums are.
    """
    d_feat = coords.shape[0]
    k = counts.shape[0]
    n_cells = cell_cluster.shape[0]
    m = queries.shape[0]
    need = np.zeros((m, k), dtype=np.bool_)
    for q in prange(m):
        i = queries[q]
        own = lab[i]
        if counts[own] == 1:
            continue
        lo = np.zeros(k)
        hi = np.zeros(k)
        for g in range(n_cells):
            c = cell_cluster[g]
            if c == own:
                continue
            t2 = 0.0
            for f in range(d_feat):
                diff = coords[f, i] - cell_mu[f, g]
                t2 += diff * diff
            t = np.sqrt(t2)
            lo[c] += cell_n[g] * max(t, cell_r[g] - t)
            hi[c] += cell_n[g] * min(t + cell_r[g], np.sqrt(t2 + cell_v[g]))
        best = np.inf
        for c in range(k):
            if c != own:
                best = min(best, hi[c] / counts[c])
        need[q, own] = True
        for c in range(k):
            if c != own and lo[c] / counts[c] <= best + tol:
                need[q, c] = True
    return need
