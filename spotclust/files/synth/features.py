"""The 15 numeric features of one genre's rows, drawn from the fitted model.

A draw takes correlated uniforms from the genre's Gaussian copula and inverts each feature's
empirical distribution: the discrete features (popularity, explicit, key, mode,
time_signature) take one of the observed values with its observed frequency; the continuous
ones interpolate between neighbouring order statistics, so values are new but stay inside the
genre's observed range (0..1 features stay in 0..1, tempo and duration stay positive).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from spotclust.files.synth.fit import FEATURES, GenreModel

DISCRETE = frozenset({"popularity", "explicit", "key", "mode", "time_signature"})
UNIT_FEATURES = frozenset(
    {
        "danceability",
        "energy",
        "speechiness",
        "acousticness",
        "instrumentalness",
        "liveness",
        "valence",
    }
)


def draw_genre(model: GenreModel, g: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 15) feature rows of genre g through the Gaussian copula and empirical marginals."""
    values = model.values[g]
    n = len(values)
    u = ndtr(rng.standard_normal((m, len(FEATURES))) @ model.chol[g].T)
    out = np.empty((m, len(FEATURES)))
    for j, feature in enumerate(FEATURES):
        column = values[:, j]
        if feature in DISCRETE or n == 1:
            out[:, j] = column[np.minimum((u[:, j] * n).astype(np.intp), n - 1)]
        else:
            position = u[:, j] * (n - 1)
            low = np.minimum(position.astype(np.intp), n - 2)
            frac = position - low
            out[:, j] = column[low] + frac * (column[low + 1] - column[low])
    return out


def finish_features(x: np.ndarray) -> dict[str, np.ndarray]:
    """Round and type the drawn features as the real file has them."""
    cols = {}
    for j, feature in enumerate(FEATURES):
        v = x[:, j]
        if feature in UNIT_FEATURES:
            cols[feature] = np.clip(_round_significant(v), 0.0, 1.0)
        elif feature in ("loudness", "tempo"):
            cols[feature] = np.round(v, 3)
        elif feature == "explicit":
            cols[feature] = v > 0.5
        elif feature == "duration_ms":
            cols[feature] = np.maximum(np.round(v), 1).astype(np.int64)
        elif feature == "popularity":
            cols[feature] = np.clip(np.round(v), 0, 100).astype(np.int32)
        else:  # key, mode, time_signature
            cols[feature] = np.round(v).astype(np.int32)
    return cols


def _round_significant(x: np.ndarray, digits: int = 3) -> np.ndarray:
    out = x.copy()
    nz = x != 0
    exponent = np.floor(np.log10(np.abs(x[nz])))
    factor = 10.0 ** (digits - 1 - exponent)
    out[nz] = np.round(x[nz] * factor) / factor
    return out
