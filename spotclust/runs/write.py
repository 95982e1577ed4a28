"""Writing a fitted run into the warehouse's tables (inside the caller's transaction), and
the warehouse as a run or a sweep shares it: read without the write lock, then written once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from spotclust import warehouse
from spotclust.errors import WarehouseError
from spotclust.features import AUDIO_FEATURES, FeatureSource
from spotclust.model.config import ClusterConfig, FeatureBatch
from spotclust.model.kmeans import Model
from spotclust.model.metrics import Silhouette
from spotclust.runs.labels import write_labels
from spotclust.runs.resolve import current_ingest
from spotclust.warehouse import quote_identifier, read_sql
from spotclust.warehouse.errors import same_process


def read_only_here(db: Path) -> str:
    return (
        f"this process already has the warehouse {db} open read-only "
        "(duckdb.connect(..., read_only=True)): close that connection (con.close()), "
        "then run again"
    )


class SharedWarehouse:
    """The warehouse as a run or a sweep uses it: read through a read-only connection (other
    processes read meanwhile, and only the reading holds it: an in-memory fit runs with it
    closed), then opened for writing for the one write transaction.

    DuckDB opens a file once per process, with one setting (read-only or not). If this
    process has the warehouse open already (a notebook's duckdb.connect), a read-write
    connection is shared by both steps; beside a read-only one the write could never open,
    so that is said at once, before the fit. A wait for another process is said once.
    """

    def __init__(self, db: str | Path | None = None) -> None:
        self.db = Path(db) if db is not None else warehouse.default_db_path()
        self.shares_a_writer = False  # this process's own read-write connection, shared
        self.told: list[str] = []  # whom the command has said it waits for

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to read from; an older layout is upgraded first, in a short write."""
        con = self._open_to_read()
        try:
            if warehouse.schema_version(con) != warehouse.SCHEMA_VERSION:
                con.close()
                with self.writing("the upgraded layout") as upgrading:
                    warehouse.ensure_schema(upgrading)
                con = self._open_to_read()
            yield con
        finally:
            con.close()

    @contextmanager
    def writing(self, what: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse open for writing `what` ('the fitted run': named if it must wait)."""
        with warehouse.connection(self.db, to_write=what, told=self.told) as con:
            yield con

    def _open_to_read(self) -> duckdb.DuckDBPyConnection:
        if self.shares_a_writer:
            return warehouse.connect(self.db, told=self.told)
        try:
            return warehouse.connect(self.db, read_only=True, alone=True, told=self.told)
        except WarehouseError as exc:
            if str(exc) != same_process(self.db):
                raise
        # This process has the file open already, through a connection of its own: which?
        try:
            duckdb.connect(str(self.db), read_only=True).close()
        except duckdb.ConnectionException:
            self.shares_a_writer = True  # read-write (or other settings: connect says so)
            return warehouse.connect(self.db, told=self.told)
        raise WarehouseError(read_only_here(self.db))


def check_same_data(con: duckdb.DuckDBPyConnection, ingest_id: int, what: str) -> None:
    """First thing in the write transaction: the layout current, and the data the fit read
    still the warehouse's (another process may have ingested since). what: 'run', 'sweep'."""
    warehouse.ensure_schema(con)
    now, _ = current_ingest(con)
    if now != ingest_id:
        raise WarehouseError(
            f"the data changed while this {what} was fitting (ingest {ingest_id} replaced by "
            f"{now}): run the command again"
        )


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
    silhouette: Silhouette | None = None,
) -> None:
    """Every table of a run. measured: the scores, silhouette columns and timings;
    silhouette: its per-row values, for silhouette_values."""
    insert_run(con, run_id, config, source.features, len(model.labels), measured, ingest)
    _write_assignments(con, run_id, source, ids, model)
    write_fitted(con, run_id, source, model)
    if silhouette is not None and silhouette.values is not None:
        write_silhouette_values(con, run_id, ids.row_number, silhouette)


def insert_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    config: ClusterConfig,
    features: list[str],
    rows_used: int,
    measured: dict,
    ingest: tuple[int, str],
) -> None:
    """The run's row of `runs`. measured: scores, silhouette columns, timings, and for
    another engine than the local one its columns (engine, engine_version, ...)."""
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
        "rows_used": rows_used,
        "ingest_id": ingest[0],
        "data_sha256": ingest[1],
        **measured,
        **versions(),
    }
    insert_record(con, "runs", record)


def write_fitted(con: duckdb.DuckDBPyConnection, run_id: int, source: FeatureSource, model):
    """Everything of a run but its row of `runs` and its assignments (written first): the
    centroids, the fitted scaler and PCA, the profiles, the genre counts and the labels
    (which name the genres counted). model: a Model, or any object with the same fitted
    numbers (projection.scaler.mean_, .scale_; projection.pca.mean_, .components_,
    .explained_variance_, .explained_variance_ratio_; projection.pca_components; centres;
    scaled_means), as another engine gives them."""
    _write_centroids(con, run_id, source.features, model)
    _write_model(con, run_id, source.features, model)
    _write_profiles(con, run_id, source)
    write_genre_counts(con, run_id)
    write_labels(con, run_id)


def write_genre_counts(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """cluster_genres: the tracks of each genre in each cluster of the run, counted once from
    its assignments (written first) for everything that reads genre_breakdown."""
    con.execute(read_sql("queries/insert_cluster_genres.sql"), {"run_id": run_id})


def write_silhouette_values(con, run_id: int, row_number: np.ndarray, s: Silhouette) -> None:
    """s(i) of every row scored (all of them, or the sample), by raw_tracks row.
    row_number: the rows s was computed over, in order (s.rows indexes them)."""
    rows = row_number if s.rows is None else np.asarray(row_number)[s.rows]
    con.register("new_silhouette", pa.table({"row_number": rows, "silhouette": s.values}))
    con.execute(
        "INSERT INTO silhouette_values (run_id, row_number, silhouette) "
        "SELECT $run_id, row_number, silhouette FROM new_silhouette",
        {"run_id": run_id},
    )
    con.unregister("new_silhouette")


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
    insert_assignments(con, run_id, source)
    con.unregister("new_assignments")


def insert_assignments(con: duckdb.DuckDBPyConnection, run_id: int, source: FeatureSource):
    """The rows of the relation registered as new_assignments (row_number, cluster, pc1,
    pc2, distance) into assignments, with each row's track_id from the source table."""
    sql = read_sql("queries/insert_assignments.sql").format(source=source.table)
    con.execute(sql, {"run_id": run_id})


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
