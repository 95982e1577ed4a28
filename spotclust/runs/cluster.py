"""A clustering run: read the features, fit, score, and write every table in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spotclust import warehouse
from spotclust.features import FeatureSource, feature_source, resolve_features
from spotclust.model import metrics
from spotclust.model.config import ClusterConfig, FeatureBatch
from spotclust.model.kmeans import Model, fit_kmeans
from spotclust.model.projection import project
from spotclust.model.streaming import stream_fit
from spotclust.runs.resolve import cluster_summary, current_ingest
from spotclust.runs.write import silhouette_columns, write_run

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
) -> ClusterResult:
    """Cluster the warehouse's clean tracks and write the run; all or nothing."""
    config.check()
    stage = on_stage or (lambda name: None)
    t_start = time.perf_counter()
    with warehouse.connection(db) as con:
        warehouse.ensure_schema(con)
        ingest = current_ingest(con)
        timings: dict[str, float] = {}
        stage("load")
        features = resolve_features(con, list(config.features) if config.features else None)
        source = feature_source(con, features, config.row_rule)
        config.check_shape(source.rows, len(features))
        model, ids = fit(source, config, stage, timings)
        scores, silhouette = score(model, ids, config, stage, timings)
        measured = {
            **scores,
            **silhouette_columns(silhouette),
            **{f"seconds_{name}": value for name, value in timings.items()},
        }

        stage("write")
        t = time.perf_counter()
        with warehouse.atomic(con) as commit:
            run_id = con.execute("SELECT nextval('run_id_seq')").fetchone()[0]
            commit.what = f"run {run_id}"
            write_run(con, run_id, config, source, ids, model, measured, ingest)
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
        features=features,
        rows_used=len(model.labels),
        sizes=np.bincount(model.labels, minlength=config.k).tolist(),
        metrics={**scores, **silhouette_columns(silhouette)},
        timings=timings,
        summary=summary,
    )


def fit(
    source: FeatureSource, config: ClusterConfig, stage: StageCallback, timings: dict
) -> tuple[Model, FeatureBatch]:
    """The model, held in memory or streamed (minibatch) from DuckDB."""
    t = time.perf_counter()
    if config.algorithm == "minibatch":
        timings["load"] = time.perf_counter() - t  # reading is part of every streamed pass
        # Files sorted by genre need mixed batches: shuffle once, then every pass reads in order.
        shuffled = source.shuffled(config.seed)
        return stream_fit(shuffled.batches, source.rows, config, stage, timings)
    ids = source.load()
    timings["load"] = time.perf_counter() - t
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
