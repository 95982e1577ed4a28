"""Writing a fitted run into the warehouse's tables (inside the caller's transaction)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import numpy as np
import pyarrow as pa

from spotclust.features import AUDIO_FEATURES, FeatureSource
from spotclust.model.config import ClusterConfig, FeatureBatch
from spotclust.model.kmeans import Model
from spotclust.model.metrics import Silhouette
from spotclust.runs.labels import write_labels
from spotclust.warehouse import quote_identifier, read_sql


def silhouette_columns(s: Silhouette) -> dict:
    return {
        "silhouette_method": s.method,
        "silhouette_sample_size": s.sample_size,
        "silhouette_ci_low": s.ci_low,
        "silhouette_ci_high": s.ci_high,
    }


def versions() -> dict[str, str]:
    """The versions of what decides a run's numbers, recorded with it."""
    import polars as pl
    import sklearn

    from spotclust import __version__

    return {
        "spotclust_version": __version__,
        "sklearn_version": sklearn.__version__,
        "duckdb_version": duckdb.__version__,
        "polars_version": pl.__version__,
        "numpy_version": np.__version__,
    }


def insert_record(con: duckdb.DuckDBPyConnection, table: str, record: dict) -> None:
    """One row, by column name (an upgraded warehouse may hold the columns in another order)."""
    columns = ", ".join(quote_identifier(name) for name in record)
    placeholders = ", ".join(f"${name}" for name in record)
    con.execute(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", record)


def write_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    config: ClusterConfig,
    source: FeatureSource,
    ids: FeatureBatch,
    model: Model,
    measured: dict,
    ingest: tuple[int, str],
) -> None:
    """Every table of a run. measured: the scores, silhouette columns and timings."""
    record = {
        "run_id": run_id,
        "created_at": datetime.now(UTC),
        "status": "complete",
        "k": config.k,
        "features": source.features,
        "pca_components": config.pca_components,
        "algorithm": config.algorithm,
        "seed": config.seed,
        "n_init": config.n_init,
        "row_rule": config.row_rule,
        "rows_used": len(model.labels),
        "ingest_id": ingest[0],
        "data_sha256": ingest[1],
        **measured,
        **versions(),
    }
    insert_record(con, "runs", record)
    _write_assignments(con, run_id, source, ids, model)
    _write_centroids(con, run_id, source.features, model)
    _write_model(con, run_id, source.features, model)
    _write_profiles(con, run_id, source)
    write_labels(con, run_id)


def _write_assignments(con, run_id: int, source: FeatureSource, ids: FeatureBatch, model: Model):
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
    sql = read_sql("queries/insert_assignments.sql").format(source=source.table)
    con.execute(sql, {"run_id": run_id})
    con.unregister("new_assignments")


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


def _write_profiles(con, run_id: int, source: FeatureSource) -> None:
    """The per-cluster describe() of every audio feature, computed in DuckDB."""
    casts = ", ".join(f'CAST(s."{f}" AS DOUBLE) AS "{f}"' for f in AUDIO_FEATURES)
    rows = read_sql("queries/profile_rows.sql").format(casts=casts, source=source.table)
    con.execute(rows, {"run_id": run_id})
    for feature in AUDIO_FEATURES:  # names from our own constant, so quoting is safe
        con.execute(
            read_sql("queries/insert_profile.sql").format(feature=feature),
            {"run_id": run_id, "feature": feature, "in_model": feature in source.features},
        )
    con.execute("DROP TABLE profile_rows")
