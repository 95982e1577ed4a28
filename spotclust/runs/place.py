"""Place new songs (or warehouse tracks) into the clusters of a run, with its own fitted model.

The model is stored as plain numbers in the warehouse (run_features: the scaler and PCA
centre; pca_components: the loadings; centroids: the k-means centres), not as pickles, so
any spotclust version can read it; the runs row says which versions fitted it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from spotclust import __version__
from spotclust.errors import ConfigError, InputFileError
from spotclust.features import AUDIO_FEATURES
from spotclust.runs.resolve import resolve_run
from spotclust.warehouse import connection, read_sql
from spotclust.warehouse.errors import first_line

# Fields a song may carry besides audio features; they name it but do not place it.
DESCRIPTIVE_FIELDS = {
    "name",
    "track_name",
    "track_id",
    "artists",
    "album_name",
    "genre",
    "track_genre",
}


@dataclass(frozen=True)
class RunModel:
    run_id: int
    features: list[str]
    mean: np.ndarray  # scaler
    scale: np.ndarray
    pca_mean: np.ndarray
    loadings: np.ndarray | None  # components x features; None without PCA
    centres: np.ndarray  # k x model dimensions
    labels: list[str]
    fitted_with: str  # spotclust version of the run

    def model_space(self, values: np.ndarray) -> np.ndarray:
        """Rows of feature values (original units) -> the space k-means ran in."""
        scaled = (values - self.mean) / self.scale
        if self.loadings is None:
            return scaled
        return (scaled - self.pca_mean) @ self.loadings.T

    def version_note(self) -> str | None:
        """A warning line when the run was fitted by another spotclust version."""
        if self.fitted_with.split(".")[:2] != __version__.split(".")[:2]:
            return (
                f"note: run {self.run_id} was fitted by spotclust {self.fitted_with}, this is "
                f"{__version__}; its stored model is plain numbers, so placing still works"
            )
        return None


@dataclass
class Placement:
    name: str
    cluster: int
    label: str
    distances: list[float]  # to every centroid, by cluster
    typicality: float  # share of the cluster's members further from the centre than this song
    assumed: list[str] = field(default_factory=list)  # features not given: the run's mean used
    neighbours: list[dict] = field(default_factory=list)


def load_model(con: duckdb.DuckDBPyConnection, run: dict) -> RunModel:
    """The fitted model a run stored, as numbers."""
    run_id, pcs, version = run["run_id"], run["pca_components"], run["spotclust_version"]
    params = {"run_id": run_id}
    feats = con.execute(
        read_sql("queries/place_features.sql"),
        params,
    ).fetchall()
    features = [f[0] for f in feats]
    # Names are pasted as identifiers in later queries: accept only the known features, in
    # case someone edited run_features through `spotclust sql --write`.
    if not features or not set(features) <= set(AUDIO_FEATURES):
        raise ConfigError(f"run {run_id} has no usable stored model: run `spotclust cluster` again")
    loadings = None
    if pcs:
        rows = con.execute(
            read_sql("queries/place_loadings.sql"),
            {**params, "pcs": pcs},
        ).fetchall()
        loadings = np.zeros((pcs, len(features)))
        for component, feature, loading in rows:
            loadings[component - 1, features.index(feature)] = loading
    dims = [f"pc{i + 1}" for i in range(pcs)] if pcs else features
    centre_rows = con.execute(
        read_sql("queries/place_centroids.sql"),
        params,
    ).fetchall()
    k = 1 + max(c for c, _, _ in centre_rows)
    centres = np.zeros((k, len(dims)))
    for cluster, dim, value in centre_rows:
        centres[cluster, dims.index(dim)] = value
    label_rows = dict(con.execute(read_sql("queries/place_labels.sql"), params).fetchall())
    return RunModel(
        run_id=run_id,
        features=features,
        mean=np.array([f[1] for f in feats]),
        scale=np.array([f[2] for f in feats]),
        pca_mean=np.array([f[3] for f in feats]),
        loadings=loadings,
        centres=centres,
        labels=[label_rows.get(c, f"cluster {c}") for c in range(k)],
        fitted_with=version,
    )


def read_songs(path: str | Path) -> list[dict]:
    """Songs from a CSV (header = feature names, optional name/track_name) or JSON list."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"no such file: {path}: give a CSV or JSON file of songs")
    if path.suffix.lower() == ".json":
        try:
            songs = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputFileError(f"{path} is not valid JSON: {exc}") from exc
        if isinstance(songs, dict):
            songs = [songs]
        if not isinstance(songs, list) or not all(isinstance(s, dict) for s in songs):
            raise InputFileError(f"{path}: expected a JSON object or a list of objects")
        return songs
    with duckdb.connect() as con:
        try:
            result = con.execute(
                "SELECT * FROM read_csv($path, header = true)", {"path": str(path)}
            )
            columns = [d[0] for d in result.description]
            return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
        except duckdb.Error as exc:
            raise InputFileError(f"cannot read {path}: {first_line(str(exc))}") from exc


def song_values(model: RunModel, song: dict) -> tuple[np.ndarray, list[str]]:
    """The song's feature vector in the run's order; missing features take the run's mean."""
    values, assumed = [], []
    for feature, mean in zip(model.features, model.mean, strict=True):
        value = song.get(feature)
        if value is None or value == "":
            values.append(mean)
            assumed.append(feature)
            continue
        if isinstance(value, bool):
            value = int(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{feature} = {value!r} is not a number") from None
        if not np.isfinite(number):
            raise ConfigError(f"{feature} = {value!r} is not a finite number")
        values.append(number)
    unknown = sorted(set(song) - set(AUDIO_FEATURES) - DESCRIPTIVE_FIELDS)
    if unknown:
        raise ConfigError(
            f"unknown field(s) {', '.join(unknown)}: the run uses {', '.join(model.features)}"
        )
    return np.array(values, dtype=np.float64), assumed


def place(
    songs: list[dict] | None = None,
    track_ids: list[str] | None = None,
    run_id: int | None = None,
    db: str | Path | None = None,
    neighbours: int = 10,
) -> tuple[RunModel, list[Placement]]:
    """Place songs given by their features, and/or warehouse tracks by id, into a run's clusters."""
    songs = list(songs or [])
    with connection(db, read_only=True) as con:
        model = load_model(con, resolve_run(con, run_id))
        for track_id in track_ids or []:
            songs.append(_warehouse_track(con, model, track_id))
        if not songs:
            raise ConfigError("no songs to place: give feature options, --file or --track-id")
        placements = []
        for number, song in enumerate(songs, start=1):
            values, assumed = song_values(model, song)
            point = model.model_space(values[None, :])[0]
            distances = np.linalg.norm(model.centres - point, axis=1)
            cluster = int(np.argmin(distances))
            placements.append(
                Placement(
                    name=str(song.get("name") or song.get("track_name") or f"song {number}"),
                    cluster=cluster,
                    label=model.labels[cluster],
                    distances=[float(d) for d in distances],
                    typicality=_typicality(con, model.run_id, cluster, float(distances[cluster])),
                    assumed=assumed,
                    neighbours=_neighbours(con, model, values, neighbours),
                )
            )
    return model, placements


def _warehouse_track(con, model: RunModel, track_id: str) -> dict:
    columns = ", ".join(f'"{f}"' for f in model.features)  # names come from run_features
    result = con.execute(
        f"SELECT track_name, track_id, {columns} FROM tracks WHERE track_id = $id", {"id": track_id}
    )
    rows = result.fetchall()
    if not rows:
        raise ConfigError(f"no track {track_id!r} in the warehouse's clean tracks")
    names = [d[0] for d in result.description]
    return dict(zip(names, rows[0], strict=True))


def _typicality(con, run_id: int, cluster: int, distance: float) -> float:
    """Share of the cluster's members that lie further from its centre than this point."""
    (share,) = con.execute(
        read_sql("queries/place_typicality.sql"),
        {"d": distance, "run_id": run_id, "cluster": cluster},
    ).fetchall()[0]
    return float(share or 0.0)


def _neighbours(con, model: RunModel, values: np.ndarray, limit: int) -> list[dict]:
    """The closest tracks of the run, by distance over its scaled features."""
    terms = " + ".join(
        f'pow((CAST(t."{f}" AS DOUBLE) - $mean_{i}) / $scale_{i} - $z_{i}, 2)'
        for i, f in enumerate(model.features)
    )
    scaled = (values - model.mean) / model.scale
    params: dict = {"run_id": model.run_id, "limit": limit}
    for i in range(len(model.features)):
        params |= {f"mean_{i}": model.mean[i], f"scale_{i}": model.scale[i], f"z_{i}": scaled[i]}
    result = con.execute(
        read_sql("queries/place_neighbours.sql").format(terms=terms),
        params,
    )
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
