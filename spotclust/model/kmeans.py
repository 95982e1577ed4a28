"""k-means on a projection held in memory, with clusters numbered by size (0 = largest)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import MiniBatchKMeans

from spotclust.model.config import BATCH_ROWS, ClusterConfig
from spotclust.model.parallel import map_fits, workers_for
from spotclust.model.projection import Projection

MAX_ITER = 300  # scikit-learn's KMeans defaults
TOL = 1e-4


@dataclass
class KMeansFit:
    """A fitted k-means, with the attributes scikit-learn's KMeans gives it."""

    cluster_centers_: np.ndarray
    labels_: np.ndarray
    inertia_: float
    n_iter_: int

    def predict(self, X: np.ndarray) -> np.ndarray:
        from spotclust.model._kmeans_kernels import nearest

        columns = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
        return nearest(columns, self.cluster_centers_)


@dataclass(frozen=True)
class Rows:
    """Rows prepared once for every k-means restart on them (a sweep makes a hundred):
    centred, as features x rows (the kernels' SIMD layout), with scikit-learn's tolerance
    base and its first-centre distribution. Computing these took a third of a restart."""

    X: np.ndarray
    mean: np.ndarray
    columns: np.ndarray
    variance: float  # mean of the features' variances: tol = variance * TOL
    cdf: np.ndarray  # what RandomState.choice(n, p=uniform) searches

    @classmethod
    def of(cls, X: np.ndarray) -> Rows:
        if isinstance(X, Rows):
            return X
        X = np.asarray(X, dtype=np.float64)
        mean = X.mean(axis=0)
        centred = X - mean
        weights = np.ones(len(X))
        cdf = (weights / weights.sum()).cumsum()
        cdf /= cdf[-1]
        return cls(
            X=X,
            mean=mean,
            columns=np.ascontiguousarray(centred.T),
            variance=float(np.mean(np.var(centred, axis=0))),
            cdf=cdf,
        )


def lloyd_kmeans(X: np.ndarray | Rows, k: int, seed: int) -> KMeansFit:
    """One k-means restart as scikit-learn's KMeans(n_init=1, random_state=seed) makes it:
    k-means++ seeding from the same random draws, then Lloyd's iterations, on the centred
    rows; both compiled (model/_kmeans_kernels.py)."""
    from spotclust.model._kmeans_kernels import lloyd, plusplus

    rows = Rows.of(X)
    random = np.random.RandomState(seed)  # the draws of scikit-learn's _kmeans_plusplus
    # random.choice(n, p=uniform weights), as numpy computes it: one uniform draw, searched
    first = int(rows.cdf.searchsorted(random.random_sample(), side="right"))
    draws = random.uniform(size=(k - 1, 2 + int(np.log(k))))
    init = plusplus(rows.columns, first, draws)
    tol = rows.variance * TOL  # scikit-learn's: relative to the data
    labels, centers, inertia, n_iter = lloyd(rows.columns, init, MAX_ITER, tol)
    return KMeansFit(centers + rows.mean, labels.astype(np.int32), float(inertia), int(n_iter))


def kmeans_restarts(X: np.ndarray, k: int, n_init: int, seed: int) -> KMeansFit:
    """The best of n_init restarts, one after another (for small sets fitted in a pool)."""
    rows = Rows.of(X)
    return best_restart([lloyd_kmeans(rows, k, s) for s in restart_seeds(seed, n_init)])


@dataclass
class Model:
    """A fitted k-means on a projection, with clusters numbered by size (0 = largest)."""

    projection: Projection
    kmeans: KMeansFit | MiniBatchKMeans
    labels: np.ndarray  # cluster per row
    centres: np.ndarray  # k-means centres in the model space, in label order
    scaled_means: np.ndarray  # k x features: member means of the scaled features
    distance: np.ndarray  # each row's distance to its centre in the model space


def fit_kmeans(projection: Projection, config: ClusterConfig) -> Model:
    """k-means (or mini-batch k-means) on the projection, held in memory."""
    return model_of(projection, fit_all(projection.model_space, config, config.k), config.k)


def model_of(projection: Projection, km: KMeansFit | MiniBatchKMeans, k: int) -> Model:
    """The Model of a fitted k-means, its clusters renumbered by size."""
    space = projection.model_space
    labels, order = order_by_size(km.labels_, k)
    centres = km.cluster_centers_[order]
    scaled_means = None
    if projection.scaled is not None:
        scaled_means = cluster_means(projection.scaled, labels, k)
    return Model(projection, km, labels, centres, scaled_means, distances(space, centres, labels))


def restart_seeds(seed: int, n_init: int) -> list[int]:
    """The seed of each restart, drawn from the run's seed (as scikit-learn once did for
    n_jobs): restart i is the same fit whichever thread runs it."""
    return np.random.RandomState(seed).randint(np.iinfo(np.int32).max, size=n_init).tolist()


def restart_tasks(config: ClusterConfig, k: int) -> list[int]:
    """The independent fits that make up k-means with config's restarts, as seeds: one per
    restart (mini-batch k-means: one fit, which does its own restarts)."""
    if config.algorithm == "minibatch":
        return [config.seed]
    return restart_seeds(config.seed, config.n_init)


def restart_rows(space: np.ndarray, config: ClusterConfig) -> np.ndarray | Rows:
    """What fit_task fits, for many restarts on space: Rows prepared once for k-means; the
    rows as they are for mini-batch k-means (a prepared copy would double its memory)."""
    return space if config.algorithm == "minibatch" else Rows.of(space)


def fit_task(space: np.ndarray | Rows, config: ClusterConfig, k: int, seed: int):
    """One of restart_tasks(config, k): a fitted k-means (or MiniBatchKMeans). space: as
    restart_rows gives it, when fitting the same rows many times."""
    if config.algorithm == "minibatch":
        return MiniBatchKMeans(
            n_clusters=k, n_init=config.n_init, random_state=seed, batch_size=4096
        ).fit(space)
    return lloyd_kmeans(space, k, seed)


def fit_all(space: np.ndarray, config: ClusterConfig, k: int) -> KMeansFit | MiniBatchKMeans:
    """The best of config's restarts for k, fitted side by side on every core."""
    rows = restart_rows(space, config)
    fits = map_fits(
        lambda seed: fit_task(rows, config, k, seed),
        restart_tasks(config, k),
        workers_for(space.nbytes),
    )
    return best_restart(fits)


def best_restart(restarts: list[KMeansFit]) -> KMeansFit:
    """The restart of lowest inertia; the first of equals."""
    return min(enumerate(restarts), key=lambda pair: (pair[1].inertia_, pair[0]))[1]


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
