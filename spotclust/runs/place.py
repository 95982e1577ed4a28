"""Place new songs (or warehouse tracks) into the clusters of a run, with its own fitted model.

The model is stored as plain numbers in the warehouse (run_features: the scaler and PCA
centre; pca_components: the loadings; centroids: the k-means centres), not as pickles, so
any spotclust version can read it; the runs row says which versions fitted it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
from threadpoolctl import threadpool_limits

from spotclust import __version__
from spotclust.errors import ConfigError
from spotclust.features import AUDIO_FEATURES
from spotclust.runs.resolve import resolve_run
from spotclust.warehouse import connection, read_sql

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
    """Place songs given by their features, and/or warehouse tracks by id, into a run's clusters.

    Every song is placed at once: one query reads the run's member distances, one (unless
    neighbours is 0) its tracks; NumPy does the rest.
    """
    songs = list(songs or [])
    with connection(db, read_only=True) as con:
        model = load_model(con, resolve_run(con, run_id))
        songs += _warehouse_tracks(con, model, list(track_ids or []))
        if not songs:
            raise ConfigError("no songs to place: give feature options, --file or --track-id")
        given = [song_values(model, song) for song in songs]
        members = con.execute(read_sql("queries/place_members.sql"), {"run_id": model.run_id})
        members = members.fetchnumpy()
        tracks = _run_tracks(con, model) if neighbours > 0 else None
    # One song at a time, as before: its distance is compared with the members' stored ones,
    # so it must not move in the last bit with the number of songs placed together.
    distances = [
        np.linalg.norm(model.centres - model.model_space(v[None, :])[0], axis=1) for v, _ in given
    ]
    clusters = np.array([int(np.argmin(d)) for d in distances], dtype=np.int64)
    own = np.array([d[c] for d, c in zip(distances, clusters, strict=True)], dtype=np.float64)
    typicality = _typicality(members["cluster"], members["distance"], clusters, own)
    values = np.array([v for v, _ in given]).reshape(len(songs), len(model.features))
    nearest = _neighbours(model, tracks, values, neighbours)
    placements = [
        Placement(
            name=str(song.get("name") or song.get("track_name") or f"song {number}"),
            cluster=int(cluster),
            label=model.labels[cluster],
            distances=[float(d) for d in dist],
            typicality=float(share),
            assumed=assumed,
            neighbours=near,
        )
        for number, (song, (_, assumed), dist, cluster, share, near) in enumerate(
            zip(songs, given, distances, clusters, typicality, nearest, strict=True), start=1
        )
    ]
    return model, placements


def _warehouse_tracks(con, model: RunModel, track_ids: list[str]) -> list[dict]:
    """Clean tracks by id as songs (name and features), in the order given."""
    if not track_ids:
        return []
    result = con.execute(read_sql("queries/place_track_ids.sql"), {"ids": track_ids})
    names = [d[0] for d in result.description]
    found = {row[1]: dict(zip(names, row, strict=True)) for row in result.fetchall()}
    songs = []
    for track_id in track_ids:
        if track_id not in found:
            raise ConfigError(f"no track {track_id!r} in the warehouse's clean tracks")
        # the run's features only, as a song would give them
        song = found[track_id]
        songs.append({k: song[k] for k in ("track_name", "track_id", *model.features)})
    return songs


def _typicality(
    member_clusters: np.ndarray, member_distances: np.ndarray, clusters: np.ndarray, own: np.ndarray
) -> np.ndarray:
    """Per song, the share of its cluster's members further from the centre than it.

    The members come sorted by (cluster, distance); the same as SQL's
    avg(CASE WHEN distance > d THEN 1.0 ELSE 0.0 END), 0 for a cluster without members.
    """
    member_clusters = np.asarray(member_clusters)
    member_distances = np.asarray(member_distances, dtype=np.float64)
    shares = np.zeros(len(clusters), dtype=np.float64)
    for cluster in np.unique(clusters):
        lo, hi = np.searchsorted(member_clusters, [cluster, cluster + 1])
        if hi == lo:
            continue
        mine = clusters == cluster
        not_further = np.searchsorted(member_distances[lo:hi], own[mine], side="right")
        shares[mine] = (hi - lo - not_further) / (hi - lo)
    return shares


# Songs and tracks compared at once in the nearest-track search: a block of distances is
# SONG_BLOCK x TRACK_BLOCK numbers (16 MB), whatever the numbers of songs and tracks.
SONG_BLOCK = 256
TRACK_BLOCK = 8192
NEIGHBOUR_KEYS = ("track_id", "artists", "track_name", "cluster", "genres")  # then distance


@dataclass(frozen=True)
class _RunTracks:
    """A run's tracks for the nearest-track search, by (track_id, cluster): the tie-break."""

    scaled: np.ndarray  # features x tracks: (value - mean) / scale, as the SQL computes it
    norms: np.ndarray  # per track, its squared length in the scaled space
    rows: list[tuple]  # per track, its NEIGHBOUR_KEYS values


def _run_tracks(con, model: RunModel) -> _RunTracks:
    """Every track of the run, read once for all songs."""
    data = con.execute(read_sql("queries/place_tracks.sql"), {"run_id": model.run_id}).fetchnumpy()
    values = np.array([np.asarray(data[f], dtype=np.float64) for f in model.features])
    scaled = (values - model.mean[:, None]) / model.scale[:, None]
    columns = [data[key].tolist() for key in NEIGHBOUR_KEYS]
    rows = list(zip(*columns, strict=True))
    return _RunTracks(scaled, np.einsum("ij,ij->j", scaled, scaled), rows)


def _neighbours(
    model: RunModel, tracks: _RunTracks | None, values: np.ndarray, limit: int
) -> list[list[dict]]:
    """Per song, the `limit` closest tracks of the run by distance over its scaled features
    (ties by track_id), as the old per-song query listed them."""
    if tracks is None or limit <= 0 or not tracks.rows:
        return [[] for _ in range(len(values))]
    points = (values - model.mean) / model.scale
    out: list[list[dict]] = []
    # One BLAS thread: on products this thin (features deep), threads cost more than they
    # save (measured 3x slower with 2 threads on a busy 2-core machine).
    with threadpool_limits(1):
        for start in range(0, len(points), SONG_BLOCK):
            block = points[start : start + SONG_BLOCK]
            song, track, distance = _nearest(block, tracks, limit)
            bounds = np.searchsorted(song, np.arange(len(block) + 1))
            out += [
                [
                    dict(zip(NEIGHBOUR_KEYS, tracks.rows[t], strict=True), distance=d)
                    for t, d in zip(track[lo:hi].tolist(), distance[lo:hi].tolist(), strict=True)
                ]
                for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
            ]
    return out


def _nearest(block: np.ndarray, tracks: _RunTracks, limit: int) -> tuple[np.ndarray, ...]:
    """(song, track, distance) of each song's `limit` nearest tracks, by song, distance and
    track order."""
    song, track = _candidates(block, tracks, limit)
    # the distances of the candidates term by term, as SQL's sqrt(pow(..., 2) + ...) adds them
    total = np.zeros(len(song))
    for feature in range(len(tracks.scaled)):
        diff = tracks.scaled[feature][track] - block[song, feature]
        total += diff * diff
    distance = np.sqrt(total)
    order = np.lexsort((track, distance, song))
    song, track, distance = song[order], track[order], distance[order]
    keep = np.arange(len(song)) - np.searchsorted(song, song) < limit  # rank within its song
    return song[keep], track[keep], distance[keep]


def _candidates(block: np.ndarray, tracks: _RunTracks, limit: int) -> tuple[np.ndarray, ...]:
    """(song, track) pairs that may be among a song's `limit` nearest tracks.

    Screening uses |t|^2 - 2 s.t (the squared distance less |s|^2: one matrix product per
    block of tracks), kept when within `margin` of the song's running limit-th smallest
    value. margin is far above the rounding error of the screen (~1e-15 of the squares'
    size), so no true neighbour is screened out, ties at the limit included.
    """
    margin = 1e-10 * (np.einsum("ij,ij->i", block, block) + tracks.norms.max())
    bound = np.full(len(block), np.inf)
    minus_two = -2.0 * block  # exact: (-2s).t rounds as s.t does
    songs, found = [], []
    step = max(TRACK_BLOCK, limit)
    for start in range(0, tracks.scaled.shape[1], step):
        screen = minus_two @ tracks.scaled[:, start : start + step]
        screen += tracks.norms[start : start + step]
        hits = screen <= bound[:, None]
        if np.count_nonzero(hits) > 2 * limit * len(block):  # the first block, or a loose bound
            kth = np.partition(screen, limit - 1, axis=1)[:, limit - 1]
            bound = np.minimum(bound, kth + margin)
            hits = screen <= bound[:, None]
        song, track = np.divmod(np.flatnonzero(hits), screen.shape[1])  # faster than 2-D
        songs.append(song)
        found.append(track + start)
    return np.concatenate(songs), np.concatenate(found)
