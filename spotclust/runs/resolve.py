"""Finding a run: the ONE meaning of "run N" and of "the latest run", with one message each."""

from __future__ import annotations

import duckdb

from spotclust.errors import ConfigError, WarehouseError
from spotclust.model.config import ClusterConfig
from spotclust.warehouse import read_sql

NO_RUNS = "this warehouse has no clustering runs yet: run `spotclust cluster` first"


def no_run(run_id: int) -> ConfigError:
    return ConfigError(f'no run {run_id}: see `spotclust sql "SELECT run_id FROM runs"`')


def resolve_run(con: duckdb.DuckDBPyConnection, run_id: int | None = None) -> dict:
    """The runs row of run_id, or of the latest run (the latest_run view) when it is None.

    Only complete runs are ever committed, so every run found is whole.
    """
    try:
        if run_id is None:
            result = con.execute("SELECT * FROM latest_run")
        else:
            result = con.execute("SELECT * FROM runs WHERE run_id = $run_id", {"run_id": run_id})
        rows = result.fetchall()  # fetchall: DuckDB refuses con.sql() while a result is open
    except duckdb.CatalogException as exc:  # a warehouse from before clustering existed
        raise WarehouseError(NO_RUNS) from exc
    if not rows:
        if run_id is None:
            raise WarehouseError(NO_RUNS)
        raise no_run(run_id)
    return dict(zip([d[0] for d in result.description], rows[0], strict=True))


def current_ingest(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """(ingest_id, sha256 of the file) of the data the warehouse holds now."""
    rows = con.execute(
        "SELECT ingest_id, source_sha256 FROM ingests ORDER BY ingest_id DESC LIMIT 1"
    ).fetchall()
    if not rows:
        raise WarehouseError("the warehouse has no data yet: run `spotclust ingest` first")
    return rows[0]


def check_run_data(con: duckdb.DuckDBPyConnection, run: dict, then: str) -> None:
    """Refuse a run whose data the warehouse no longer holds (re-ingested since).

    assignments keep row numbers and track ids only: the tracks, genres and correlations a
    run is joined with are those of the latest ingest, so they must be the data it used.
    then: what to do after clustering again (e.g. 'export').
    """
    _, current_sha = current_ingest(con)
    if run["data_sha256"] != current_sha or _read_otherwise(con, run["ingest_id"]):
        raise ConfigError(
            f"run {run['run_id']} clustered other data than the warehouse holds now (it was "
            f"re-ingested since): its tracks and genres are gone; cluster again, then {then}"
        )


def _read_otherwise(con: duckdb.DuckDBPyConnection, ingest_id: int) -> bool:
    """Whether the data was read with another shape or mapping since the run's ingest (the
    same file with another --map or --label-column holds other values or genres)."""
    rows = con.execute(read_sql("queries/ingest_readings.sql"), {"ingest_id": ingest_id}).fetchall()
    readings = {(shape, str(mapping)) for shape, mapping in rows if shape is not None}
    return len(readings) > 1


def stored_config(run: dict) -> ClusterConfig:
    """The config a run recorded."""
    method = run["silhouette_method"]
    return ClusterConfig(
        k=run["k"],
        features=tuple(run["features"]),
        pca_components=run["pca_components"],
        seed=run["seed"],
        n_init=run["n_init"],
        row_rule=run["row_rule"],
        algorithm=run["algorithm"],
        silhouette_sample=run["silhouette_sample_size"] if method == "sampled" else None,
        exact_silhouette=method == "exact",
    )


def cluster_summary(con: duckdb.DuckDBPyConnection, run_id: int) -> list[dict]:
    """The cluster_summary rows of a run, in cluster order."""
    result = con.execute(read_sql("queries/run_summary.sql"), {"run_id": run_id})
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
