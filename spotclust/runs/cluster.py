"""A clustering run: read the features, fit, score, and write every table in one transaction
(holding DuckDB's write lock for that transaction only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spotclust import warehouse
from spotclust.engine import LOCAL, Engine
from spotclust.features import FeatureSource, feature_source, resolve_features
from spotclust.model import metrics
from spotclust.model.config import ClusterConfig, FeatureBatch
from spotclust.model.kmeans import Model, fit_kmeans
from spotclust.model.projection import project
from spotclust.model.streaming import stream_fit
from spotclust.runs.resolve import cluster_summary, current_ingest
from spotclust.runs.write import SharedWarehouse, check_same_data, silhouette_columns, write_run

StageCallback = Callable[[str], None]


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


def run(
    config: ClusterConfig,
    db: str | Path | None = None,
    on_stage: StageCallback | None = None,
    engine: Engine = LOCAL,
) -> ClusterResult:
    """Cluster the warehouse's clean tracks and write the run; all or nothing.

    DuckDB's write lock is held only for the write: the features are read through a
    read-only connection, the fit and scores run with the warehouse closed (a streamed fit
    reads on, read-only), so other processes read it all the while.
    """
    if engine.name == "spark":  # MLlib, with a data path of its own (spotclust/spark)
        from spotclust.spark.run import run_spark

        return run_spark(config, db, on_stage, engine)
    config.check()
    stage = on_stage or (lambda name: None)
    t_start = time.perf_counter()
    shared = SharedWarehouse(db)
    timings: dict[str, float] = {}
    stage("load")
    ingest, source, model, ids = read_and_fit(shared, config, stage, timings)
    scores, silhouette = score(model, ids, config, stage, timings)
    measured = {
        **scores,
        **silhouette_columns(silhouette),
        **{f"seconds_{name}": value for name, value in timings.items()},
    }

    stage("write")
    t = time.perf_counter()
    with shared.writing("the fitted run") as con:
        with warehouse.atomic(con) as commit:
            check_same_data(con, ingest[0], "run")
            run_id = con.execute("SELECT nextval('run_id_seq')").fetchone()[0]
            commit.what = f"run {run_id}"
            write_run(con, run_id, config, source, ids, model, measured, ingest, silhouette)
            timings["write"] = time.perf_counter() - t
            timings["total"] = time.perf_counter() - t_start
            con.execute(
                "UPDATE runs SET seconds_write = ?, seconds_total = ? WHERE run_id = ?",
                [timings["write"], timings["total"], run_id],
            )
        summary = cluster_summary(con, run_id)
    return ClusterResult(
        run_id=run_id,
        config=config,
        features=source.features,
        rows_used=len(model.labels),
        sizes=np.bincount(model.labels, minlength=config.k).tolist(),
        metrics={**scores, **silhouette_columns(silhouette)},
        timings=timings,
        summary=summary,
    )


def read_and_fit(
    shared: SharedWarehouse, config: ClusterConfig, stage: StageCallback, timings: dict
) -> tuple[tuple[int, str], FeatureSource, Model, FeatureBatch]:
    """(the ingest read, the rows' source, the model, the rows' ids). The warehouse is open
    read-only while it is read: for a streamed (minibatch) fit, every pass; otherwise the
    matrix is copied out and the connection closed before the fit. (The source returned
    names the rows' table; its connection is closed.)"""
    with shared.reading() as con:
        ingest = current_ingest(con)
        features = resolve_features(con, list(config.features) if config.features else None)
        source = feature_source(con, features, config.row_rule)
        config.check_shape(source.rows, len(features))
        t = time.perf_counter()
        if config.algorithm == "minibatch":
            timings["load"] = time.perf_counter() - t  # reading is part of every streamed pass
            # Files sorted by genre need mixed batches: shuffle once, then every pass reads
            # in order.
            batches = source.shuffled(config.seed).batches
            return ingest, source, *stream_fit(batches, source.rows, config, stage, timings)
        ids = source.load()
        timings["load"] = time.perf_counter() - t
    return ingest, source, *fit(ids, config, stage, timings)


def fit(
    ids: FeatureBatch, config: ClusterConfig, stage: StageCallback, timings: dict
) -> tuple[Model, FeatureBatch]:
    """The model of rows held in memory."""
    stage("scale")
    projection = project(ids.matrix, config, timings)
    stage("kmeans")
    t = time.perf_counter()
    model = fit_kmeans(projection, config)
    timings["kmeans"] = time.perf_counter() - t
    return model, ids


def score(
    model: Model, ids: FeatureBatch, config: ClusterConfig, stage: StageCallback, timings: dict
) -> tuple[dict, metrics.Silhouette]:
    """The run's scores: silhouette, separation, agreement with genres, PCA's variance."""
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
        "explained_variance": float(pca.explained_variance_ratio_[: config.pca_components].sum())
        if config.pca_components
        else None,
    }
    timings["metrics"] = time.perf_counter() - t
    return scores, silhouette
