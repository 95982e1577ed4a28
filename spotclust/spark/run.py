"""A clustering run on Spark: the rows staged as Parquet from a read-only warehouse, fitted
and scored by Spark, and every table written in one transaction once Spark is done: the
tables of a local run, so that every later command works on it unchanged."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spotclust import warehouse
from spotclust.engine import Engine
from spotclust.errors import ConfigError, EngineError
from spotclust.features import FeatureSource
from spotclust.model import metrics
from spotclust.model.config import ClusterConfig
from spotclust.runs.cluster import ClusterResult, StageCallback
from spotclust.runs.resolve import cluster_summary
from spotclust.runs.write import (
    SharedWarehouse,
    check_same_data,
    insert_assignments,
    insert_run,
    silhouette_columns,
    write_fitted,
    write_silhouette_values,
)
from spotclust.spark import scores
from spotclust.spark.fitted import FittedModel, FittedProjection
from spotclust.spark.scores import ClusterSums
from spotclust.spark.session import spark_errors, spark_session
from spotclust.spark.stage import RunStage, default_root, run_stage, stage_rows


@dataclass(frozen=True)
class SparkRun:
    """Everything a Spark run hands to the write: small, whatever the number of rows."""

    rows: int
    sizes: list[int]
    model: FittedModel
    scores: dict  # the runs columns of a local run's scores
    silhouette: metrics.Silhouette
    silhouette_rows: np.ndarray  # the row_number of each row the silhouette was scored over
    engine_columns: dict  # engine, engine_version, engine_master, ...


@dataclass(frozen=True)
class Silhouettes:
    """The Euclidean silhouette (as a local run's), the rows it was scored over, how many
    rows it was scored against when not all of them; and Spark's own."""

    euclidean: metrics.Silhouette
    rows: np.ndarray
    reference_rows: int | None
    spark: float


def check_for_spark(config: ClusterConfig) -> None:
    config.check()
    if config.algorithm != "kmeans":
        raise ConfigError(
            f"--algorithm {config.algorithm} is for the local engine: Spark's k-means is "
            "distributed already (drop --algorithm, or use --engine local)"
        )


def run_spark(
    config: ClusterConfig, db: str | Path | None, on_stage: StageCallback | None, engine: Engine
) -> ClusterResult:
    """Cluster the clean tracks with Spark and write the run; all or nothing. The warehouse
    is read-only while the rows are staged, closed while Spark works, and written in one
    transaction after Spark has finished."""
    check_for_spark(config)
    stage = on_stage or (lambda name: None)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    shared = SharedWarehouse(db)
    root = engine.stage or default_root(shared.db)
    with spark_errors(), run_stage(root, given=engine.stage is not None) as area:
        stage("load")
        t = time.perf_counter()
        ingest, source = stage_rows(shared, config, area)
        with spark_session(engine, timings) as spark:
            timings["load"] = time.perf_counter() - t
            fitted = fit_and_score(spark, area, source, config, stage, timings)
        stage("write")
        run_id, summary = _write(shared, area, ingest, source, config, fitted, timings, t_start)
    measured = {**fitted.scores, **silhouette_columns(fitted.silhouette), **fitted.engine_columns}
    return ClusterResult(
        run_id=run_id,
        config=config,
        features=source.features,
        rows_used=fitted.rows,
        sizes=fitted.sizes,
        metrics=measured,
        timings=timings,
        summary=summary,
    )


def fit_and_score(
    spark, area: RunStage, source: FeatureSource, config: ClusterConfig, stage, timings: dict
) -> SparkRun:
    """Spark's part: fit, score, and the assignments written to the stage."""
    from spotclust.spark import fit  # pyspark: only once a Spark run starts

    projected = fit.project(spark, area.features_uri, len(source.features), config, timings)
    stage("kmeans")
    t = time.perf_counter()
    space = fit.cached_space(projected)
    kmeans = fit.fit_kmeans(space, config.k, config)
    timings["kmeans"] = time.perf_counter() - t

    stage("silhouette")
    t = time.perf_counter()
    labelled_space = fit.labelled(space, kmeans)
    silhouettes = Silhouettes(
        *euclidean_silhouette(fit, labelled_space, source.rows, config),
        spark=fit.spark_silhouette(labelled_space),
    )
    space.unpersist()
    timings["silhouette"] = time.perf_counter() - t

    stage("metrics")
    t = time.perf_counter()
    rows = fit.labelled(projected.frame, kmeans)  # every column, read from the stage again
    fit.write_assignments(rows, area.assignments_uri)
    sums = fit.cluster_sums(rows, config.k, genres=len(source.genres))
    if int(sums.counts.sum()) != source.rows:
        raise EngineError(f"Spark read {sums.counts.sum()} rows of the {source.rows} staged")
    measured = run_scores(sums, silhouettes.euclidean, projected.pca, config)
    timings["metrics"] = time.perf_counter() - t
    return SparkRun(
        rows=source.rows,
        sizes=sums.counts.tolist(),
        model=fitted_model(projected, kmeans.centres, sums, config),
        scores=measured,
        silhouette=silhouettes.euclidean,
        silhouette_rows=silhouettes.rows,
        engine_columns={
            "engine": "spark",
            "engine_version": spark.version,
            "engine_master": spark.sparkContext.master,
            "kmeans_init": fit.INIT,
            "max_iter": fit.MAX_ITER,
            "tol": fit.TOL,
            "iterations": kmeans.iterations,
            "silhouette_reference_rows": silhouettes.reference_rows,
            "engine_silhouette": silhouettes.spark,
            "engine_silhouette_method": fit.SPARK_SILHOUETTE,
        },
    )


def run_scores(sums: ClusterSums, silhouette, pca, config: ClusterConfig) -> dict:
    """The columns of runs a local run's scores fill, from the sums."""
    kept = pca.explained_variance_ratio_[: config.pca_components]
    return {
        "inertia": scores.inertia(sums),
        "silhouette": silhouette.value,
        **scores.separation(sums),
        **scores.genre_agreement(sums.contingency),
        "explained_variance": float(kept.sum()) if config.pca_components else None,
    }


def fitted_model(projected, centres: np.ndarray, sums: ClusterSums, config) -> FittedModel:
    """The fitted numbers write_fitted stores; the scaled member means follow from the raw
    sums (scaling is linear), 0 for an empty cluster as in a local run."""
    scaler = projected.scaler
    scaled_sums = (sums.raw_sums - sums.counts[:, None] * scaler.mean_) / scaler.scale_
    return FittedModel(
        projection=FittedProjection(scaler, projected.pca, config.pca_components),
        centres=centres,
        scaled_means=scaled_sums / np.maximum(sums.counts, 1)[:, None],
    )


def euclidean_silhouette(fit, rows, n: int, config: ClusterConfig):
    """(Silhouette, the row numbers it was scored over, reference rows or None): the
    Euclidean silhouette a local run reports, from rows brought to this process. Up to
    metrics.EXACT_SILHOUETTE_MAX_ROWS rows (or with --exact-silhouette) that is all of them,
    scored as a local run scores them; beyond, a uniform sample of about that many rows, of
    which --silhouette-sample (default 5,000) are scored against the sample, with a 95% CI."""
    fraction = reference_fraction(n, config)
    everything = fraction == 1.0
    row_number, space, cluster = fit.collect_rows(rows, fraction, config.seed, with_cluster=True)
    if everything:
        sample_size, reference = config.silhouette_sample, None
    else:
        sample_size = config.silhouette_sample or metrics.DEFAULT_SILHOUETTE_SAMPLE
        reference = len(row_number)
    silhouette = metrics.silhouette(
        space,
        cluster,
        sample_size=sample_size,
        seed=config.seed,
        force_exact=config.exact_silhouette and everything,
    )
    return silhouette, row_number, reference


def reference_fraction(n: int, config: ClusterConfig) -> float:
    """The share of the rows the Euclidean silhouette is measured on: all of them up to
    metrics.EXACT_SILHOUETTE_MAX_ROWS (or with --exact-silhouette), else about that many."""
    if n <= metrics.EXACT_SILHOUETTE_MAX_ROWS or config.exact_silhouette:
        return 1.0
    return metrics.EXACT_SILHOUETTE_MAX_ROWS / n


def _write(
    shared: SharedWarehouse,
    area: RunStage,
    ingest: tuple[int, str],
    source: FeatureSource,
    config: ClusterConfig,
    fitted: SparkRun,
    timings: dict,
    t_start: float,
) -> tuple[int, list[dict]]:
    """Every table of the run in one transaction -> (run_id, its cluster summary)."""
    t = time.perf_counter()
    seconds = {f"seconds_{name}": value for name, value in timings.items()}
    measured = {
        **fitted.scores,
        **silhouette_columns(fitted.silhouette),
        **fitted.engine_columns,
        **seconds,
    }
    with shared.writing("the fitted run") as con:
        with warehouse.atomic(con) as commit:
            check_same_data(con, ingest[0], "run")
            run_id = con.execute("SELECT nextval('run_id_seq')").fetchone()[0]
            commit.what = f"run {run_id}"
            insert_run(con, run_id, config, source.features, fitted.rows, measured, ingest)
            # Spark's Parquet files, read where they lie: the file names are values, bound.
            con.read_parquet(area.assignment_files()).create_view("new_assignments")
            insert_assignments(con, run_id, source)
            con.execute("DROP VIEW new_assignments")
            write_fitted(con, run_id, source, fitted.model)
            if fitted.silhouette.values is not None:
                write_silhouette_values(con, run_id, fitted.silhouette_rows, fitted.silhouette)
            timings["write"] = time.perf_counter() - t
            timings["total"] = time.perf_counter() - t_start
            con.execute(
                "UPDATE runs SET seconds_write = ?, seconds_total = ? WHERE run_id = ?",
                [timings["write"], timings["total"], run_id],
            )
        return run_id, cluster_summary(con, run_id)
