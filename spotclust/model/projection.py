"""Standardise the features, then PCA: the space k-means runs in and the 2-D map."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA, IncrementalPCA
from sklearn.preprocessing import StandardScaler

from spotclust.model.config import BATCH_ROWS, ClusterConfig


@dataclass
class Projection:
    """The rows scaled and projected: what k-means runs on, and the 2-D map."""

    scaler: StandardScaler
    pca: PCA | IncrementalPCA  # the model uses its first pca_components axes
    pca_components: int | None
    model_space: np.ndarray  # rows in the space k-means runs in
    display: np.ndarray  # first two principal components, for maps
    scaled: np.ndarray | None = None  # the scaled features (None when streamed)


def pca_axes(config: ClusterConfig, n_features: int) -> int:
    # One PCA serves both the model (its first pca_components axes) and the 2-D map.
    return min(n_features, max(2, config.pca_components or 2))


def split_projection(projected: np.ndarray, scaled, config: ClusterConfig):
    """(the model space, the 2-D map) of rows projected on every fitted axis."""
    model_space = projected[:, : config.pca_components] if config.pca_components else scaled
    if projected.shape[1] == 1:  # a single feature: the map's second axis is flat
        projected = np.c_[projected, np.zeros(len(projected))]
    return model_space, projected[:, :2]


def project(X: np.ndarray, config: ClusterConfig, timings: dict[str, float]) -> Projection:
    """Scale X in place (no copy: at 10M rows it is ~1 GB), then PCA."""
    t = time.perf_counter()
    scaler = StandardScaler(copy=False)
    for start in range(0, len(X), BATCH_ROWS):  # chunks keep the variance pass's temporaries small
        scaler.partial_fit(X[start : start + BATCH_ROWS])
    scaled = scaler.transform(X, copy=False)
    timings["scale"] = time.perf_counter() - t

    t = time.perf_counter()
    # covariance_eigh works from the features' covariance, never copying the rows.
    pca = PCA(
        n_components=pca_axes(config, X.shape[1]),
        svd_solver="covariance_eigh",
        copy=False,
        random_state=config.seed,
    ).fit(scaled)
    model_space, display = split_projection(pca.transform(scaled), scaled, config)
    timings["pca"] = time.perf_counter() - t
    return Projection(scaler, pca, config.pca_components, model_space, display, scaled)
