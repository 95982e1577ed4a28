"""k-means on a projection held in memory, with clusters numbered by size (0 = largest)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans

from spotclust.model.config import BATCH_ROWS, ClusterConfig
from spotclust.model.projection import Projection


@dataclass
class Model:
    """A fitted k-means on a projection, with clusters numbered by size (0 = largest)."""

    projection: Projection
    kmeans: KMeans | MiniBatchKMeans
    labels: np.ndarray  # cluster per row
    centres: np.ndarray  # k-means centres in the model space, in label order
    scaled_means: np.ndarray  # k x features: member means of the scaled features
    distance: np.ndarray  # each row's distance to its centre in the model space


def fit_kmeans(projection: Projection, config: ClusterConfig) -> Model:
    """k-means (or mini-batch k-means) on the projection, held in memory."""
    space = projection.model_space
    if config.algorithm == "minibatch":
        km = MiniBatchKMeans(
            n_clusters=config.k, n_init=config.n_init, random_state=config.seed, batch_size=4096
        ).fit(space)
    else:
        km = KMeans(
            n_clusters=config.k, n_init=config.n_init, random_state=config.seed, copy_x=False
        ).fit(space)
    labels, order = order_by_size(km.labels_, config.k)
    centres = km.cluster_centers_[order]
    scaled_means = None
    if projection.scaled is not None:
        scaled_means = cluster_means(projection.scaled, labels, config.k)
    return Model(projection, km, labels, centres, scaled_means, distances(space, centres, labels))


def cluster_means(values: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per-cluster column means without copying member rows."""
    return (
        cluster_sums(values, labels, k) / np.maximum(np.bincount(labels, minlength=k), 1)[:, None]
    )


def cluster_sums(values: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """k x columns: per-cluster column sums, one bincount per column."""
    return np.column_stack(
        [np.bincount(labels, weights=values[:, j], minlength=k) for j in range(values.shape[1])]
    )


def distances(space: np.ndarray, centres: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each row's Euclidean distance to its cluster's centre, a batch at a time."""
    out = np.empty(len(labels))
    for start in range(0, len(labels), BATCH_ROWS):
        part = slice(start, start + BATCH_ROWS)
        out[part] = np.linalg.norm(space[part] - centres[labels[part]], axis=1)
    return out


def order_by_size(labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber clusters so 0 is the largest (k-means numbers them arbitrarily).

    Returns the new labels and `order`, the old ids in new order (to reorder centres).
    """
    counts = np.bincount(labels, minlength=k)
    order = np.lexsort((np.arange(k), -counts))  # by size, then old id for ties
    new_id = np.empty_like(order)
    new_id[order] = np.arange(k)
    return new_id[labels].astype(np.int32), order
