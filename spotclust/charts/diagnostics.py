"""The missing diagnostics: the per-track silhouette plot, the raw features of each cluster as
boxes, and the clusters' distances to each other on a plane (classical MDS of the centres)."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from spotclust.charts import theme
from spotclust.charts.authoring import drawing, drawn
from spotclust.charts.plans import diagnostics as plan
from spotclust.charts.plans.diagnostics import (  # noqa: F401  (the registry's and tests' names)
    FEATURE_TITLES,
    NO_SILHOUETTES,
    SILHOUETTE_BANDS,
    SILHOUETTE_BARS,
    SILHOUETTE_GAP,
    distance_frame,
    silhouette_bands,
)

SILHOUETTE_HEIGHT = 640


@drawing("silhouette")
def draw_silhouette(v, flags):
    x = alt.Scale(domain=v.x_domain, nice=False)
    y = alt.Scale(domain=v.y_domain, reverse=True, nice=False, zero=False)
    bars = (
        alt.Chart(alt.NamedData("bands"))
        .mark_rect()
        .encode(
            x=alt.X("zero:Q", title="silhouette s(i)", scale=x),
            x2="silhouette:Q",
            y=alt.Y("y0:Q", axis=None, scale=y),
            y2="y1:Q",
            color=theme.colour_by_cluster(v.clusters, v.colours, title="cluster"),
            tooltip=[
                alt.Tooltip("cluster:N"),
                alt.Tooltip("silhouette:Q", title="mean s(i) of the band", format=".3f"),
                alt.Tooltip("lowest:Q", title="lowest", format=".3f"),
                alt.Tooltip("highest:Q", title="highest", format=".3f"),
                alt.Tooltip("tracks:Q", title="tracks in the band", format=","),
            ],
        )
        .transform_calculate(zero="0")
    )
    labels = (
        alt.Chart(alt.NamedData("names"))
        .mark_text(align="right", dx=-6, fontSize=12)
        .encode(x=alt.value(theme.WIDTH), y=alt.Y("middle:Q", scale=y, axis=None), text="text:N")
    )
    rule = (
        alt.Chart(alt.NamedData("average"))
        .mark_rule(strokeDash=[6, 4], color="#222", strokeWidth=1.5)
        .encode(
            x=alt.X("average:Q", scale=x),
            tooltip=[alt.Tooltip("average:Q", title="the run's silhouette", format=".3f")],
        )
    )
    chart = alt.layer(bars, rule, labels).properties(
        width=theme.WIDTH, height=SILHOUETTE_HEIGHT, title=v.title
    )
    return theme.finish(chart)


def silhouette_plot(bands: pl.DataFrame, clusters: Sequence[str], run: dict):
    """Per-sample silhouettes: each cluster a stack of horizontal bars from 0 to s(i), sorted
    from highest to lowest, the run's average marked (bands: silhouette_data's rows)."""
    return drawn(plan.silhouette(bands, clusters, run))


@drawing("feature_boxes")
def draw_feature_boxes(v, flags):
    y = alt.Y("cluster:N", sort=v.clusters, title=None)
    tooltip = [
        alt.Tooltip("cluster:N"),
        alt.Tooltip("panel:N", title="feature"),
        *(
            alt.Tooltip(f"{p}:Q", title=f"{title} percentile", format=",.3~f")
            for p, title in (("p05", "5th"), ("p25", "25th"), ("p50", "50th (median)"))
        ),
        alt.Tooltip("p75:Q", title="75th percentile", format=",.3~f"),
        alt.Tooltip("p95:Q", title="95th percentile", format=",.3~f"),
        alt.Tooltip("tracks:Q", format=","),
    ]
    base = alt.Chart().encode(y=y, tooltip=tooltip)
    whiskers = base.mark_rule(color="#555").encode(
        x=alt.X("p05:Q", title="in the panel's units", scale=alt.Scale(zero=False)), x2="p95:Q"
    )
    boxes = base.mark_bar(size=12, stroke="#333", strokeWidth=0.5).encode(
        x="p25:Q", x2="p75:Q", color=theme.colour_by_cluster(v.clusters, v.colours)
    )
    medians = base.mark_point(shape="M0,-1L0,1", size=196, color="black", strokeWidth=2.5).encode(
        x="p50:Q"
    )  # a vertical stroke: the median
    layered = alt.layer(whiskers, boxes, medians, data=alt.NamedData("boxes")).properties(
        width=(theme.WIDTH - 160) // 3, height=alt.Step(16)
    )
    chart = (
        theme.facet_panels(layered, "panel:N", v.panels, columns=3)
        .resolve_scale(x="independent")
        .properties(
            title=theme.title(
                "The features of each cluster, in their own units",
                "Box: the middle half of the cluster's tracks (25th to 75th percentile); "
                "line: its median; whiskers: 5th to 95th percentile.",
            )
        )
    )
    return theme.finish(chart)


def feature_boxes_chart(frame: pl.DataFrame, clusters: Sequence[str]):
    """Per feature (a panel each, own scale) and cluster: a box from the 25th to the 75th
    percentile, the median, whiskers from the 5th to the 95th (frame: feature_boxes_data)."""
    return drawn(plan.feature_boxes(frame, clusters))


@drawing("distances")
def draw_distances(v, flags):
    tooltip = [
        alt.Tooltip("cluster:N"),
        alt.Tooltip("tracks:Q", format=","),
        alt.Tooltip("nearest:Q", title="nearest cluster"),
        alt.Tooltip("nearest_distance:Q", title="distance to it (model space)", format=".3f"),
    ]
    base = alt.Chart(alt.NamedData("centres")).encode(
        x=alt.X("x:Q", title="MDS 1", scale=alt.Scale(domain=v.x_domain, nice=False)),
        y=alt.Y("y:Q", title="MDS 2", scale=alt.Scale(domain=v.y_domain, nice=False)),
        tooltip=tooltip,
    )
    circles = base.mark_point(
        shape="circle", filled=True, opacity=0.75, stroke="white", strokeWidth=1.5
    ).encode(
        size=alt.Size(
            "tracks:Q",
            scale=alt.Scale(range=[300, 6000], zero=True),
            legend=alt.Legend(title="tracks", format=",.0f"),
        ),
        color=theme.colour_by_cluster(v.clusters, v.colours, title="cluster"),
    )
    numbers = base.mark_text(fontSize=14, fontWeight="bold").encode(text="text:N")
    side = min(theme.WIDTH, 640)
    chart = alt.layer(circles, numbers).properties(width=side, height=side, title=v.title)
    return theme.finish(chart)


def distance_map(centroids: pl.DataFrame, clusters: Sequence[str]):
    """The cluster centres placed by classical MDS of their distances in the space k-means ran
    in, each a circle as large as its cluster, labelled by number."""
    return drawn(plan.distances(centroids, clusters))
