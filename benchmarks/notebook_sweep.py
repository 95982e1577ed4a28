"""The sweep k=2..12 with a silhouette for each k, done the notebook way (the reference for
`spotclust sweep`): pandas read_csv, dropna, the 12 features, StandardScaler, PCA(2), then for
each k KMeans(random_state=0) with scikit-learn's defaults and
sklearn.metrics.silhouette_score on every row (or on --sample N rows).

usage: python notebook_sweep.py CSV [--k 2..12] [--sample N]

Prints one line per k as it goes, then one JSON line (prefixed "RESULT ") with everything.
"""

from __future__ import annotations

import json
import sys
import time

from notebook_method import notebook_points
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score


def main(argv: list[str]) -> None:
    path = argv[1]
    low, high = 2, 12
    if "--k" in argv:
        low, high = (int(x) for x in argv[argv.index("--k") + 1].split(".."))
    sample = int(argv[argv.index("--sample") + 1]) if "--sample" in argv else None

    t0 = time.perf_counter()
    Xp = notebook_points(path)
    t_prep = time.perf_counter() - t0
    print(f"prepared {len(Xp)} rows in {t_prep:.2f}s", flush=True)
    per_k = []
    for k in range(low, high + 1):
        t = time.perf_counter()
        km = KMeans(n_clusters=k, random_state=0).fit(Xp)
        t_fit = time.perf_counter() - t
        t = time.perf_counter()
        sil = silhouette_score(Xp, km.labels_, sample_size=sample, random_state=0)
        t_sil = time.perf_counter() - t
        per_k.append(
            {
                "k": k,
                "inertia": float(km.inertia_),
                "silhouette": float(sil),
                "seconds_kmeans": t_fit,
                "seconds_silhouette": t_sil,
            }
        )
        print(
            f"k={k} inertia={km.inertia_:.1f} silhouette={sil:.6f} "
            f"kmeans={t_fit:.2f}s silhouette_time={t_sil:.2f}s",
            flush=True,
        )
    total = time.perf_counter() - t0
    result = {
        "rows": len(Xp),
        "sample": sample,
        "seconds_prepare": t_prep,
        "seconds_total": total,
        "per_k": per_k,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
