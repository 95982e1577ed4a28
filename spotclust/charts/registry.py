"""The charts of a run: one ChartEntry per page (its name, title, caption and how to build
it from the warehouse), in the order the index lists them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from spotclust.charts import data, diagnostics
from spotclust.charts.clusters import (
    cluster_profiles_chart,
    cluster_sizes_chart,
    nominal_features_chart,
)
from spotclust.charts.features import correlation_heatmap, pca_loadings_chart
from spotclust.charts.genres import TOP_GENRES, genre_cluster_heatmap, top_genres_chart
from spotclust.charts.map import pca_map
from spotclust.charts.selection import elbow_chart, message_chart, stability_chart
from spotclust.charts.theme import cluster_label
from spotclust.errors import ConfigError, WarehouseError
from spotclust.runs.resolve import check_run_data
from spotclust.warehouse import connection


@dataclass(frozen=True)
class ChartEntry:
    """One chart of a run: its page name, title, one-line caption and how to build it."""

    name: str  # the page is <name>.html (or .png / .svg)
    title: str
    caption: str
    # (con, run row, sweep_id: the sweep to draw, None for the latest) -> Altair chart
    build: Callable[[duckdb.DuckDBPyConnection, dict, int | None], Any]


def _clusters(run: dict) -> list[str]:
    """Every cluster of the run, by its number and short name, so that a cluster keeps its
    colour even where it is absent."""
    return run.get("cluster_labels") or [cluster_label(c) for c in range(run["k"])]


NO_GENRES = [
    "This data has no genre column, so there are no genres to chart.",
    "Ingest a file with genres, or name one with --map track_genre=COLUMN",
    "or --label-column COLUMN.",
]


def _unless_no_genres(frame, build: Callable):
    """The genre chart, or one sentence saying why there is none (never an empty grid)."""
    if frame.height == 0:
        return message_chart(NO_GENRES, height=120, title="No genres in this data")
    return build(frame)


CHARTS: tuple[ChartEntry, ...] = (
    ChartEntry(
        "correlations",
        "Feature correlations",
        "Pearson r between every pair of audio features; the features the run dropped are marked.",
        lambda con, run, sweep: correlation_heatmap(
            data.correlation_data(con, run["run_id"]), f"run {run['run_id']}"
        ),
    ),
    ChartEntry(
        "pca_map",
        "PCA map",
        "Every track on the first two principal components (equal scales), binned, coloured by "
        "cluster, with the centroids and the features' loadings as arrows (a biplot).",
        lambda con, run, sweep: pca_map(
            *data.pca_map_data(con, run["run_id"]),
            clusters=_clusters(run),
            explained=data.explained_variance(con, run["run_id"]),
            loadings=data.loadings_data(con, run["run_id"]),
        ),
    ),
    ChartEntry(
        "elbow",
        "Elbow and silhouette",
        "Inertia and silhouette against k from a sweep (the latest, or `charts --sweep ID`), "
        "to choose k.",
        lambda con, run, sweep: elbow_chart(data.elbow_data(con, sweep), run_k=run["k"]),
    ),
    ChartEntry(
        "profiles",
        "Cluster profiles",
        "Each cluster's mean of every feature in standard deviations (colour clipped at ±2), "
        "features sorted by how much they separate the clusters; key, mode and time_signature "
        "are left out (categories, not quantities: see the nominal features page).",
        lambda con, run, sweep: cluster_profiles_chart(
            data.profiles_data(con, run["run_id"]), clusters=_clusters(run)
        ),
    ),
    ChartEntry(
        "sizes",
        "Cluster sizes",
        "Tracks in each cluster and their share of all tracks.",
        lambda con, run, sweep: cluster_sizes_chart(
            data.sizes_data(con, run["run_id"]), clusters=_clusters(run)
        ),
    ),
    ChartEntry(
        "top_genres",
        "Top genres per cluster",
        f"The {TOP_GENRES} genres each cluster holds most over its share of all tracks (lift), "
        "on one scale, with their share of the cluster.",
        lambda con, run, sweep: _unless_no_genres(
            data.top_genres_data(con, run["run_id"]),
            lambda frame: top_genres_chart(frame, clusters=_clusters(run)),
        ),
    ),
    ChartEntry(
        "genre_heatmap",
        "Genres x clusters",
        "For every genre and cluster, the lift (red: more common in the cluster than overall, "
        "blue: less) and the share of the genre's tracks, genres grouped by main cluster.",
        lambda con, run, sweep: _unless_no_genres(
            data.genre_heatmap_data(con, run["run_id"]),
            lambda frame: genre_cluster_heatmap(frame, clusters=_clusters(run)),
        ),
    ),
    ChartEntry(
        "pca_loadings",
        "PCA loadings",
        "The weight of each feature on each principal component: what the map's axes mean.",
        lambda con, run, sweep: pca_loadings_chart(data.loadings_data(con, run["run_id"])),
    ),
    ChartEntry(
        "stability",
        "Stability and gap statistic",
        "How reproducible the clusters are between resamples, and the gap statistic, against k "
        "(the latest sweep, or `charts --sweep ID`).",
        lambda con, run, sweep: stability_chart(data.stability_data(con, sweep), run_k=run["k"]),
    ),
    ChartEntry(
        "silhouette",
        "Silhouette per track",
        "Every scored track's silhouette, sorted within its cluster, with the run's average "
        "(a sampled silhouette shows its sample).",
        lambda con, run, sweep: diagnostics.silhouette_plot(
            data.silhouette_data(
                con,
                run["run_id"],
                diagnostics.silhouette_bands(run["k"]),
                diagnostics.SILHOUETTE_GAP,
            ),
            clusters=_clusters(run),
            run=run,
        ),
    ),
    ChartEntry(
        "feature_boxes",
        "Features per cluster",
        "Each cluster's tempo, loudness, duration and other features in their own units, as "
        "boxes (quartiles, median, 5th to 95th percentile).",
        lambda con, run, sweep: diagnostics.feature_boxes_chart(
            data.feature_boxes_data(con, run["run_id"]), clusters=_clusters(run)
        ),
    ),
    ChartEntry(
        "distances",
        "Distances between clusters",
        "The cluster centres on a plane by classical MDS of their distances in the model "
        "space, sized by tracks.",
        lambda con, run, sweep: diagnostics.distance_map(
            data.distance_map_data(con, run["run_id"]), clusters=_clusters(run)
        ),
    ),
    ChartEntry(
        "nominal_features",
        "Key, mode and time signature",
        "The share of each cluster's tracks in every key, mode and time signature: categories, "
        "shown as shares where the profiles would show a meaningless mean.",
        lambda con, run, sweep: nominal_features_chart(
            data.nominal_features_data(con, run["run_id"]), clusters=_clusters(run)
        ),
    ),
)


SWEEP_CHARTS = ("elbow", "stability")  # the pages that draw a sweep


def build_charts(
    db: str | Path | None = None, run_id: int | None = None, sweep_id: int | None = None
) -> tuple[dict, list[tuple[ChartEntry, Any]]]:
    """(run row, [(entry, chart), ...]) for every entry of CHARTS, the elbow and stability
    charts drawing sweep sweep_id (None: the latest); the warehouse read-only."""
    with connection(db, read_only=True) as con:
        run = data.chart_run(con, run_id)
        check_run_data(con, run, then="draw the charts")
        data.chart_sweep(con, sweep_id)
        return run, [(entry, entry.build(con, run, sweep_id)) for entry in CHARTS]


def sweep_charts(
    db: str | Path | None, sweep_id: int
) -> tuple[dict, list[tuple[ChartEntry, Any]]] | None:
    """(the latest run, its charts that draw a sweep, drawing sweep_id), or None when there is
    no run or it clustered other data than the warehouse holds now (its pages are not this
    sweep's to change)."""
    with connection(db, read_only=True) as con:
        try:
            run = data.chart_run(con)
        except WarehouseError:  # no run yet
            return None
        try:
            check_run_data(con, run, then="draw the charts")
        except ConfigError:  # re-ingested since the run
            return None
        data.chart_sweep(con, sweep_id)
        return run, [
            (entry, entry.build(con, run, sweep_id)) for entry in CHARTS
            if entry.name in SWEEP_CHARTS
        ]  # fmt: skip
