"""A run's scores from per-cluster sums, computed in one pass over the rows (by Spark), so
that nothing per row comes back to this process: Calinski-Harabasz, Davies-Bouldin, the
inertia, the scaled member means, and the agreement with the genres from the genre x
cluster contingency table. Each is scikit-learn's formula, written for sums."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import mutual_info_score

from spotclust.model.metrics import GENRE_SCORES, adjusted_rand, separation_scores


@dataclass(frozen=True)
class ClusterSums:
    """Per cluster (clusters numbered 0..k-1): the members' count, the sums of their
    coordinates in the model space, of their squared norms, of their distances (and squared
    distances) to the k-means centre, and of their raw features; with the genre x cluster
    counts (rows without a genre left out)."""

    counts: np.ndarray  # (k,)
    space_sums: np.ndarray  # (k, model dimensions)
    space_squares: np.ndarray  # (k,)
    distance_sums: np.ndarray  # (k,)
    distance_squares: np.ndarray  # (k,)
    raw_sums: np.ndarray | None = None  # (k, features)
    contingency: np.ndarray | None = None  # (genres, k)


def separation(sums: ClusterSums) -> dict[str, float | None]:
    """Calinski-Harabasz and Davies-Bouldin as scikit-learn defines them over the non-empty
    clusters, from sums. Davies-Bouldin's scatter is the mean distance to the k-means centre:
    the member mean it is defined with, once k-means has converged (to its tolerance)."""
    members = sums.counts > 0
    if members.sum() < 2:
        return {"calinski_harabasz": None, "davies_bouldin": None}
    counts = sums.counts[members].astype(float)
    means = sums.space_sums[members] / counts[:, None]
    overall = sums.space_sums[members].sum(axis=0) / counts.sum()
    within = float((sums.space_squares[members] - counts * (means**2).sum(axis=1)).sum())
    return separation_scores(
        sums.counts[members], means, overall, within, sums.distance_sums[members]
    )


def inertia(sums: ClusterSums) -> float:
    return float(sums.distance_squares.sum())


def total_inertia(count: int, coordinate_sums: np.ndarray, square_sum: float) -> float:
    """The sum of squared distances to the mean of all rows: the inertia of k = 1."""
    return float(square_sum - (coordinate_sums**2).sum() / count)


def genre_agreement(contingency: np.ndarray) -> dict[str, float | None]:
    """Adjusted Rand, NMI, homogeneity, completeness and purity from the genre x cluster
    counts, as model.metrics.genre_agreement gives them from the rows."""
    table = np.asarray(contingency, dtype=np.int64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n = int(table.sum())
    if n == 0:
        return dict.fromkeys(GENRE_SCORES)
    h_genre, h_cluster = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    mutual = float(mutual_info_score(None, None, contingency=table))
    homogeneity = mutual / h_genre if h_genre else 1.0
    completeness = mutual / h_cluster if h_cluster else 1.0
    return {
        "adjusted_rand": adjusted_rand(table),
        "normalized_mutual_info": _normalized_mutual_info(table, mutual, h_genre, h_cluster),
        "homogeneity": float(homogeneity),
        "completeness": float(completeness),
        "purity": float(table.max(axis=0).sum() / n),
    }


def _entropy(counts: np.ndarray) -> float:
    """scikit-learn's entropy of a labelling, from its label counts."""
    counts = counts[counts > 0].astype(np.float64)
    total = counts.sum()
    return float(-np.sum((counts / total) * (np.log(counts) - np.log(total))))


def _normalized_mutual_info(table, mutual: float, h_genre: float, h_cluster: float) -> float:
    """scikit-learn's normalized_mutual_info_score (arithmetic mean of the entropies)."""
    if table.shape[0] == table.shape[1] == 1:
        return 1.0
    if mutual == 0:
        return 0.0
    return float(mutual / ((h_genre + h_cluster) / 2))
