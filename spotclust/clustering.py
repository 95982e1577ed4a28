"""Scale, project and cluster the feature matrix; write every result back in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import sklearn
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from spotclust import metrics, warehouse
from spotclust.errors import ConfigError, WarehouseError
from spotclust.features import ROW_RULES, FeatureFrame, load_features, resolve_features

ALGORITHMS = ("kmeans", "minibatch")
# Features described in cluster_profiles for every run, whether or not the run used them.
PROFILE_FEATURES = (
    "popularity", "duration_ms", "explicit", "danceability", "energy", "key", "loudness", "mode",
    "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
    "time_signature",
)  # fmt: skip

StageCallback = Callable[[str], None]
STAGES = ("load", "scale", "pca", "kmeans", "silhouette", "metrics", "write")


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
class Model:
    """A fitted scaler, optional PCA and k-means, with labels ordered by cluster size."""

    scaler: StandardScaler
    pca: PCA  # fitted on the scaled rows; the model uses its first pca_components axes
    pca_components: int | None
    kmeans: KMeans | MiniBatchKMeans
    labels: np.ndarray  # cluster per row, 0 = the largest cluster
    centres: np.ndarray  # k-means centres in the model space, in label order
    model_space: np.ndarray  # the rows in the space k-means ran in
    scaled: np.ndarray
    display: np.ndarray  # first two principal components, for maps
    timings: dict[str, float] = field(default_factory=dict)


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


def fit(X: np.ndarray, config: ClusterConfig, on_stage: StageCallback | None = None) -> Model:
    """Scale, project and cluster X (rows x features) as the config says."""
    stage = on_stage or (lambda name: None)
    timings: dict[str, float] = {}
    n_rows, n_features = X.shape
    if config.k > n_rows:
        raise ConfigError(f"--k {config.k} is larger than the {n_rows} rows to cluster")
    if config.pca_components is not None and config.pca_components > n_features:
        raise ConfigError(
            f"--pca {config.pca_components} is more than the {n_features} features: "
            f"use at most {n_features} or --no-pca"
        )

    stage("scale")
    t = time.perf_counter()
    scaler = StandardScaler().fit(X)
    scaled = scaler.transform(X)
    timings["scale"] = time.perf_counter() - t

    stage("pca")
    t = time.perf_counter()
    # One PCA serves both the model (its first pca_components axes) and the 2-D map.
    n_components = min(n_features, max(2, config.pca_components or 2))
    pca = PCA(n_components=n_components, random_state=config.seed).fit(scaled)
    projected = pca.transform(scaled)
    model_space = projected[:, : config.pca_components] if config.pca_components else scaled
    display = projected[:, :2] if n_components >= 2 else np.c_[projected, np.zeros(n_rows)]
    timings["pca"] = time.perf_counter() - t

    stage("kmeans")
    t = time.perf_counter()
    if config.algorithm == "minibatch":
        km = MiniBatchKMeans(
            n_clusters=config.k, n_init=config.n_init, random_state=config.seed, batch_size=4096
        ).fit(model_space)
    else:
        km = KMeans(n_clusters=config.k, n_init=config.n_init, random_state=config.seed).fit(
            model_space
        )
    labels, centres = _order_by_size(km.labels_, km.cluster_centers_)
    timings["kmeans"] = time.perf_counter() - t
    return Model(
        scaler,
        pca,
        config.pca_components,
        km,
        labels,
        centres,
        model_space,
        scaled,
        display,
        timings,
    )


def _order_by_size(labels: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber clusters so 0 is the largest; k-means numbers them arbitrarily."""
    counts = np.bincount(labels, minlength=len(centres))
    order = np.lexsort((np.arange(len(centres)), -counts))  # by size, then old id for ties
    new_id = np.empty_like(order)
    new_id[order] = np.arange(len(order))
    return new_id[labels], centres[order]


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
        data = load_features(con, features, config.row_rule)
        X = data.matrix
        load_seconds = time.perf_counter() - t

        model = fit(X, config, stage)
        timings = {"load": load_seconds, **model.timings}

        stage("silhouette")
        t = time.perf_counter()
        silhouette = metrics.silhouette(
            model.model_space,
            model.labels,
            sample_size=config.silhouette_sample,
            seed=config.seed,
            force_exact=config.exact_silhouette,
        )
        timings["silhouette"] = time.perf_counter() - t

        stage("metrics")
        t = time.perf_counter()
        scores = {
            "inertia": float(model.kmeans.inertia_),
            "silhouette": silhouette.value,
            **metrics.separation(model.model_space, model.labels),
            **metrics.genre_agreement(data.genres, model.labels),
            "explained_variance": float(
                model.pca.explained_variance_ratio_[: model.pca_components].sum()
            )
            if model.pca_components
            else None,
        }
        timings["metrics"] = time.perf_counter() - t

        stage("write")
        t = time.perf_counter()
        with warehouse.transaction(con):
            run_id = con.execute("SELECT nextval('run_id_seq')").fetchone()[0]
            _write_run(con, run_id, config, features, data, model, silhouette, scores, timings,
                       ingest_id, data_sha256)  # fmt: skip
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


def _write_run(con, run_id, config, features, data: FeatureFrame, model: Model, silhouette,
               scores, timings, ingest_id, data_sha256) -> None:  # fmt: skip
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

    distance = np.linalg.norm(model.model_space - model.centres[model.labels], axis=1)
    assignments = pl.DataFrame(
        {
            "run_id": np.full(len(model.labels), run_id, dtype=np.int32),
            "row_number": data.frame["row_number"],
            "track_id": data.frame["track_id"],
            "cluster": model.labels.astype(np.int32),
            "pc1": model.display[:, 0],
            "pc2": model.display[:, 1],
            "distance": distance,
        }
    )
    con.register("new_assignments", assignments.to_arrow())
    con.execute("INSERT INTO assignments SELECT * FROM new_assignments")
    con.unregister("new_assignments")

    _write_centroids(con, run_id, features, model)
    _write_model(con, run_id, features, model)
    _write_profiles(con, run_id, features)


def _write_centroids(con, run_id: int, features: list[str], model: Model) -> None:
    model_dims = (
        [f"pc{i + 1}" for i in range(model.pca_components)] if model.pca_components else features
    )
    rows = []
    for cluster, centre in enumerate(model.centres):
        scaled_mean = model.scaled[model.labels == cluster].mean(axis=0)
        # Scaling is linear, so the mean in original units follows from the scaled mean.
        original_mean = scaled_mean * model.scaler.scale_ + model.scaler.mean_
        for j, feature in enumerate(features):
            rows.append((run_id, cluster, "original", feature, float(original_mean[j])))
            rows.append((run_id, cluster, "scaled", feature, float(scaled_mean[j])))
        for dim, value in zip(model_dims, centre, strict=True):
            rows.append((run_id, cluster, "model", dim, float(value)))
    con.executemany("INSERT INTO centroids VALUES (?, ?, ?, ?, ?)", rows)


def _write_model(con, run_id: int, features: list[str], model: Model) -> None:
    """What it takes to place a new track: the scaler and the PCA loadings."""
    con.executemany(
        "INSERT INTO run_features VALUES (?, ?, ?, ?, ?)",
        [
            (run_id, i, f, float(m), float(s))
            for i, (f, m, s) in enumerate(
                zip(features, model.scaler.mean_, model.scaler.scale_, strict=True)
            )
        ],
    )
    rows = []
    # All fitted axes: the model uses the first runs.pca_components, maps use pc1 and pc2.
    for c, loadings in enumerate(model.pca.components_):
        variance = float(model.pca.explained_variance_[c])
        ratio = float(model.pca.explained_variance_ratio_[c])
        for feature, loading in zip(features, loadings, strict=True):
            rows.append((run_id, c + 1, feature, float(loading), variance, ratio))
    con.executemany("INSERT INTO pca_components VALUES (?, ?, ?, ?, ?, ?)", rows)


def _write_profiles(con, run_id: int, features: list[str]) -> None:
    """The per-cluster describe(), computed in DuckDB over the rows the run used."""
    casts = ", ".join(f'CAST(r."{f}" AS DOUBLE) AS "{f}"' for f in PROFILE_FEATURES)
    con.execute(
        f"""
        INSERT INTO cluster_profiles
        WITH used AS (
            SELECT a.cluster, {casts}
            FROM assignments AS a JOIN valid_rows AS r USING (row_number)
            WHERE a.run_id = $run_id
        ),
        long AS (
            UNPIVOT used ON COLUMNS(* EXCLUDE (cluster)) INTO NAME feature VALUE value
        )
        SELECT $run_id, cluster, feature, list_contains($features, feature), count(*),
               avg(value), stddev_samp(value), min(value), quantile_cont(value, 0.25),
               quantile_cont(value, 0.5), quantile_cont(value, 0.75), max(value)
        FROM long
        GROUP BY cluster, feature
        """,
        {"run_id": run_id, "features": features},
    )


def cluster_summary(con: duckdb.DuckDBPyConnection, run_id: int) -> list[dict]:
    result = con.execute(
        "SELECT * FROM cluster_summary WHERE run_id = $run_id ORDER BY cluster", {"run_id": run_id}
    )
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def config_dict(config: ClusterConfig) -> dict:
    return asdict(config)
