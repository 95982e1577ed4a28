"""Cluster quality: silhouette (exact or sampled), Calinski-Harabasz, Davies-Bouldin, and
agreement of the clusters with the genres."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn import metrics as skm

from spotclust.model import silhouette as sil

# Exact silhouette is quadratic in rows. Above this many rows a run switches to a sampled
# estimate (every sampled row scored exactly against all rows) unless exact is forced.
EXACT_SILHOUETTE_MAX_ROWS = 250_000
DEFAULT_SILHOUETTE_SAMPLE = 5_000


@dataclass(frozen=True)
class Silhouette:
    value: float | None
    method: str  # 'exact' or 'sampled'
    sample_size: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    # s(i) of each point scored: every row in order (exact), or the rows drawn (sampled)
    values: np.ndarray | None = field(default=None, repr=False, compare=False)
    rows: np.ndarray | None = field(default=None, repr=False, compare=False)  # None: all


def silhouette(
    X: np.ndarray,
    labels: np.ndarray,
    sample_size: int | None = None,
    seed: int = 0,
    force_exact: bool = False,
) -> Silhouette:
    """Exact silhouette, or a sampled estimate with a 95% confidence interval.

    sample_size=None means exact up to EXACT_SILHOUETTE_MAX_ROWS rows and a sample of
    DEFAULT_SILHOUETTE_SAMPLE rows above that; force_exact overrides the switch.
    """
    n = len(labels)
    if len(np.unique(labels)) < 2:
        return Silhouette(value=None, method="exact")
    if sample_size is not None and sample_size >= n:
        sample_size = None  # a sample as large as the data is the data: exact
        force_exact = True
    if sample_size is None and (force_exact or n <= EXACT_SILHOUETTE_MAX_ROWS):
        values = sil.silhouette_samples(X, labels)  # silhouette_score is their mean
        return Silhouette(value=float(np.mean(values)), method="exact", values=values)
    m = min(n, sample_size or DEFAULT_SILHOUETTE_SAMPLE)
    rows, values = sil.sampled_silhouette_samples(X, labels, sample_size=m, seed=seed)
    estimate, low, high = sil.sampled_estimate(values, n)
    return Silhouette(
        value=float(estimate),
        method="sampled",
        sample_size=m,
        ci_low=float(low),
        ci_high=float(high),
        values=values,
        rows=rows,
    )


def separation(X: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
    """Calinski-Harabasz (higher is better) and Davies-Bouldin (lower is better), as
    scikit-learn defines them, in a few passes over the rows (labels: 0..k-1).

    scikit-learn's own functions validate and re-label the rows and loop over clusters in
    Python: 50 ms a call at 112k rows, half a second for a sweep of k = 1..10."""
    labels = np.asarray(labels)
    counts = np.bincount(labels)
    sums = np.stack([np.bincount(labels, weights=column, minlength=len(counts)) for column in X.T])
    members = counts > 0
    means = np.zeros_like(sums.T)
    means[members] = sums.T[members] / counts[members, None]
    distance = np.sqrt(((X - means[labels]) ** 2).sum(axis=1))
    within = float((distance**2).sum())
    scatter = np.bincount(labels, weights=distance, minlength=len(counts))
    return separation_scores(
        counts[members], means[members], X.mean(axis=0), within, scatter[members]
    )


def separation_scores(
    counts: np.ndarray, means: np.ndarray, overall: np.ndarray, within: float, distances
) -> dict[str, float | None]:
    """Calinski-Harabasz and Davies-Bouldin over the non-empty clusters from their sizes,
    member means, the mean of all rows, the within-cluster sum of squares and each cluster's
    sum of distances to its mean (scikit-learn's definitions)."""
    k, n = len(counts), float(counts.sum())
    if k < 2:
        return {"calinski_harabasz": None, "davies_bouldin": None}
    counts = counts.astype(float)
    between = float((counts * ((means - overall) ** 2).sum(axis=1)).sum())
    calinski = 1.0 if within == 0 else between * (n - k) / (within * (k - 1))
    scatter = distances / counts
    apart = np.sqrt(((means[:, None, :] - means[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(scatter, 0) or np.allclose(apart, 0):
        return {"calinski_harabasz": calinski, "davies_bouldin": 0.0}
    apart[apart == 0] = np.inf
    ratios = (scatter[:, None] + scatter[None, :]) / apart
    return {"calinski_harabasz": calinski, "davies_bouldin": float(np.max(ratios, axis=1).mean())}


def adjusted_rand(table: np.ndarray) -> float:
    """scikit-learn's adjusted_rand_score from the contingency table of two labellings,
    through its pair confusion matrix, in Python integers (their products overflow 64 bits
    past ~10^9 rows)."""
    n = int(table.sum())
    squares = int((table.astype(object) ** 2).sum())
    both = squares - n
    only_cluster = int((table.astype(object) @ table.sum(axis=0).astype(object)).sum()) - squares
    only_genre = int((table.T.astype(object) @ table.sum(axis=1).astype(object)).sum()) - squares
    neither = n * n - only_cluster - only_genre - squares
    if only_cluster == 0 and only_genre == 0:
        return 1.0
    numerator = 2 * (both * neither - only_genre * only_cluster)
    denominator = (both + only_genre) * (only_genre + neither) + (both + only_cluster) * (
        only_cluster + neither
    )
    return float(numerator / denominator)


def adjusted_rand_of(a: np.ndarray, b: np.ndarray) -> float:
    """adjusted_rand(the contingency table) of two labellings numbered from 0: scikit-learn's
    adjusted_rand_score without its checks and sorts (10 ms a pair at 20,000 rows)."""
    columns = int(b.max()) + 1
    cells = np.bincount(a.astype(np.int64) * columns + b, minlength=(int(a.max()) + 1) * columns)
    table = cells.reshape(-1, columns)
    return adjusted_rand(table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0])


GENRE_SCORES = ("adjusted_rand", "normalized_mutual_info", "homogeneity", "completeness", "purity")


def genre_agreement(genres: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
    """How far the clusters follow the genres (one genre label per clustered row; -1: the
    row has none). None for every score when no row has a genre."""
    known = genres >= 0
    if not known.any():
        return dict.fromkeys(GENRE_SCORES)
    if not known.all():
        genres, labels = genres[known], labels[known]
    homogeneity, completeness, _ = skm.homogeneity_completeness_v_measure(genres, labels)
    contingency = skm.cluster.contingency_matrix(genres, labels, sparse=True)
    purity = contingency.max(axis=0).sum() / len(labels)
    return {
        "adjusted_rand": float(skm.adjusted_rand_score(genres, labels)),
        "normalized_mutual_info": float(skm.normalized_mutual_info_score(genres, labels)),
        "homogeneity": float(homogeneity),
        "completeness": float(completeness),
        "purity": float(purity),
    }
