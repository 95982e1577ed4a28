"""The elbow step: fit k-means for a range of k and score each, to help choose k."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from spotclust import metrics, warehouse
from spotclust.clustering import ClusterConfig, check_shape, current_ingest, fit_kmeans, project
from spotclust.errors import ConfigError
from spotclust.features import feature_source, resolve_features


def parse_k_range(text: str) -> list[int]:
    """'2..12', '2-12' or '2,4,8' -> sorted distinct ks."""
    text = text.strip()
    if match := re.fullmatch(r"(\d+)\s*(?:\.\.|-)\s*(\d+)", text):
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            raise ConfigError(f"--k {text}: the range is empty; write it low..high, e.g. 2..12")
        ks = list(range(low, high + 1))
    elif re.fullmatch(r"\d+(\s*,\s*\d+)*", text):
        ks = sorted({int(part) for part in text.split(",")})
    else:
        raise ConfigError(f"--k {text!r}: write a range like 2..12 or a list like 2,4,8")
    if ks[0] < 1:
        raise ConfigError(f"--k {text}: every k must be at least 1")
    return ks


def knee(ks: list[int], inertias: list[float]) -> int | None:
    """The k where the inertia curve bends most (Kneedle: furthest above the chord)."""
    if len(ks) < 3:
        return None
    x = (np.array(ks, dtype=float) - ks[0]) / (ks[-1] - ks[0])
    y = np.array(inertias, dtype=float)
    span = y.max() - y.min()
    if span == 0:
        return None
    gain = (y[0] - y) / span  # 0 at the first k, rising to about 1 at the last
    return ks[int(np.argmax(gain - x))]


@dataclass(frozen=True)
class SweepResult:
    sweep_id: int
    rows: list[dict]  # one per k
    knee_k: int | None
    best_silhouette_k: int | None

    @property
    def suggested_k(self) -> int | None:
        return self.knee_k if self.knee_k is not None else self.best_silhouette_k


def sweep(
    ks: list[int],
    config: ClusterConfig | None = None,
    db: str | Path | None = None,
    on_k: Callable[[int], None] | None = None,
    score_silhouette: bool = True,
) -> SweepResult:
    """Fit and score k-means for every k; write all rows to `sweeps` in one transaction.

    config gives everything but k. k = 1 is allowed (the start of an elbow curve); its
    silhouette, Calinski-Harabasz and Davies-Bouldin are undefined (NULL).
    score_silhouette=False records inertia and the cheap scores only.
    """
    config = replace(config or ClusterConfig(), k=max(2, ks[0]))
    config.check()
    con = warehouse.connect(db)
    try:
        warehouse.ensure_schema(con)
        ingest_id, _ = current_ingest(con)
        features = resolve_features(con, list(config.features) if config.features else None)
        source = feature_source(con, features, config.row_rule)
        check_shape(replace(config, k=ks[-1]), source.rows, len(features))
        projection = project(source.load().matrix, config, timings={})  # once for every k
        rows = []
        for k in ks:
            if on_k:
                on_k(k)
            t = time.perf_counter()
            model = fit_kmeans(projection, replace(config, k=k))
            silhouette = (
                metrics.silhouette(
                    projection.model_space,
                    model.labels,
                    sample_size=config.silhouette_sample,
                    seed=config.seed,
                    force_exact=config.exact_silhouette,
                )
                if score_silhouette
                else metrics.Silhouette(value=None, method="skipped")
            )
            rows.append(
                {
                    "k": k,
                    "inertia": float(model.kmeans.inertia_),
                    "silhouette": silhouette.value,
                    "silhouette_method": silhouette.method,
                    **metrics.separation(projection.model_space, model.labels),
                    "seconds": time.perf_counter() - t,
                }
            )
        knee_k = knee(ks, [r["inertia"] for r in rows])
        scored = [r for r in rows if r["silhouette"] is not None]
        best_k = max(scored, key=lambda r: r["silhouette"])["k"] if scored else None
        created = datetime.now(UTC)
        with warehouse.transaction(con):
            sweep_id = con.execute("SELECT nextval('sweep_id_seq')").fetchone()[0]
            con.executemany(
                """
                INSERT INTO sweeps VALUES ($sweep_id, $created_at, $k, $features, $pca,
                    $seed, $n_init, $row_rule, $rows_used, $ingest_id, $inertia, $silhouette,
                    $silhouette_method, $calinski_harabasz, $davies_bouldin, $seconds,
                    $is_knee, $is_best_silhouette)
                """,
                [
                    {
                        **r,
                        "sweep_id": sweep_id,
                        "created_at": created,
                        "features": features,
                        "pca": config.pca_components,
                        "seed": config.seed,
                        "n_init": config.n_init,
                        "row_rule": config.row_rule,
                        "rows_used": source.rows,
                        "ingest_id": ingest_id,
                        "is_knee": r["k"] == knee_k,
                        "is_best_silhouette": r["k"] == best_k,
                    }
                    for r in rows
                ],
            )
    finally:
        con.close()
    return SweepResult(sweep_id, rows, knee_k, best_k)
