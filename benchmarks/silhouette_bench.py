"""Exact silhouette: scikit-learn's silhouette_score against spotclust's, on the same data.

usage:
  python silhouette_bench.py prepare CSV OUT.npz [--rows N]
                                                     the baseline's 2-D PCA points and k=4 labels
                                                     (the first N of them with --rows)
  python silhouette_bench.py sklearn DATA.npz        time sklearn.metrics.silhouette_score once
  python silhouette_bench.py spotclust DATA.npz [--repeats N]
                                                     time silhouette_score of
                                                     spotclust.model.silhouette: the first call
                                                     in this process (cold), then N more (warm)

The data are made exactly as benchmarks/baseline_notebook.py makes them (pandas read_csv,
dropna, the 12 features, StandardScaler, PCA(2, random_state=0), KMeans(4, random_state=0)),
so the scikit-learn time is the silhouette stage of the baseline. Each mode prints one JSON
line prefixed "RESULT ".
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def prepare(csv: str, out: str, rows: int | None = None) -> dict:
    from notebook_method import notebook_points
    from sklearn.cluster import KMeans

    Xp = notebook_points(csv)
    labels = KMeans(n_clusters=4, random_state=0).fit(Xp).labels_
    if rows:  # a smaller problem, for smoke tests
        Xp, labels = Xp[:rows], labels[:rows]
    np.savez(out, X=Xp, labels=labels)
    return {"rows": len(Xp), "dims": Xp.shape[1], "k": int(labels.max()) + 1}


def _load(path: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(path)
    return data["X"], data["labels"]


def time_sklearn(path: str) -> dict:
    from sklearn.metrics import silhouette_score

    X, labels = _load(path)
    t = time.perf_counter()
    value = silhouette_score(X, labels)
    return {"rows": len(X), "seconds": time.perf_counter() - t, "value": float(value)}


def time_spotclust(path: str, repeats: int) -> dict:
    t = time.perf_counter()
    import numba

    from spotclust.model.silhouette import silhouette_score

    seconds_import = time.perf_counter() - t
    X, labels = _load(path)
    t = time.perf_counter()
    value = silhouette_score(X, labels)  # loads the on-disk numba cache, or compiles
    first = time.perf_counter() - t
    warm, values = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        values.append(silhouette_score(X, labels))
        warm.append(time.perf_counter() - t)
    return {
        "rows": len(X),
        "seconds_import": seconds_import,
        "seconds_first_call": first,
        "seconds_warm": warm,
        "value": float(value),
        "values_identical": all(v == value for v in values),
        "threads": numba.get_num_threads(),
        "threading_layer": numba.threading_layer(),
        "pairs_computed": pairs_computed(X, labels),
        "peak_pairs_per_second_per_core": peak_pair_rate(),
    }


def pairs_computed(X: np.ndarray, labels: np.ndarray) -> int:
    """The pair distances the exact method works out for these points: its planned tiles
    over the distinct points (the pairs pruning keeps), or every pair of distinct points
    once when it does not prune."""
    import numba

    from spotclust.model import silhouette as sil

    prep = sil._prepare(X, labels)
    n = prep.lab.shape[0]  # distinct (point, label) pairs: repeated points count once
    need = sil._need(prep, np.arange(n, dtype=np.int64))
    plan = sil._plan(prep, need, max(1, numba.get_num_threads()))
    if plan is None:
        return n * (n - 1) // 2
    tiles = plan[1]
    rows, cols = tiles[:, 1] - tiles[:, 0], tiles[:, 3] - tiles[:, 2]
    diagonal = tiles[:, 6] != 0
    return int(np.where(diagonal, rows * (cols - 1) // 2, rows * cols).sum())


def peak_pair_rate(seconds: float = 1.0) -> float:
    """The arithmetic limit of this machine for the method: pair distances per second on one
    core, when the exact method's own inner loop (2-D distance, the float32-seeded square
    root, row and column sums) runs on 1,024 columns held in L1, with no memory traffic and
    no planning."""
    from numba import njit

    from spotclust.model._silhouette_kernels import _FASTMATH, _sum_col_2d

    @njit(cache=False, fastmath=_FASTMATH, error_model="numpy")  # as the kernels are compiled
    def rows_against_block(xs, ys, x, y, w, col, repeats):
        total = 0.0
        for _ in range(repeats):
            for r in range(xs.shape[0]):
                total += _sum_col_2d(x, y, w, col, xs[r], ys[r], 1.0)
        return total

    rng = np.random.default_rng(0)
    xs, ys, x, y = (rng.normal(size=1024) * 2.0**40 for _ in range(4))
    w, col = np.ones(1024), np.zeros(1024)  # every point once
    rows_against_block(xs, ys, x, y, w, col, 1)  # compile
    repeats = 1
    while True:
        t = time.perf_counter()
        rows_against_block(xs, ys, x, y, w, col, repeats)
        spent = time.perf_counter() - t
        if spent >= seconds:
            return repeats * 1024 * 1024 / spent
        repeats *= 2


def main(argv: list[str]) -> None:
    mode = argv[1]
    if mode == "prepare":
        rows = int(argv[argv.index("--rows") + 1]) if "--rows" in argv else None
        result = prepare(argv[2], argv[3], rows)
    elif mode == "sklearn":
        result = time_sklearn(argv[2])
    elif mode == "spotclust":
        repeats = int(argv[argv.index("--repeats") + 1]) if "--repeats" in argv else 3
        result = time_spotclust(argv[2], repeats)
    else:
        raise SystemExit(__doc__)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
