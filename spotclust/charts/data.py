"""Each chart's data from the warehouse: small polars frames aggregated in DuckDB, a few
thousand rows at most whatever the size of the data (the PCA map is binned in SQL).

The SQL is in sql/charts/<name>.sql; values are always bound as parameters.
"""

from __future__ import annotations

import duckdb
import polars as pl

from spotclust.charts.common import cluster_label
from spotclust.charts.plans.genres import MIN_GENRE_TRACKS, TOP_GENRES
from spotclust.charts.plans.map import PCA_BINS
from spotclust.errors import ConfigError
from spotclust.runs.resolve import resolve_run
from spotclust.warehouse import read_sql


def _query(name: str) -> str:
    return read_sql(f"charts/{name}.sql")


def frame_of(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> pl.DataFrame:
    """The rows of sql/charts/NAME.sql as a polars frame."""
    frame = con.sql(_query(name), params=params or {}).pl()
    # sums of integers come back as DECIMAL(38, 0): make them plain numbers for JSON
    return frame.with_columns(
        pl.col(column).cast(pl.Int64 if dtype.scale == 0 else pl.Float64)
        for column, dtype in frame.schema.items()
        if isinstance(dtype, pl.Decimal)
    )


def short_name(traits: str, genres: str) -> str:
    """A cluster's short name from its label's parts: two traits and its top genre."""
    name = ", ".join(traits.split(", ")[:2])
    top = genres.split(", ")[0] if genres else ""
    return f"{name} ({top})" if top else name


def cluster_names(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[int, str]:
    """{cluster: its chart label, '2 · energetic, loud (metal)'} for the clusters that have a
    name in cluster_labels (none in a warehouse from before the names)."""
    [(has_labels,)] = con.execute(read_sql("queries/has_cluster_labels.sql")).fetchall()
    if not has_labels:
        return {}
    rows = con.execute(_query("cluster_names"), {"run_id": run_id}).fetchall()
    return {c: cluster_label(c, short_name(traits, genres)) for c, traits, genres in rows}


Names = dict[int, str] | None  # a run's cluster_names, when the caller has them already


def _names(con: duckdb.DuckDBPyConnection, run_id: int, names: Names) -> dict[int, str]:
    return cluster_names(con, run_id) if names is None else names


def named(frame: pl.DataFrame, names: dict[int, str], column: str = "cluster") -> pl.DataFrame:
    """Frame with its integer cluster column turned into the clusters' chart labels."""
    if column not in frame.columns:
        return frame
    fallback = pl.lit("cluster ") + pl.col(column).cast(pl.String)
    return frame.with_columns(
        pl.col(column).replace_strict(names, default=fallback, return_dtype=pl.String)
    )


def chart_run(con: duckdb.DuckDBPyConnection, run_id: int | None = None) -> dict:
    """The runs row of run_id (the latest run when None), with its clusters under "clusters":
    (cluster, size, share, label) tuples in cluster order, and under "cluster_labels" the label
    of every cluster 0..k-1 in the charts."""
    run = resolve_run(con, run_id)
    run["clusters"] = con.execute(_query("run_clusters"), {"run_id": run["run_id"]}).fetchall()
    names = cluster_names(con, run["run_id"])
    run["cluster_labels"] = [names.get(c, cluster_label(c)) for c in range(run["k"])]
    return run


def correlation_data(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """feature_correlations with each feature's position and whether the run clustered on it."""
    return frame_of(con, "correlations", {"run_id": run_id})


def pca_map_data(
    con: duckdb.DuckDBPyConnection, run_id: int, bins: int = PCA_BINS, names: Names = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(bins, centroids): the run's tracks counted on a bins x bins grid over (pc1, pc2).

    One row per non-empty bin (at most bins²): its edges, tracks, most common cluster, that
    cluster's share and the count of every cluster in it. Centroids: mean pc1, pc2 per cluster.
    """
    names = _names(con, run_id, names)
    grid = named(frame_of(con, "pca_map", {"run_id": run_id, "bins": bins}), names)
    centroids = named(frame_of(con, "pca_centroids", {"run_id": run_id}), names)
    return grid, centroids


def explained_variance(con: duckdb.DuckDBPyConnection, run_id: int) -> list[float]:
    """Share of variance of each fitted principal component, pc1 first."""
    rows = con.execute(_query("explained_variance"), {"run_id": run_id}).fetchall()
    return [r[0] for r in rows]


def chart_sweep(con: duckdb.DuckDBPyConnection, sweep_id: int | None) -> None:
    """Refuse a sweep_id the warehouse does not hold (None: the latest, or none at all)."""
    if sweep_id is None:
        return
    found = con.execute("SELECT 1 FROM sweeps WHERE sweep_id = $id LIMIT 1", {"id": sweep_id})
    if not found.fetchall():
        raise ConfigError(
            f'no sweep {sweep_id}: see `spotclust sql "SELECT DISTINCT sweep_id FROM sweeps"`'
        )


def elbow_data(con: duckdb.DuckDBPyConnection, sweep_id: int | None = None) -> pl.DataFrame:
    """Every k of a sweep (the latest when None; empty when there is none)."""
    return frame_of(con, "elbow", {"sweep_id": sweep_id})


def stability_data(con: duckdb.DuckDBPyConnection, sweep_id: int | None = None) -> pl.DataFrame:
    """Every k of a sweep (the latest when None) with its stability and gap (empty when there
    is no sweep)."""
    return frame_of(con, "stability", {"sweep_id": sweep_id})


def profiles_data(con: duckdb.DuckDBPyConnection, run_id: int, names: Names = None) -> pl.DataFrame:
    """Per cluster and feature: raw mean, and the mean standardised against all the run's rows
    (for the features the run clustered on, z equals the 'scaled' centroid)."""
    return named(frame_of(con, "profiles", {"run_id": run_id}), _names(con, run_id, names))


def genre_grid(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """Every genre x cluster of the run (zeros included), clusters as numbers: tracks, shares,
    lift, main cluster, and the ranks by tracks and by lift (sql/charts/genres.sql). The top
    genres, the heatmap and the sizes all come from it: genre_breakdown is read once."""
    return frame_of(con, "genres", {"run_id": run_id, "min_tracks": MIN_GENRE_TRACKS})


TOP_GENRE_COLUMNS = ["cluster", "genre", "tracks", "share_of_cluster", "share_of_genre",
                     "overall_share", "lift", "rank_by_share", "rank_in_cluster"]  # fmt: skip
HEATMAP_COLUMNS = ["genre", "cluster", "tracks", "share_of_genre", "share_of_cluster", "lift",
                   "main_cluster", "genre_order"]  # fmt: skip


def top_genres_of(grid: pl.DataFrame, names: dict[int, str], top: int = TOP_GENRES):
    """The top genres of each cluster by lift, with their share of the cluster."""
    ranked = grid.filter(pl.col("rank_in_cluster") <= top).sort("cluster", "rank_in_cluster")
    return named(ranked.select(TOP_GENRE_COLUMNS), names)


def genre_heatmap_of(grid: pl.DataFrame, names: dict[int, str]) -> pl.DataFrame:
    """Every genre x cluster with its lift, genres ordered by main cluster (as labels)."""
    return named(named(grid.select(HEATMAP_COLUMNS), names), names, "main_cluster")


def sizes_of(sizes: pl.DataFrame, grid: pl.DataFrame, names: dict[int, str]) -> pl.DataFrame:
    """sizes.sql's rows with each cluster's three most common genres (cluster_summary's)."""
    top = (
        grid.filter(pl.col("rank_by_share") <= 3)
        .sort("cluster", "rank_by_share")
        .group_by("cluster", maintain_order=True)
        .agg(pl.col("genre").str.join(", ").alias("top_genres"))
    )
    columns = ["cluster", "tracks", "share", "top_genres", "distinctive_features"]
    return named(sizes.join(top, on="cluster", how="left").select(columns), names)


def sizes_data(con: duckdb.DuckDBPyConnection, run_id: int, names: Names = None) -> pl.DataFrame:
    """Each cluster's tracks, share, top genres and distinctive features (cluster_summary's)."""
    sizes = frame_of(con, "sizes", {"run_id": run_id})
    return sizes_of(sizes, genre_grid(con, run_id), _names(con, run_id, names))


def top_genres_data(
    con: duckdb.DuckDBPyConnection, run_id: int, top: int = TOP_GENRES, names: Names = None
) -> pl.DataFrame:
    """The top genres of each cluster by lift (share of the cluster / share overall), with
    their share of the cluster, from genre_breakdown."""
    return top_genres_of(genre_grid(con, run_id), _names(con, run_id, names), top)


def genre_heatmap_data(
    con: duckdb.DuckDBPyConnection, run_id: int, names: Names = None
) -> pl.DataFrame:
    """Every genre x cluster of the run (zeros included) with its lift, genres ordered by main
    cluster (main_cluster: its label)."""
    return genre_heatmap_of(genre_grid(con, run_id), _names(con, run_id, names))


def loadings_data(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """The run's PCA loadings: every fitted component (pc1 and pc2 are the map's axes)."""
    return frame_of(con, "loadings", {"run_id": run_id})


def silhouette_data(
    con: duckdb.DuckDBPyConnection, run_id: int, bins: int = 1000, gap: float = 0.02
) -> pl.DataFrame:
    """The run's stored s(i), sorted within each cluster and cut into at most `bins` bands
    per cluster: one row per band with its place on the stacked axis (empty: none stored)."""
    return frame_of(con, "silhouette_bands", {"run_id": run_id, "bins": bins, "gap": gap})


def feature_boxes_data(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """Per cluster and raw feature: the 5th, 25th, 50th, 75th and 95th percentiles."""
    return frame_of(con, "feature_boxes", {"run_id": run_id})


def distance_map_data(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """The run's k-means centres in the model space (cluster, dimension, value) and sizes."""
    return frame_of(con, "model_centroids", {"run_id": run_id})


def nominal_features_data(
    con: duckdb.DuckDBPyConnection, run_id: int, names: Names = None
) -> pl.DataFrame:
    """Per cluster, feature (key, mode, time_signature) and value: tracks, share of the
    cluster and share of all the run's tracks, with the value in words (value_label)."""
    frame = frame_of(con, "nominal_features", {"run_id": run_id})
    return named(frame, _names(con, run_id, names))
