"""Charts of genres against clusters: each cluster's top genres, and where each genre went."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from spotclust.charts import theme

TOP_GENRES = 20  # genres per cluster in the top-genres chart, as in the original analysis


def top_genres_chart(
    data: theme.Data, clusters: Sequence[str] | None = None, top: int = TOP_GENRES, columns: int = 4
) -> alt.FacetChart:
    """The top genres of each cluster: one panel of bars per cluster.

    data: cluster, genre, tracks, share_of_cluster, share_of_genre, rank_in_cluster
    (see top_genres_data). Bars: the genre's share of the cluster's genre listings.
    """
    frame = theme.as_frame(data)
    clusters = list(clusters) if clusters is not None else theme.cluster_domain(frame)
    frame = frame.filter(pl.col("rank_in_cluster") <= top) if frame.height else frame
    n_columns = max(1, min(columns, len(clusters)))
    panel_width = max(120, 1080 // n_columns - 140)
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(
                "genre:N",
                sort=alt.EncodingSortField("rank_in_cluster", op="min"),
                title=None,
                axis=alt.Axis(labelFontSize=11),
            ),
            x=alt.X(
                "share_of_cluster:Q",
                title="share of cluster (%)",
                axis=alt.Axis(format=".0%", tickCount=2),
            ),
            color=theme.cluster_color(clusters),
            tooltip=[
                alt.Tooltip("cluster:N"),
                alt.Tooltip("genre:N"),
                alt.Tooltip("rank_in_cluster:Q", title="rank in cluster"),
                alt.Tooltip("tracks:Q", title="tracks", format=","),
                alt.Tooltip("share_of_cluster:Q", title="share of the cluster", format=".1%"),
                alt.Tooltip("share_of_genre:Q", title="share of the genre", format=".1%"),
            ],
        )
        .properties(width=panel_width, height=alt.Step(17))
    )
    chart = (
        theme.facet_panels(bars, "cluster:N", clusters, n_columns)
        .resolve_scale(y="independent", x="independent")
        .properties(
            title=theme.title(
                f"Top {top} genres in each cluster",
                [
                    "Share of the cluster's genre listings (a track listed under two genres counts "
                    "for both); each panel has its own scale.",
                    "Hover a bar for the tracks and the share of the genre that falls in the "
                    "cluster.",
                ],
            )
        )
    )
    return theme.finish(chart)


def genre_cluster_heatmap(
    data: theme.Data, clusters: Sequence[str] | None = None
) -> alt.LayerChart:
    """Where each genre's tracks went: share of the genre in each cluster, every genre.

    data: genre, cluster, tracks, share_of_genre, share_of_cluster, genre_order
    (see genre_heatmap_data). Genres are sorted by their main cluster, so blocks show.
    """
    frame = theme.as_frame(data)
    clusters = list(clusters) if clusters is not None else theme.cluster_domain(frame)
    order = (
        frame.select("genre", "genre_order").unique().sort("genre_order")["genre"].to_list()
        if frame.height
        else []
    )
    cell_width = max(60, min(140, (theme.WIDTH - 250) // max(len(clusters), 1)))
    base = alt.Chart(frame).encode(
        x=alt.X(
            "cluster:N",
            sort=clusters,
            title=None,
            axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=13),
        ),
        y=alt.Y("genre:N", sort=order, title=None, axis=alt.Axis(labelFontSize=11)),
        tooltip=[
            alt.Tooltip("genre:N"),
            alt.Tooltip("cluster:N"),
            alt.Tooltip("tracks:Q", title="tracks", format=","),
            alt.Tooltip("share_of_genre:Q", title="share of the genre", format=".1%"),
            alt.Tooltip("share_of_cluster:Q", title="share of the cluster", format=".2%"),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        color=alt.Color(
            "share_of_genre:Q",
            scale=alt.Scale(domain=[0, 0.5, 1], range=["#f7fbff", "#6baed6", "#08306b"]),
            legend=alt.Legend(title="share of genre", format=".0%", gradientLength=300),
        )
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("share_of_genre:Q", format=".0%"),
        color=alt.condition("datum.share_of_genre > 0.6", alt.value("white"), alt.value("#333")),
    )
    return theme.finish(
        alt.layer(cells, text).properties(
            width=cell_width * max(len(clusters), 1),
            height=alt.Step(14),
            title=theme.title(
                "Genres across clusters",
                [
                    f"Share of each genre's tracks that fall in each cluster ({len(order)} "
                    "genres; each row adds up to 100%).",
                    "Genres are grouped by the cluster that holds most of their tracks.",
                ],
            ),
        )
    )
