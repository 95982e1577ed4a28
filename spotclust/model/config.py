"""Everything that decides a run's result, checked before any work starts."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from spotclust.errors import ConfigError

ALGORITHMS = ("kmeans", "minibatch")
# Which rows of the clean data are clustered: one per track, or every genre listing (as the
# original notebook did). The warehouse side maps each to its table (features.ROW_RULES).
ROW_RULE_NAMES = ("tracks", "listings")
# The stages of a clustering run, in order (progress displays count them).
STAGES = ("load", "scale", "pca", "kmeans", "silhouette", "metrics", "write")
BATCH_ROWS = 262_144  # rows per batch: bounded memory whatever the table size


@dataclass(frozen=True)
class ClusterConfig:
    """Everything that decides a run's result."""

    k: int = 4
    features: tuple[str, ...] | None = None  # None: the default set (feature_selection)
    pca_components: int | None = 2  # None: cluster the scaled features directly
    seed: int = 0
    n_init: int = 10
    row_rule: str = "tracks"  # 'tracks' (one row per track) or 'listings' (every genre listing)
    algorithm: str = "kmeans"
    silhouette_sample: int | None = None  # None: exact (sampled automatically above a size)
    exact_silhouette: bool = False  # force exact whatever the size

    def __post_init__(self) -> None:
        if self.features is not None:  # accept any sequence, keep the config hashable
            object.__setattr__(self, "features", tuple(self.features))

    def check(self) -> None:
        if self.k < 2:
            raise ConfigError(f"--k {self.k}: k must be at least 2")
        if self.n_init < 1:
            raise ConfigError(f"--n-init {self.n_init}: must be at least 1")
        if self.pca_components is not None and self.pca_components < 1:
            raise ConfigError(f"--pca {self.pca_components}: must be at least 1 (or use --no-pca)")
        if self.row_rule not in ROW_RULE_NAMES:
            raise ConfigError(f"unknown row rule {self.row_rule!r}: use tracks or listings")
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(
                f"unknown algorithm {self.algorithm!r}: use {' or '.join(ALGORITHMS)}"
            )
        if self.silhouette_sample is not None and self.silhouette_sample < 2:
            raise ConfigError("--silhouette-sample must be at least 2")

    def check_shape(self, n_rows: int, n_features: int) -> None:
        """Checks that need the data's size."""
        if self.k > n_rows:
            raise ConfigError(f"--k {self.k} is larger than the {n_rows} rows to cluster")
        if self.pca_components is not None and self.pca_components > n_features:
            raise ConfigError(
                f"--pca {self.pca_components} is more than the {n_features} features: "
                f"use at most {n_features} or --no-pca"
            )


@dataclass(frozen=True)
class FeatureBatch:
    """Rows of the feature matrix with where each came from."""

    row_number: np.ndarray  # int64: the raw_tracks row each point came from
    genre: np.ndarray  # int16 index into the source's genres: one genre label per row
    matrix: np.ndarray  # float64, rows x features


def parse_k_range(text: str) -> list[int]:
    """'2..12', '2-12' or '2,4,8' -> sorted distinct ks."""
    text = text.strip()
    if match := re.fullmatch(r"(\d+)\s*(?:\.\.|-)\s*(\d+)", text):
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            raise ConfigError(f"--k {text}: the range is empty; write it low..high, e.g. 2..12")
        ks = list(range(low, high + 1))
    elif re.fullmatch(r"\d+(\s*,\s*\d+)*", text):
        ks = sorted({int(part) for part in text.split(",")})
    else:
        raise ConfigError(f"--k {text!r}: write a range like 2..12 or a list like 2,4,8")
    if ks[0] < 1:
        raise ConfigError(f"--k {text}: every k must be at least 1")
    return ks
