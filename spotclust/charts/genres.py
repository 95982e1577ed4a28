"""Charts of genres against clusters: each cluster's top genres, and where each genre went."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from spotclust.charts import theme

TOP_GENRES = 20  # genres per cluster in the top-genres chart, as in the original analysis


MIN_GENRE_TRACKS = 10  # a genre needs this many tracks in a cluster to rank by lift (explain's)
LIFT_CLIP = 2  # the heatmap's colour stops at lift 1/4 and 4 (log2 lift ±2)


def top_genres_chart(
    data: theme.Data, clusters: Sequence[str] | None = None, top: int = TOP_GENRES, columns: int = 4
) -> alt.FacetChart:
    """The genres each cluster holds far more of than the data as a whole: one panel per
    cluster, bars of lift on one scale shared by every panel, the share printed on each bar.

    data: cluster, genre, tracks, share_of_cluster, share_of_genre, overall_share, lift,
    rank_in_cluster (by lift; see top_genres_data).
    """
    frame = theme.as_frame(data)
    clusters = list(clusters) if clusters is not None else theme.cluster_domain(frame)
    frame = frame.filter(pl.col("rank_in_cluster") <= top) if frame.height else frame
    n_columns = max(1, min(columns, len(clusters)))
    panel_width = max(120, 1080 // n_columns - 140)
    largest = float(frame["lift"].max()) if frame.height else 1.0
    if frame.height:  # the share, printed beside the genre (one mark: a facet of layers warns)
        frame = frame.with_columns(
            pl.format(
                "{} ({}%)", "genre", (pl.col("share_of_cluster") * 100).round(0).cast(pl.Int64)
            ).alias("genre_share")
        )
    base = alt.Chart(frame).encode(
        y=alt.Y(
            "genre_share:N",
            sort=alt.EncodingSortField("rank_in_cluster", op="min"),
            title=None,
            axis=alt.Axis(labelFontSize=11),
        ),
        x=alt.X(
            "lift:Q",
            title="lift (× as common as in all tracks)",
            scale=alt.Scale(domain=[0, largest * 1.25], nice=False),
            axis=alt.Axis(tickCount=3, format="~r"),
        ),
        tooltip=[
            alt.Tooltip("cluster:N"),
            alt.Tooltip("genre:N"),
            alt.Tooltip("lift:Q", title="lift (share here / share overall)", format=".2f"),
            alt.Tooltip("share_of_cluster:Q", title="share of the cluster", format=".1%"),
            alt.Tooltip("overall_share:Q", title="share of all tracks", format=".1%"),
            alt.Tooltip("tracks:Q", title="tracks", format=","),
            alt.Tooltip("share_of_genre:Q", title="share of the genre", format=".1%"),
        ],
    )
    layered = (
        base.mark_bar()
        .encode(color=theme.cluster_color(clusters))
        .properties(width=panel_width, height=alt.Step(17))
    )
    chart = (
        theme.facet_panels(layered, "cluster:N", clusters, n_columns)
        .resolve_scale(y="independent")
        .properties(
            title=theme.title(
                f"Top {top} genres of each cluster, by lift",
                [
                    "Lift: the genre's share of the cluster over its share of all tracks (1: as "
                    "common as anywhere); genres with "
                    f"{MIN_GENRE_TRACKS}+ tracks in the cluster.",
                    "In brackets: the genre's share of the cluster. One scale for every panel; "
                    "hover "
                    "a bar for the tracks.",
                ],
            )
        )
    )
    return theme.finish(chart)


def _separators(frame: pl.DataFrame, order: list[str]) -> pl.DataFrame:
    """The first genre of each block (after the first): where a rule separates the blocks."""
    if not frame.height:
        return pl.DataFrame({"genre": []}, schema={"genre": pl.String})
    main = frame.select("genre", "genre_order", "main_cluster").unique().sort("genre_order")
    first = main.filter(pl.col("main_cluster").ne_missing(pl.col("main_cluster").shift(1))).slice(1)
    return first.select("genre")


def _lift_colour() -> alt.Color:
    """log2 lift on the diverging scale of every page (red: over-represented), labelled ×."""
    return alt.Color(
        "log2_lift:Q",
        scale=theme.diverging_scale(LIFT_CLIP),
        legend=alt.Legend(
            title=["lift (log scale),", "clipped at ¼× and 4×"],
            values=[-2, -1, 0, 1, 2],
            labelExpr="datum.value >= 0 ? format(pow(2, datum.value), '~r') + '×' "
            ": '1/' + format(pow(2, -datum.value), '~r') + '×'",
            gradientLength=300,
        ),
    )


def _cluster_x(clusters: list[str], orient: str) -> alt.X:
    """The heatmap's columns, the clusters, with their axis at the top or the bottom."""
    return alt.X(
        "cluster:N",
        sort=clusters,
        title=None,
        axis=alt.Axis(orient=orient, labelAngle=-20, labelFontSize=12),
    )


def genre_cluster_heatmap(
    data: theme.Data, clusters: Sequence[str] | None = None
) -> alt.LayerChart:
    """Which genres each cluster over- or under-represents: lift of every genre x cluster,
    coloured on the diverging scale (log2), the share of the genre printed.

    data: genre, cluster, tracks, share_of_genre, share_of_cluster, lift, main_cluster,
    genre_order (see genre_heatmap_data). Genres are sorted by their main cluster, so blocks
    show, with a rule between blocks.
    """
    frame = theme.as_frame(data)
    clusters = list(clusters) if clusters is not None else theme.cluster_domain(frame)
    order = (
        frame.select("genre", "genre_order").unique().sort("genre_order")["genre"].to_list()
        if frame.height
        else []
    )
    if frame.height:
        frame = frame.with_columns(pl.col("lift").clip(2.0**-6, 2.0**6).log(2).alias("log2_lift"))
    cell_width = max(60, min(140, (theme.WIDTH - 250) // max(len(clusters), 1)))
    y = alt.Y("genre:N", sort=order, title=None, axis=alt.Axis(labelFontSize=11))
    base = alt.Chart(frame).encode(
        x=_cluster_x(clusters, "top"),
        y=y,
        tooltip=[
            alt.Tooltip("genre:N"),
            alt.Tooltip("cluster:N"),
            alt.Tooltip("lift:Q", title="lift (share here / share overall)", format=".2f"),
            alt.Tooltip("tracks:Q", title="tracks", format=","),
            alt.Tooltip("share_of_genre:Q", title="share of the genre", format=".1%"),
            alt.Tooltip("share_of_cluster:Q", title="share of the cluster", format=".2%"),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=0.5).encode(color=_lift_colour())
    # the clusters at the foot too: a tall heatmap scrolled down still names its columns
    text = base.mark_text(fontSize=10).encode(
        x=_cluster_x(clusters, "bottom"),
        text=alt.Text("share_of_genre:Q", format=".0%"),
        color=alt.condition("abs(datum.log2_lift) > 1.4", alt.value("white"), alt.value("#333")),
    )
    rules = (
        alt.Chart(_separators(frame, order))
        .mark_rule(color="#222", strokeWidth=1.5)
        .encode(y=alt.Y("genre:N", sort=order, bandPosition=0))
    )
    return theme.finish(
        alt.layer(cells, text, rules).properties(
            width=cell_width * max(len(clusters), 1),
            height=alt.Step(14),
            title=theme.title(
                "Genres across clusters, by lift",
                [
                    f"Colour: lift, the genre's share of the cluster over its share of all tracks "
                    f"(red: more common here, blue: less; {len(order)} genres).",
                    "Printed: share of the genre's tracks in the cluster (each row adds up to "
                    "100%). Blocks: genres grouped by the cluster holding most of their tracks.",
                ],
            ),
        )
    )
