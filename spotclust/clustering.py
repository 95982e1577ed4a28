"""Scale, project and cluster the feature matrix; write every result back in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import sklearn
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA, IncrementalPCA
from sklearn.preprocessing import StandardScaler

from spotclust import metrics, warehouse
from spotclust.errors import ConfigError, WarehouseError
from spotclust.features import (
    AUDIO_FEATURES,
    BATCH_ROWS,
    ROW_RULES,
    FeatureBatch,
    FeatureSource,
    feature_source,
    resolve_features,
)
from spotclust.labels import write_labels

ALGORITHMS = ("kmeans", "minibatch")

StageCallback = Callable[[str], None]
STAGES = ("load", "scale", "pca", "kmeans", "silhouette", "metrics", "write")
STREAM_EPOCHS = 3  # passes of mini-batch k-means over the streamed rows


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
        if self.row_rule not in ROW_RULES:
            raise ConfigError(f"unknown row rule {self.row_rule!r}: use tracks or listings")
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(
                f"unknown algorithm {self.algorithm!r}: use {' or '.join(ALGORITHMS)}"
            )
        if self.silhouette_sample is not None and self.silhouette_sample < 2:
            raise ConfigError("--silhouette-sample must be at least 2")


@dataclass
class Projection:
    """The rows scaled and projected: what k-means runs on, and the 2-D map."""

    scaler: StandardScaler
    pca: PCA | IncrementalPCA  # the model uses its first pca_components axes
    pca_components: int | None
    model_space: np.ndarray  # rows in the space k-means runs in
    display: np.ndarray  # first two principal components, for maps
    scaled: np.ndarray | None = None  # the scaled features (None when streamed)


@dataclass
class Model:
    """A fitted k-means on a projection, with clusters numbered by size (0 = largest)."""

    projection: Projection
    kmeans: KMeans | MiniBatchKMeans
    labels: np.ndarray  # cluster per row
    centres: np.ndarray  # k-means centres in the model space, in label order
    scaled_means: np.ndarray  # k x features: member means of the scaled features
    distance: np.ndarray  # each row's distance to its centre in the model space


@dataclass(frozen=True)
class ClusterResult:
    run_id: int
    config: ClusterConfig
    features: list[str]
    rows_used: int
    sizes: list[int]
    metrics: dict[str, float | None]
    timings: dict[str, float]
    summary: list[dict]  # cluster_summary rows


def check_shape(config: ClusterConfig, n_rows: int, n_features: int) -> None:
    if config.k > n_rows:
        raise ConfigError(f"--k {config.k} is larger than the {n_rows} rows to cluster")
    if config.pca_components is not None and config.pca_components > n_features:
        raise ConfigError(
            f"--pca {config.pca_components} is more than the {n_features} features: "
            f"use at most {n_features} or --no-pca"
        )


def _pca_axes(config: ClusterConfig, n_features: int) -> int:
    # One PCA serves both the model (its first pca_components axes) and the 2-D map.
    return min(n_features, max(2, config.pca_components or 2))


def _split_projection(projected: np.ndarray, scaled, config: ClusterConfig):
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
        n_components=_pca_axes(config, X.shape[1]),
        svd_solver="covariance_eigh",
        copy=False,
        random_state=config.seed,
    ).fit(scaled)
    model_space, display = _split_projection(pca.transform(scaled), scaled, config)
    timings["pca"] = time.perf_counter() - t
    return Projection(scaler, pca, config.pca_components, model_space, display, scaled)


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
    labels, order = _order_by_size(km.labels_, config.k)
    centres = km.cluster_centers_[order]
    scaled_means = None
    if projection.scaled is not None:
        scaled_means = _cluster_means(projection.scaled, labels, config.k)
    return Model(projection, km, labels, centres, scaled_means, _distances(space, centres, labels))


def _cluster_means(values: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per-cluster column means without copying member rows."""
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.column_stack(
        [np.bincount(labels, weights=values[:, j], minlength=k) for j in range(values.shape[1])]
    )
    return sums / np.maximum(counts, 1)[:, None]


def _distances(space: np.ndarray, centres: np.ndarray, labels: np.ndarray) -> np.ndarray:
    out = np.empty(len(labels))
    for start in range(0, len(labels), BATCH_ROWS):
        part = slice(start, start + BATCH_ROWS)
        out[part] = np.linalg.norm(space[part] - centres[labels[part]], axis=1)
    return out


def _order_by_size(labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber clusters so 0 is the largest (k-means numbers them arbitrarily).

    Returns the new labels and `order`, the old ids in new order (to reorder centres).
    """
    counts = np.bincount(labels, minlength=k)
    order = np.lexsort((np.arange(k), -counts))  # by size, then old id for ties
    new_id = np.empty_like(order)
    new_id[order] = np.arange(k)
    return new_id[labels].astype(np.int32), order


def stream_fit(
    source: FeatureSource, config: ClusterConfig, stage: StageCallback, timings: dict[str, float]
) -> tuple[Model, FeatureBatch]:
    """Mini-batch k-means fed batch by batch from DuckDB; the feature matrix is never whole.

    Four passes over the rows: scaler statistics, incremental PCA, mini-batch k-means,
    then assignment. Only the model-space coordinates (2 numbers a row with the default
    PCA), the labels and the ids are kept: about 50 bytes a row.
    """
    n_features = len(source.features)

    # Files sorted by genre need mixed batches: shuffle once, then every pass reads in order.
    source = source.shuffled(config.seed)
    batches = source.batches

    stage("scale")
    t = time.perf_counter()
    scaler = StandardScaler()
    for batch in batches():
        scaler.partial_fit(batch.matrix)
    timings["scale"] = time.perf_counter() - t

    stage("pca")
    t = time.perf_counter()
    pca = IncrementalPCA(n_components=_pca_axes(config, n_features))
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
                km.partial_fit(_split_projection(pca.transform(scaled), scaled, config)[0])
    # Assignment pass: labels, coordinates and per-cluster sums of the scaled features.
    n = source.rows
    ids = FeatureBatch(np.empty(n, np.int64), np.empty(n, np.int16), np.empty((0, 0)))
    raw_labels = np.empty(n, np.int32)
    model_space = None
    display = np.empty((n, 2))
    sums = np.zeros((config.k, n_features))
    start = 0
    for batch in batches():
        end = start + len(batch.row_number)
        scaled = scaler.transform(batch.matrix)
        projected = pca.transform(scaled)
        space, shown = _split_projection(projected, scaled, config)
        if model_space is None:
            model_space = np.empty((n, space.shape[1]))
        labels = km.predict(space)
        ids.row_number[start:end], ids.genre[start:end] = batch.row_number, batch.genre
        raw_labels[start:end], model_space[start:end], display[start:end] = labels, space, shown
        for j in range(n_features):
            sums[:, j] += np.bincount(labels, weights=scaled[:, j], minlength=config.k)
        start = end
    labels, order = _order_by_size(raw_labels, config.k)
    centres = km.cluster_centers_[order]
    counts = np.bincount(raw_labels, minlength=config.k)
    scaled_means = (sums / np.maximum(counts, 1)[:, None])[order]
    distance = _distances(model_space, centres, labels)
    km.inertia_ = float((distance**2).sum())  # over all rows, like KMeans (not the last batch)
    timings["kmeans"] = time.perf_counter() - t
    projection = Projection(scaler, pca, config.pca_components, model_space, display)
    return Model(projection, km, labels, centres, scaled_means, distance), ids


def run(
    config: ClusterConfig,
    db: str | Path | None = None,
    on_stage: StageCallback | None = None,
) -> ClusterResult:
    """Cluster the warehouse's clean tracks and write the run; all or nothing."""
    config.check()
    stage = on_stage or (lambda name: None)
    t_start = time.perf_counter()
    con = warehouse.connect(db)
    try:
        warehouse.ensure_schema(con)
        ingest_id, data_sha256 = current_ingest(con)

        stage("load")
        t = time.perf_counter()
        features = resolve_features(con, list(config.features) if config.features else None)
        source = feature_source(con, features, config.row_rule)
        check_shape(config, source.rows, len(features))
        timings: dict[str, float] = {}
        if config.algorithm == "minibatch":
            timings["load"] = time.perf_counter() - t  # reading is part of every streamed pass
            model, ids = stream_fit(source, config, stage, timings)
        else:
            ids = source.load()
            timings["load"] = time.perf_counter() - t
            stage("scale")
            projection = project(ids.matrix, config, timings)
            stage("kmeans")
            t = time.perf_counter()
            model = fit_kmeans(projection, config)
            timings["kmeans"] = time.perf_counter() - t
        space = model.projection.model_space

        stage("silhouette")
        t = time.perf_counter()
        silhouette = metrics.silhouette(
            space,
            model.labels,
            sample_size=config.silhouette_sample,
            seed=config.seed,
            force_exact=config.exact_silhouette,
        )
        timings["silhouette"] = time.perf_counter() - t

        stage("metrics")
        t = time.perf_counter()
        pca = model.projection.pca
        scores = {
            "inertia": float(model.kmeans.inertia_),
            "silhouette": silhouette.value,
            **metrics.separation(space, model.labels),
            **metrics.genre_agreement(ids.genre, model.labels),
            "explained_variance": float(
                pca.explained_variance_ratio_[: config.pca_components].sum()
            )
            if config.pca_components
            else None,
        }
        timings["metrics"] = time.perf_counter() - t

        stage("write")
        t = time.perf_counter()
        with warehouse.transaction(con):
            run_id = con.execute("SELECT nextval('run_id_seq')").fetchone()[0]
            _write_run(
                con, run_id, config, features, source, ids, model, silhouette, scores, timings,
                ingest_id, data_sha256,
            )  # fmt: skip
            timings["write"] = time.perf_counter() - t
            timings["total"] = time.perf_counter() - t_start
            con.execute(
                "UPDATE runs SET seconds_write = ?, seconds_total = ? WHERE run_id = ?",
                [timings["write"], timings["total"], run_id],
            )
        summary = cluster_summary(con, run_id)
    finally:
        con.close()
    return ClusterResult(
        run_id=run_id,
        config=config,
        features=features,
        rows_used=len(model.labels),
        sizes=np.bincount(model.labels, minlength=config.k).tolist(),
        metrics={**scores, **_silhouette_columns(silhouette)},
        timings=timings,
        summary=summary,
    )


def current_ingest(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    row = con.execute(
        "SELECT ingest_id, source_sha256 FROM ingests ORDER BY ingest_id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        raise WarehouseError("the warehouse has no data yet: run `spotclust ingest` first")
    return row


def _silhouette_columns(s: metrics.Silhouette) -> dict:
    return {
        "silhouette_method": s.method,
        "silhouette_sample_size": s.sample_size,
        "silhouette_ci_low": s.ci_low,
        "silhouette_ci_high": s.ci_high,
    }


def _versions() -> dict[str, str]:
    from spotclust import __version__

    return {
        "spotclust_version": __version__,
        "sklearn_version": sklearn.__version__,
        "duckdb_version": duckdb.__version__,
        "polars_version": pl.__version__,
        "numpy_version": np.__version__,
    }


def _write_run(
    con,
    run_id: int,
    config: ClusterConfig,
    features: list[str],
    source: FeatureSource,
    ids: FeatureBatch,
    model: Model,
    silhouette: metrics.Silhouette,
    scores: dict,
    timings: dict,
    ingest_id: int,
    data_sha256: str,
) -> None:
    record = {
        "run_id": run_id,
        "created_at": datetime.now(UTC),
        "status": "complete",
        "k": config.k,
        "features": features,
        "pca_components": config.pca_components,
        "algorithm": config.algorithm,
        "seed": config.seed,
        "n_init": config.n_init,
        "row_rule": config.row_rule,
        "rows_used": len(model.labels),
        "ingest_id": ingest_id,
        "data_sha256": data_sha256,
        **scores,
        **_silhouette_columns(silhouette),
        **{f"seconds_{name}": value for name, value in timings.items()},
        **_versions(),
    }
    columns = ", ".join(record)
    placeholders = ", ".join(f"${name}" for name in record)
    con.execute(f"INSERT INTO runs ({columns}) VALUES ({placeholders})", record)

    # track_id comes from the source table by row_number: no strings travel through Python.
    display = model.projection.display
    new_rows = pa.table(
        {
            "row_number": ids.row_number,
            "cluster": model.labels,
            "pc1": np.ascontiguousarray(display[:, 0]),
            "pc2": np.ascontiguousarray(display[:, 1]),
            "distance": model.distance,
        }
    )
    con.register("new_assignments", new_rows)
    con.execute(
        f"""
        INSERT INTO assignments
        SELECT $run_id, n.row_number, s.track_id, n.cluster, n.pc1, n.pc2, n.distance
        FROM new_assignments AS n JOIN {source.table} AS s USING (row_number)
        """,
        {"run_id": run_id},
    )
    con.unregister("new_assignments")

    _write_centroids(con, run_id, features, model)
    _write_model(con, run_id, features, model)
    _write_profiles(con, run_id, source, features)
    write_labels(con, run_id)


def _write_centroids(con, run_id: int, features: list[str], model: Model) -> None:
    scaler = model.projection.scaler
    n_model = model.centres.shape[1]
    model_dims = (
        [f"pc{i + 1}" for i in range(n_model)] if model.projection.pca_components else features
    )
    rows = []
    for cluster, (centre, scaled_mean) in enumerate(
        zip(model.centres, model.scaled_means, strict=True)
    ):
        # Scaling is linear, so the mean in original units follows from the scaled mean.
        original_mean = scaled_mean * scaler.scale_ + scaler.mean_
        for j, feature in enumerate(features):
            rows.append((run_id, cluster, "original", feature, float(original_mean[j])))
            rows.append((run_id, cluster, "scaled", feature, float(scaled_mean[j])))
        for dim, value in zip(model_dims, centre, strict=True):
            rows.append((run_id, cluster, "model", dim, float(value)))
    con.executemany("INSERT INTO centroids VALUES (?, ?, ?, ?, ?)", rows)


def _write_model(con, run_id: int, features: list[str], model: Model) -> None:
    """What it takes to place a new track: the scaler and the PCA loadings."""
    scaler, pca = model.projection.scaler, model.projection.pca
    con.executemany(
        "INSERT INTO run_features VALUES (?, ?, ?, ?, ?, ?)",
        [
            (run_id, i, f, float(m), float(s), float(c))
            for i, (f, m, s, c) in enumerate(
                zip(features, scaler.mean_, scaler.scale_, pca.mean_, strict=True)
            )
        ],
    )
    rows = []
    # All fitted axes: the model uses the first runs.pca_components, maps use pc1 and pc2.
    for c, loadings in enumerate(pca.components_):
        variance = float(pca.explained_variance_[c])
        ratio = float(pca.explained_variance_ratio_[c])
        for feature, loading in zip(features, loadings, strict=True):
            rows.append((run_id, c + 1, feature, float(loading), variance, ratio))
    con.executemany("INSERT INTO pca_components VALUES (?, ?, ?, ?, ?, ?)", rows)


def _write_profiles(con, run_id: int, source: FeatureSource, features: list[str]) -> None:
    """The per-cluster describe() of every audio feature, computed in DuckDB.

    One feature at a time: exact quartiles must hold a feature's values for the whole run
    (80 MB at 10M rows), and all 15 at once would not fit DuckDB's memory budget.
    """
    casts = ", ".join(f'CAST(s."{f}" AS DOUBLE) AS "{f}"' for f in AUDIO_FEATURES)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE profile_rows AS
        SELECT a.cluster, {casts}
        FROM assignments AS a JOIN {source.table} AS s USING (row_number)
        WHERE a.run_id = $run_id
        """,
        {"run_id": run_id},
    )
    for feature in AUDIO_FEATURES:  # names from our own constant, so quoting is safe
        con.execute(
            f"""
            INSERT INTO cluster_profiles
            SELECT $run_id, cluster, $feature, $in_model, n, mean, std, lo, q[1], q[2], q[3], hi
            FROM (
                SELECT cluster, count(value) AS n, avg(value) AS mean, stddev_samp(value) AS std,
                       min(value) AS lo, quantile_cont(value, [0.25, 0.5, 0.75]) AS q,
                       max(value) AS hi
                FROM (SELECT cluster, "{feature}" AS value FROM profile_rows)
                GROUP BY cluster
            )
            """,
            {"run_id": run_id, "feature": feature, "in_model": feature in features},
        )
    con.execute("DROP TABLE profile_rows")


def cluster_summary(con: duckdb.DuckDBPyConnection, run_id: int) -> list[dict]:
    result = con.execute(
        "SELECT * FROM cluster_summary WHERE run_id = $run_id ORDER BY cluster", {"run_id": run_id}
    )
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


@dataclass(frozen=True)
class RepeatCheck:
    original_run: int
    same_data: bool  # the current ingest has the sha256 the original run recorded
    identical: bool  # every row got the same cluster
    rows_compared: int
    rows_differing: int


def stored_config(con: duckdb.DuckDBPyConnection, run_id: int) -> tuple[ClusterConfig, str]:
    """The config a run recorded, and the sha256 of the data it used."""
    rows = con.execute(
        """
        SELECT k, features, pca_components, seed, n_init, row_rule, algorithm,
               silhouette_method, silhouette_sample_size, data_sha256
        FROM runs WHERE run_id = $run_id
        """,
        {"run_id": run_id},
    ).fetchall()
    if not rows:
        raise ConfigError(f'no run {run_id}: see `spotclust sql "SELECT run_id FROM runs"`')
    k, features, pcs, seed, n_init, row_rule, algorithm, method, sample, sha = rows[0]
    config = ClusterConfig(
        k=k,
        features=tuple(features),
        pca_components=pcs,
        seed=seed,
        n_init=n_init,
        row_rule=row_rule,
        algorithm=algorithm,
        silhouette_sample=sample if method == "sampled" else None,
        exact_silhouette=method == "exact",
    )
    return config, sha


def repeat(
    run_id: int, db: str | Path | None = None, on_stage: StageCallback | None = None
) -> tuple[ClusterResult, RepeatCheck]:
    """Run a recorded run again and say whether every row landed in the same cluster."""
    con = warehouse.connect(db, read_only=True)
    try:
        config, sha = stored_config(con, run_id)
    finally:
        con.close()
    result = run(config, db, on_stage)
    con = warehouse.connect(db, read_only=True)
    try:
        ((current_sha,),) = con.execute(
            "SELECT data_sha256 FROM runs WHERE run_id = $r", {"r": result.run_id}
        ).fetchall()
        ((compared, differing),) = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE a.cluster IS DISTINCT FROM b.cluster)
            FROM (SELECT * FROM assignments WHERE run_id = $old) AS a
            FULL JOIN (SELECT * FROM assignments WHERE run_id = $new) AS b USING (row_number)
            """,
            {"old": run_id, "new": result.run_id},
        ).fetchall()
    finally:
        con.close()
    check = RepeatCheck(run_id, current_sha == sha, differing == 0, compared, differing)
    return result, check
