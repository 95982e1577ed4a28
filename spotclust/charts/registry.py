"""The charts of a run: one ChartEntry per page (its name, title, caption and how to plan it
from the run's data), in the order the index lists them.

A page is the entry's plan filled into its template (spec.py: no Altair); notebooks and the
unit tests get the same chart drawn by Altair (ChartEntry.build, build_charts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from spotclust.charts import data
from spotclust.charts.plans import clusters, diagnostics, features, genres, selection
from spotclust.charts.plans import map as pca
from spotclust.charts.plans.genres import TOP_GENRES
from spotclust.charts.run_data import RunData, each
from spotclust.charts.spec import Plan, filled
from spotclust.errors import ConfigError, WarehouseError
from spotclust.runs.resolve import check_run_data
from spotclust.warehouse import connection, default_db_path


@dataclass(frozen=True)
class ChartEntry:
    """One chart of a run: its page name, title, one-line caption and its plan."""

    name: str  # the page is <name>.html (or .png / .svg)
    title: str
    caption: str
    plan: Callable[[RunData], Plan]  # the run's data -> what the chart draws

    def spec(self, run_data: RunData) -> dict:
        """The chart's Vega-Lite spec (its template filled: no Altair)."""
        return filled(self.plan(run_data))

    def build(self, con: duckdb.DuckDBPyConnection, run: dict, sweep_id: int | None = None):
        """The chart drawn by Altair (sweep_id: the sweep to draw, None for the latest)."""
        from spotclust.charts.authoring import drawn

        return drawn(self.plan(RunData(con, run, sweep_id)))


NO_GENRES = [
    "This data has no genre column, so there are no genres to chart.",
    "Ingest a file with genres, or name one with --map track_genre=COLUMN",
    "or --label-column COLUMN.",
]


def _unless_no_genres(frame: pl.DataFrame, plan: Callable[[pl.DataFrame], Plan]) -> Plan:
    """The genre chart, or one sentence saying why there is none (never an empty grid)."""
    if frame.height == 0:
        return selection.message(NO_GENRES, height=120, title="No genres in this data")
    return plan(frame)


def _pca_map(d: RunData) -> Plan:
    bins, centroids = data.pca_map_data(d.con, d.run_id, names=d.names)
    explained = data.explained_variance(d.con, d.run_id)
    return pca.pca_map(bins, centroids, d.clusters, explained, loadings=d.loadings)


def _silhouette(d: RunData) -> Plan:
    bands = diagnostics.silhouette_bands(d.run["k"])
    frame = data.silhouette_data(d.con, d.run_id, bands, diagnostics.SILHOUETTE_GAP)
    return diagnostics.silhouette(frame, d.clusters, d.run)


CHARTS: tuple[ChartEntry, ...] = (
    ChartEntry(
        "correlations",
        "Feature correlations",
        "Pearson r between every pair of audio features; the features the run dropped are marked.",
        lambda d: features.correlations(data.correlation_data(d.con, d.run_id), f"run {d.run_id}"),
    ),
    ChartEntry(
        "pca_map",
        "PCA map",
        "Every track on the first two principal components (equal scales), binned, coloured by "
        "cluster, with the centroids and the features' loadings as arrows (a biplot).",
        _pca_map,
    ),
    ChartEntry(
        "elbow",
        "Elbow and silhouette",
        "Inertia and silhouette against k from a sweep (the latest, or `charts --sweep ID`), "
        "to choose k.",
        lambda d: selection.elbow(data.elbow_data(d.con, d.sweep_id), run_k=d.run["k"]),
    ),
    ChartEntry(
        "profiles",
        "Cluster profiles",
        "Each cluster's mean of every feature in standard deviations (colour clipped at ±2), "
        "features sorted by how much they separate the clusters; key, mode and time_signature "
        "are left out (categories, not quantities: see the nominal features page).",
        lambda d: clusters.profiles(data.profiles_data(d.con, d.run_id, d.names), d.clusters),
    ),
    ChartEntry(
        "sizes",
        "Cluster sizes",
        "Tracks in each cluster and their share of all tracks.",
        lambda d: clusters.sizes(
            data.sizes_of(data.frame_of(d.con, "sizes", {"run_id": d.run_id}), d.genres, d.names),
            d.clusters,
        ),
    ),
    ChartEntry(
        "top_genres",
        "Top genres per cluster",
        f"The {TOP_GENRES} genres each cluster holds most over its share of all tracks (lift), "
        "on one scale, with their share of the cluster.",
        lambda d: _unless_no_genres(
            data.top_genres_of(d.genres, d.names),
            lambda frame: genres.top_genres(frame, d.clusters),
        ),
    ),
    ChartEntry(
        "genre_heatmap",
        "Genres x clusters",
        "For every genre and cluster, the lift (red: more common in the cluster than overall, "
        "blue: less) and the share of the genre's tracks, genres grouped by main cluster.",
        lambda d: _unless_no_genres(
            data.genre_heatmap_of(d.genres, d.names),
            lambda frame: genres.genre_heatmap(frame, d.clusters),
        ),
    ),
    ChartEntry(
        "pca_loadings",
        "PCA loadings",
        "The weight of each feature on each principal component: what the map's axes mean.",
        lambda d: features.loadings(d.loadings),
    ),
    ChartEntry(
        "stability",
        "Stability and gap statistic",
        "How reproducible the clusters are between resamples, and the gap statistic, against k "
        "(the latest sweep, or `charts --sweep ID`).",
        lambda d: selection.stability(data.stability_data(d.con, d.sweep_id), run_k=d.run["k"]),
    ),
    ChartEntry(
        "silhouette",
        "Silhouette per track",
        "Every scored track's silhouette, sorted within its cluster, with the run's average "
        "(a sampled silhouette shows its sample).",
        _silhouette,
    ),
    ChartEntry(
        "feature_boxes",
        "Features per cluster",
        "Each cluster's tempo, loudness, duration and other features in their own units, as "
        "boxes (quartiles, median, 5th to 95th percentile).",
        lambda d: diagnostics.feature_boxes(data.feature_boxes_data(d.con, d.run_id), d.clusters),
    ),
    ChartEntry(
        "distances",
        "Distances between clusters",
        "The cluster centres on a plane by classical MDS of their distances in the model "
        "space, sized by tracks.",
        lambda d: diagnostics.distances(data.distance_map_data(d.con, d.run_id), d.clusters),
    ),
    ChartEntry(
        "nominal_features",
        "Key, mode and time signature",
        "The share of each cluster's tracks in every key, mode and time signature: categories, "
        "shown as shares where the profiles would show a meaningless mean.",
        lambda d: clusters.nominal_features(
            data.nominal_features_data(d.con, d.run_id, names=d.names), d.clusters
        ),
    ),
)


SWEEP_CHARTS = ("elbow", "stability")  # the pages that draw a sweep


def _entries(names: Sequence[str] | None) -> list[ChartEntry]:
    return [entry for entry in CHARTS if names is None or entry.name in names]


def build_charts(
    db: str | Path | None = None, run_id: int | None = None, sweep_id: int | None = None
) -> tuple[dict, list[tuple[ChartEntry, object]]]:
    """(run row, [(entry, Altair chart), ...]) for every entry of CHARTS, the elbow and
    stability charts drawing sweep sweep_id (None: the latest); the warehouse read-only."""
    from spotclust.charts.authoring import drawn

    with connection(db, read_only=True) as con:
        run_data = RunData.checked(con, run_id, sweep_id)
        return run_data.run, [(e, drawn(e.plan(run_data))) for e in CHARTS]


# The specs of the latest chart_specs of this process, by (warehouse state, run, sweep).
_latest: dict[tuple, tuple[dict, dict[str, dict]]] = {}


def _warehouse_state(db: str | Path | None) -> tuple:
    """What every commit to the warehouse changes: its file's (or its WAL's) size or times."""
    path = Path(db if db is not None else default_db_path()).resolve()
    marks = []
    for file in (path, path.with_name(path.name + ".wal")):
        try:
            stat = file.stat()
        except OSError:
            marks.append(None)
        else:
            marks.append((stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
    return (str(path), *marks)


def chart_specs(
    db: str | Path | None = None,
    run_id: int | None = None,
    sweep_id: int | None = None,
    names: Sequence[str] | None = None,
) -> tuple[dict, list[tuple[ChartEntry, dict]]]:
    """(run row, [(entry, Vega-Lite spec), ...]) for the entries named (None: every one), as
    build_charts draws them, from templates: no Altair.

    The report that follows a run's pages (`spotclust cluster` writes both) draws four of
    the same charts: it takes their specs from the pages' call, once, if the warehouse file
    has not changed since. The specs are shared: read them, never change them."""
    state, entries = _warehouse_state(db), _entries(names)
    latest = _latest.get((state, run_id, sweep_id))
    if latest and all(entry.name in latest[1] for entry in entries):
        _latest.clear()
        run, specs = latest
        return run, [(entry, specs[entry.name]) for entry in entries]
    with connection(db, read_only=True) as con:
        run_data = RunData.checked(con, run_id, sweep_id)
        specs = each(run_data, lambda entry, d: entry.spec(d), entries)
    run, by_name = run_data.run, {e.name: spec for e, spec in zip(entries, specs, strict=True)}
    _latest.clear()
    for run_key in {run_id, run["run_id"]}:  # as asked (None: the latest), and as found
        _latest[(state, run_key, sweep_id)] = (run, by_name)
    return run, list(zip(entries, specs, strict=True))


def sweep_specs(
    db: str | Path | None, sweep_id: int
) -> tuple[dict, list[tuple[ChartEntry, dict]]] | None:
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
        run_data, entries = RunData(con, run, sweep_id), _entries(SWEEP_CHARTS)
        specs = each(run_data, lambda entry, d: entry.spec(d), entries)
        return run, list(zip(entries, specs, strict=True))
