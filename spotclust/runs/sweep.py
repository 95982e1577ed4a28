"""The elbow step as a run: fit and score k-means for every k, and record the sweep.

The numbers and how the suggested k is chosen: model/selection.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from spotclust import warehouse
from spotclust.engine import LOCAL, Engine
from spotclust.errors import ConfigError
from spotclust.features import feature_source, resolve_features
from spotclust.model.config import ClusterConfig, parse_k_range  # noqa: F401 (API)
from spotclust.model.projection import project
from spotclust.model.resampling import fixed_sample, principal_box
from spotclust.model.selection import DEFAULT_STABILITY, SweepResult, score_ks, weigh
from spotclust.runs.resolve import current_ingest
from spotclust.runs.write import SharedWarehouse, check_same_data, insert_record


def sweep(
    ks: list[int],
    config: ClusterConfig | None = None,
    db: str | Path | None = None,
    on_k: Callable[[int], None] | None = None,
    score_silhouette: bool = True,
    stability_pairs: int = DEFAULT_STABILITY,
    gap_refs: int = 0,
    engine: Engine = LOCAL,
) -> SweepResult:
    """Fit and score k-means for every k; write all rows to `sweeps` in one transaction.

    config gives everything but k. k = 1 is allowed (the start of an elbow curve); its
    silhouette, Calinski-Harabasz, Davies-Bouldin and stability are undefined (NULL).
    score_silhouette=False records inertia and the cheap scores only.
    stability_pairs: resample pairs per k for stability (0: skip it).
    gap_refs: reference datasets per k for the gap statistic (0: skip it; else at least 2).
    """
    config = replace(config or ClusterConfig(), k=max(2, ks[0]))
    config.check()
    if stability_pairs < 0:
        raise ConfigError(f"--stability {stability_pairs}: use 0 (skip) or more pairs")
    if gap_refs < 0 or gap_refs == 1:
        raise ConfigError(f"--gap-refs {gap_refs}: use at least 2 reference datasets")
    if engine.name == "spark":  # MLlib's fits, the same evidence (spotclust/spark)
        from spotclust.spark.sweep import sweep_spark

        evidence = (score_silhouette, stability_pairs, gap_refs)
        return sweep_spark(ks, config, db, on_k, evidence, engine, write=_write)
    # Read through a read-only connection, closed for the fits: other processes read the
    # warehouse meanwhile, and the write lock is held only for the write.
    shared = SharedWarehouse(db)
    with shared.reading() as con:
        ingest_id, _ = current_ingest(con)
        features = resolve_features(con, list(config.features) if config.features else None)
        source = feature_source(con, features, config.row_rule)
        replace(config, k=ks[-1]).check_shape(source.rows, len(features))
        ids = source.load()
    projection = project(ids.matrix, config, timings={})  # once for every k
    del ids
    sample = fixed_sample(projection.model_space, config.seed)
    box = principal_box(sample) if gap_refs else None
    rows = score_ks(
        projection, config, ks, sample, box, score_silhouette, stability_pairs, gap_refs, on_k
    )
    result = weigh(ks, rows, stability_pairs, gap_refs)
    sweep_id = _write(shared, result, config, features, source.rows, ingest_id)
    return replace(result, sweep_id=sweep_id)


def _write(
    shared: SharedWarehouse, result: SweepResult, config: ClusterConfig, features: list[str],
    rows_used: int, ingest_id: int,
) -> int:  # fmt: skip
    """All rows of the sweep in one transaction; returns the new sweep_id."""
    created = datetime.now(UTC)
    with shared.writing("the sweep") as con, warehouse.atomic(con) as commit:
        check_same_data(con, ingest_id, "sweep")
        sweep_id = con.execute("SELECT nextval('sweep_id_seq')").fetchone()[0]
        commit.what = f"sweep {sweep_id}"
        for r in result.rows:
            insert_record(
                con,
                "sweeps",
                {
                    **r,
                    "sweep_id": sweep_id,
                    "created_at": created,
                    "features": features,
                    "pca_components": config.pca_components,
                    "seed": config.seed,
                    "n_init": config.n_init,
                    "row_rule": config.row_rule,
                    "rows_used": rows_used,
                    "ingest_id": ingest_id,
                    "is_knee": r["k"] == result.knee_k,
                    "is_best_silhouette": r["k"] == result.best_silhouette_k,
                    "stability_pairs": result.stability_pairs or None,
                    "gap_refs": result.gap_refs or None,
                    "is_most_stable": r["k"] == result.most_stable_k,
                    "is_gap_choice": r["k"] == result.gap_k,
                    "is_suggested": r["k"] == result.suggested_k,
                    "suggestion_reason": result.suggestion_reason,
                },
            )
    return sweep_id
