"""An elbow sweep on Spark: the rows staged and projected once, k-means fitted by Spark for
every k on the cached model space, each k scored from per-cluster sums (inertia,
Calinski-Harabasz, Davies-Bouldin) and, on a bounded uniform sample brought to this process,
by the evidence a local sweep weighs (Euclidean silhouette, stability, gap statistic)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from spotclust.engine import Engine
from spotclust.model import metrics
from spotclust.model.config import ClusterConfig
from spotclust.model.resampling import (
    RESAMPLE_N_INIT,
    fixed_sample,
    gap_statistic,
    principal_box,
    stability,
)
from spotclust.model.selection import SweepResult, sweep_silhouette_sample, weigh
from spotclust.runs.write import SharedWarehouse
from spotclust.spark.run import check_for_spark, reference_fraction
from spotclust.spark.scores import separation, total_inertia
from spotclust.spark.session import spark_errors, spark_session
from spotclust.spark.stage import default_root, run_stage, stage_rows

# (score the silhouette, stability pairs per k, gap reference sets per k)
Evidence = tuple[bool, int, int]


def sweep_spark(
    ks: list[int],
    config: ClusterConfig,
    db: str | Path | None,
    on_k: Callable[[int], None] | None,
    evidence: Evidence,
    engine: Engine,
    write: Callable[..., int],
) -> SweepResult:
    """Fit and score every k on Spark; write: runs.sweep's writer of the sweeps rows (one
    transaction, after Spark has finished)."""
    check_for_spark(config)
    shared = SharedWarehouse(db)
    root = engine.stage or default_root(shared.db)
    with spark_errors(), run_stage(root, given=engine.stage is not None) as area:
        ingest, source = stage_rows(shared, replace(config, k=ks[-1]), area)
        with spark_session(engine, {}) as spark:
            from spotclust.spark import fit  # pyspark: only once a Spark sweep starts

            projected = fit.project(spark, area.features_uri, len(source.features), config, {})
            space = fit.cached_space(projected)
            fraction = reference_fraction(source.rows, config)
            _, reference, _ = fit.collect_rows(space, fraction, config.seed, with_cluster=False)
            rows = []
            for k in ks:
                t = time.perf_counter()
                rows.append(_score_k(fit, space, reference, k, config, evidence))
                rows[-1]["seconds"] = time.perf_counter() - t
                if on_k:
                    on_k(k)
            space.unpersist()
    result = weigh(ks, rows, evidence[1], evidence[2])
    sweep_id = write(shared, result, config, source.features, source.rows, ingest[0])
    return replace(result, sweep_id=sweep_id)


def _score_k(fit, space, reference: np.ndarray, k: int, config: ClusterConfig, evidence) -> dict:
    """One k's row of `sweeps`: Spark's fit and sums; the sample's evidence."""
    score_silhouette, stability_pairs, gap_refs = evidence
    resample_n_init = min(config.n_init, RESAMPLE_N_INIT)
    sample = fixed_sample(reference, config.seed)
    row = {"k": k, "engine": "spark", "stability_mean": None, "stability_std": None}
    if k == 1:  # Spark's k-means needs k >= 2; one cluster's inertia is the total spread
        row["inertia"] = total_inertia(*fit.overall_sums(space))
        row.update(calinski_harabasz=None, davies_bouldin=None)
        labels = np.zeros(len(reference), dtype=np.int32)
    else:
        kmeans = fit.fit_kmeans(space, k, config)
        sums = fit.cluster_sums(fit.labelled(space, kmeans), k)
        row["inertia"] = float(sums.distance_squares.sum())
        row.update(separation(sums))
        labels = _nearest(reference, kmeans.centres)
        if stability_pairs:
            found = stability(reference, sample, k, stability_pairs, resample_n_init, config.seed)
            row["stability_mean"], row["stability_std"] = found or (None, None)
    silhouette = (
        metrics.silhouette(
            reference,
            labels,
            sample_size=sweep_silhouette_sample(config),
            seed=config.seed,
            force_exact=config.exact_silhouette,
        )
        if score_silhouette
        else metrics.Silhouette(value=None, method="skipped")
    )
    row.update(silhouette=silhouette.value, silhouette_method=silhouette.method)
    gap = None
    if gap_refs:
        box = principal_box(sample)
        gap = gap_statistic(sample, box, k, gap_refs, resample_n_init, config.seed)
    row["gap"], row["gap_se"] = gap or (None, None)
    return row


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The nearest centre of each point (Spark's rule), by |c|^2 - 2 x.c."""
    return np.argmin((centres**2).sum(axis=1) - 2 * points @ centres.T, axis=1).astype(np.int32)
