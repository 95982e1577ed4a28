"""The plans of the charts of genres against clusters: each cluster's top genres, and where
each genre went (the heatmap)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from spotclust.charts import common
from spotclust.charts.spec import Plan, rows

TOP_GENRES = 20  # genres per cluster in the top-genres chart, as in the original analysis
MIN_GENRE_TRACKS = 10  # a genre needs this many tracks in a cluster to rank by lift (explain's)
LIFT_CLIP = 2  # the heatmap's colour stops at lift 1/4 and 4 (log2 lift ±2)


def top_genres(
    data: common.Data, clusters: Sequence[str] | None = None, top: int = TOP_GENRES, columns=4
) -> Plan:
    """The genres each cluster holds far more of than the data as a whole, one panel per
    cluster (see genres.top_genres_chart)."""
    frame = common.as_frame(data)
    clusters = list(clusters) if clusters is not None else common.cluster_domain(frame)
    frame = frame.filter(pl.col("rank_in_cluster") <= top) if frame.height else frame
    n_columns = max(1, min(columns, len(clusters)))
    largest = float(frame["lift"].max()) if frame.height else 1.0
    if frame.height:  # the share, printed beside the genre (one mark: a facet of layers warns)
        frame = frame.with_columns(
            pl.format(
                "{} ({}%)", "genre", (pl.col("share_of_cluster") * 100).round(0).cast(pl.Int64)
            ).alias("genre_share")
        )
    values = {
        "clusters": clusters,
        "colours": common.cluster_colours(clusters),
        "columns": n_columns,
        "panel_width": max(120, 1080 // n_columns - 140),
        "x_domain": [0, largest * 1.25],
        "title": common.title(
            f"Top {top} genres of each cluster, by lift",
            [
                "Lift: the genre's share of the cluster over its share of all tracks (1: as "
                f"common as anywhere); genres with {MIN_GENRE_TRACKS}+ tracks in the cluster.",
                "In brackets: the genre's share of the cluster. One scale for every panel; "
                "hover a bar for the tracks.",
            ],
        ),
    }
    return Plan("top_genres", "", values, {"genres": rows(frame)})


def separators(frame: pl.DataFrame) -> pl.DataFrame:
    """The first genre of each block (after the first): where a rule separates the blocks."""
    if not frame.height:
        return pl.DataFrame({"genre": []}, schema={"genre": pl.String})
    main = frame.select("genre", "genre_order", "main_cluster").unique().sort("genre_order")
    first = main.filter(pl.col("main_cluster").ne_missing(pl.col("main_cluster").shift(1))).slice(1)
    return first.select("genre")


def genre_heatmap(data: common.Data, clusters: Sequence[str] | None = None) -> Plan:
    """Lift of every genre x cluster, genres in blocks by main cluster (see
    genres.genre_cluster_heatmap)."""
    frame = common.as_frame(data)
    clusters = list(clusters) if clusters is not None else common.cluster_domain(frame)
    order = (
        frame.select("genre", "genre_order").unique().sort("genre_order")["genre"].to_list()
        if frame.height
        else []
    )
    if frame.height:
        frame = frame.with_columns(pl.col("lift").clip(2.0**-6, 2.0**6).log(2).alias("log2_lift"))
    cell_width = max(60, min(140, (common.WIDTH - 250) // max(len(clusters), 1)))
    values = {
        "clusters": clusters,
        "order": order,
        "width": cell_width * max(len(clusters), 1),
        "title": common.title(
            "Genres across clusters, by lift",
            [
                "Colour: lift, the genre's share of the cluster over its share of all tracks "
                f"(red: more common here, blue: less; {len(order)} genres).",
                "Printed: share of the genre's tracks in the cluster (each row adds up to "
                "100%). Blocks: genres grouped by the cluster holding most of their tracks.",
            ],
        ),
    }
    datasets = {"heatmap": rows(frame), "separators": rows(separators(frame))}
    return Plan("genre_heatmap", "", values, datasets)
