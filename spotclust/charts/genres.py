"""Charts of genres against clusters: each cluster's top genres, and where each genre went."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt

from spotclust.charts import theme
from spotclust.charts.authoring import drawing, drawn
from spotclust.charts.plans import genres as plan
from spotclust.charts.plans.genres import LIFT_CLIP, MIN_GENRE_TRACKS, TOP_GENRES  # noqa: F401


@drawing("top_genres")
def draw_top_genres(v, flags) -> alt.FacetChart:
    base = alt.Chart(alt.NamedData("genres")).encode(
        y=alt.Y(
            "genre_share:N",
            sort=alt.EncodingSortField("rank_in_cluster", op="min"),
            title=None,
            axis=alt.Axis(labelFontSize=11),
        ),
        x=alt.X(
            "lift:Q",
            title="lift (× as common as in all tracks)",
            scale=alt.Scale(domain=v.x_domain, nice=False),
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
    bars = (
        base.mark_bar()
        .encode(color=theme.colour_by_cluster(v.clusters, v.colours))
        .properties(width=v.panel_width, height=alt.Step(17))
    )
    chart = (
        theme.facet_panels(bars, "cluster:N", v.clusters, v.columns)
        .resolve_scale(y="independent")
        .properties(title=v.title)
    )
    return theme.finish(chart)


def top_genres_chart(
    data: theme.Data, clusters: Sequence[str] | None = None, top: int = TOP_GENRES, columns: int = 4
) -> alt.FacetChart:
    """The genres each cluster holds far more of than the data as a whole: one panel per
    cluster, bars of lift on one scale shared by every panel, the share printed on each bar.

    data: cluster, genre, tracks, share_of_cluster, share_of_genre, overall_share, lift,
    rank_in_cluster (by lift; see top_genres_data).
    """
    return drawn(plan.top_genres(data, clusters, top, columns))


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


def _cluster_x(clusters, orient: str) -> alt.X:
    """The heatmap's columns, the clusters, with their axis at the top or the bottom."""
    return alt.X(
        "cluster:N",
        sort=clusters,
        title=None,
        axis=alt.Axis(orient=orient, labelAngle=-20, labelFontSize=12),
    )


@drawing("genre_heatmap")
def draw_genre_heatmap(v, flags) -> alt.LayerChart:
    y = alt.Y("genre:N", sort=v.order, title=None, axis=alt.Axis(labelFontSize=11))
    base = alt.Chart(alt.NamedData("heatmap")).encode(
        x=_cluster_x(v.clusters, "top"),
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
        x=_cluster_x(v.clusters, "bottom"),
        text=alt.Text("share_of_genre:Q", format=".0%"),
        color=alt.condition("abs(datum.log2_lift) > 1.4", alt.value("white"), alt.value("#333")),
    )
    rules = (
        alt.Chart(alt.NamedData("separators"))
        .mark_rule(color="#222", strokeWidth=1.5)
        .encode(y=alt.Y("genre:N", sort=v.order, bandPosition=0))
    )
    return theme.finish(
        alt.layer(cells, text, rules).properties(width=v.width, height=alt.Step(14), title=v.title)
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
    return drawn(plan.genre_heatmap(data, clusters))
