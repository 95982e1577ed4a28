"""Classical (Torgerson) multidimensional scaling: points in the plane whose distances
best match a given distance matrix, from the eigenvectors of its double-centred squares."""

from __future__ import annotations

import numpy as np

__all__ = ["classical_mds", "kept_share", "pairwise_distances"]


def pairwise_distances(points: np.ndarray) -> np.ndarray:
    """(n, n) Euclidean distances between the rows of points."""
    points = np.asarray(points, dtype=np.float64)
    squares = (points**2).sum(axis=1)
    gram = points @ points.T
    return np.sqrt(np.maximum(squares[:, None] + squares[None, :] - 2 * gram, 0.0))


def classical_mds(distances: np.ndarray, dims: int = 2) -> np.ndarray:
    """(n, dims) coordinates whose Euclidean distances approximate ``distances``.

    Exact (to rounding) when the distances are Euclidean in ``dims`` dimensions or fewer;
    otherwise the best rank-``dims`` fit of the double-centred squared distances. Axes of
    negative or zero eigenvalue give 0. The sign of each axis is fixed so that its largest
    coordinate is positive (the same input draws the same picture every time).
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distances must be a square matrix; got shape {d.shape}.")
    n = d.shape[0]
    if n == 0:
        return np.zeros((0, dims))
    centre = np.eye(n) - np.full((n, n), 1.0 / n)
    b = -0.5 * centre @ (d**2) @ centre
    values, vectors = np.linalg.eigh((b + b.T) / 2)
    top = np.argsort(values)[::-1][:dims]
    coords = vectors[:, top] * np.sqrt(np.maximum(values[top], 0.0))
    for j in range(coords.shape[1]):
        if coords[np.argmax(np.abs(coords[:, j])), j] < 0:
            coords[:, j] = -coords[:, j]
    if coords.shape[1] < dims:  # fewer points than dims
        coords = np.hstack([coords, np.zeros((n, dims - coords.shape[1]))])
    return coords


def kept_share(distances: np.ndarray, coords: np.ndarray) -> float:
    """The share of the points' spread (sum of squared distances from their centre, as the
    distances imply it) that the coordinates keep: 1.0 when the plane holds them exactly."""
    d = np.asarray(distances, dtype=np.float64)
    n = d.shape[0]
    total = (d**2).sum() / (2 * n) if n else 0.0
    if total <= 0:
        return 1.0
    centred = coords - coords.mean(axis=0)
    return float(min(1.0, (centred**2).sum() / total))
