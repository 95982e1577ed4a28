"""A model fitted by Spark as plain numbers, under the attribute names of the scikit-learn
objects a local run holds (mean_, scale_, components_, ...), so that runs/write.py stores
both alike: run_features, pca_components and centroids are the whole model either way."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FittedScaler:
    """Spark's StandardScalerModel: scaled = (value - mean_) / scale_. Spark divides by the
    sample standard deviation (n - 1); scikit-learn by the population one."""

    mean_: np.ndarray
    scale_: np.ndarray


@dataclass(frozen=True)
class FittedPCA:
    """Spark's PCAModel: components_ is axes x features. Spark projects without centring
    (its input, standardised, has mean 0), so its centre mean_ is 0."""

    mean_: np.ndarray
    components_: np.ndarray
    explained_variance_: np.ndarray
    explained_variance_ratio_: np.ndarray


@dataclass(frozen=True)
class FittedProjection:
    scaler: FittedScaler
    pca: FittedPCA
    pca_components: int | None  # None: k-means ran on the scaled features


@dataclass(frozen=True)
class FittedModel:
    """What runs/write.py's write_fitted reads of a model."""

    projection: FittedProjection
    centres: np.ndarray  # k x model dimensions, clusters numbered by size (0 = largest)
    scaled_means: np.ndarray  # k x features: member means of the scaled features


def scaler_from(mean: np.ndarray, std: np.ndarray) -> FittedScaler:
    # A constant feature has std 0: Spark scales it to 0, and so does a scale of 1 (its
    # values all equal the mean), without a division by zero when a song is placed.
    return FittedScaler(mean_=mean, scale_=np.where(std > 0, std, 1.0))


def pca_from(pc: np.ndarray, ratio: np.ndarray, scale: FittedScaler, std: np.ndarray):
    """PCA from Spark's loadings (features x axes) and explained-variance ratios. Each
    standardised feature has variance 1 (0 if constant): their sum is the total variance
    the ratios are shares of."""
    total = float(np.count_nonzero(std > 0))
    return FittedPCA(
        mean_=np.zeros(len(scale.mean_)),
        components_=np.ascontiguousarray(pc.T),
        explained_variance_=ratio * total,
        explained_variance_ratio_=ratio,
    )
