"""Mini-batch k-means fed batch by batch: the feature matrix is never whole in memory."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import IncrementalPCA
from sklearn.preprocessing import StandardScaler

from spotclust.model.config import ClusterConfig, FeatureBatch
from spotclust.model.kmeans import Model, cluster_sums, distances, order_by_size
from spotclust.model.projection import Projection, pca_axes, split_projection

STREAM_EPOCHS = 3  # passes of mini-batch k-means over the streamed rows
StageCallback = Callable[[str], None]


Batches = Callable[[], Iterator[FeatureBatch]]  # a fresh pass over the rows, in one order


def stream_fit(
    batches: Batches,
    n_rows: int,
    config: ClusterConfig,
    stage: StageCallback,
    timings: dict[str, float],
) -> tuple[Model, FeatureBatch]:
    """Mini-batch k-means over `batches` (rows already shuffled: every pass reads in order).

    Four passes over the rows: scaler statistics, incremental PCA, mini-batch k-means,
    then assignment. Only the model-space coordinates (2 numbers a row with the default
    PCA), the labels and the ids are kept: about 50 bytes a row.
    """
    stage("scale")
    t = time.perf_counter()
    scaler = StandardScaler()
    for batch in batches():
        scaler.partial_fit(batch.matrix)
    timings["scale"] = time.perf_counter() - t

    stage("pca")
    t = time.perf_counter()
    pca = IncrementalPCA(n_components=pca_axes(config, len(scaler.mean_)))
    for batch in batches():
        if len(batch.matrix) >= pca.n_components:
            pca.partial_fit(scaler.transform(batch.matrix))
    timings["pca"] = time.perf_counter() - t

    stage("kmeans")
    t = time.perf_counter()
    km = MiniBatchKMeans(n_clusters=config.k, n_init=config.n_init, random_state=config.seed)
    for _ in range(STREAM_EPOCHS):
        for batch in batches():
            if len(batch.matrix) >= config.k:
                scaled = scaler.transform(batch.matrix)
                km.partial_fit(split_projection(pca.transform(scaled), scaled, config)[0])
    model, ids = _assign(batches, n_rows, config, scaler, pca, km)
    timings["kmeans"] = time.perf_counter() - t
    return model, ids


def _assign(batches: Batches, n: int, config: ClusterConfig, scaler, pca, km):
    """The assignment pass: labels, coordinates and per-cluster sums of the scaled features."""
    ids = FeatureBatch(np.empty(n, np.int64), np.empty(n, np.int16), np.empty((0, 0)))
    raw_labels = np.empty(n, np.int32)
    model_space = None
    display = np.empty((n, 2))
    sums = np.zeros((config.k, len(scaler.mean_)))
    start = 0
    for batch in batches():
        end = start + len(batch.row_number)
        scaled = scaler.transform(batch.matrix)
        space, shown = split_projection(pca.transform(scaled), scaled, config)
        if model_space is None:
            model_space = np.empty((n, space.shape[1]))
        labels = km.predict(space)
        ids.row_number[start:end], ids.genre[start:end] = batch.row_number, batch.genre
        raw_labels[start:end], model_space[start:end], display[start:end] = labels, space, shown
        sums += cluster_sums(scaled, labels, config.k)
        start = end
    labels, order = order_by_size(raw_labels, config.k)
    centres = km.cluster_centers_[order]
    counts = np.bincount(raw_labels, minlength=config.k)
    scaled_means = (sums / np.maximum(counts, 1)[:, None])[order]
    distance = distances(model_space, centres, labels)
    km.inertia_ = float((distance**2).sum())  # over all rows, like KMeans (not the last batch)
    projection = Projection(scaler, pca, config.pca_components, model_space, display)
    return Model(projection, km, labels, centres, scaled_means, distance), ids
