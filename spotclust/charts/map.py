"""The PCA map: every track on the first two principal components, binned, by cluster."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt

from spotclust.charts import plans, theme
from spotclust.charts.authoring import drawing, drawn
from spotclust.charts.plans.map import ARROWS, MAX_HEIGHT, PCA_BINS  # noqa: F401

DIMMED = 0.06  # the opacity of the other clusters' bins while one cluster is picked


def _bin_squares(v) -> alt.Chart:
    """The bins, coloured by cluster, shaded by tracks; a click on a cluster in the legend
    (or on a bin) picks that cluster and dims the others (shift-click: several)."""
    pick = alt.selection_point(name="pick_cluster", fields=["cluster"], bind="legend")
    return (
        alt.Chart(alt.NamedData("bins"))
        .mark_rect()
        .encode(
            x=alt.X(
                "x0:Q", title=v.x_title, scale=alt.Scale(domain=v.x_domain, nice=False, zero=False)
            ),
            x2="x1:Q",
            y=alt.Y(
                "y0:Q", title=v.y_title, scale=alt.Scale(domain=v.y_domain, nice=False, zero=False)
            ),
            y2="y1:Q",
            color=theme.colour_by_cluster(v.clusters, v.colours, title="cluster"),
            opacity=alt.condition(
                pick,
                alt.Opacity(
                    "tracks:Q",
                    scale=alt.Scale(type="log", range=[0.25, 1]),
                    legend=alt.Legend(title="tracks in bin (log scale)"),
                ),
                alt.value(DIMMED),
            ),
            tooltip=[
                alt.Tooltip("cluster:N", title="most common cluster"),
                alt.Tooltip("cluster_share:Q", title="its share of the bin", format=".0%"),
                alt.Tooltip("tracks:Q", title="tracks in bin", format=","),
                alt.Tooltip("mix:N", title="tracks per cluster"),
                alt.Tooltip("x0:Q", title="PC1 from", format=".2f"),
                alt.Tooltip("y0:Q", title="PC2 from", format=".2f"),
            ],
        )
        .add_params(pick)
        .properties(name="bin_squares")  # the view the pick belongs to
    )


def _centroid_marks() -> list[alt.Chart]:
    """Black crosses at the centroids, each labelled (white halo under the label)."""
    centroid_tooltip = [
        alt.Tooltip("cluster:N", title="centroid of"),
        alt.Tooltip("pc1:Q", title="mean PC1", format=".2f"),
        alt.Tooltip("pc2:Q", title="mean PC2", format=".2f"),
        alt.Tooltip("tracks:Q", title="tracks in cluster", format=","),
    ]
    centre = alt.Chart(alt.NamedData("centroids")).encode(
        x="pc1:Q", y="pc2:Q", tooltip=centroid_tooltip
    )
    marks = centre.mark_point(
        shape="cross", size=320, filled=True, fill="black", stroke="white", strokeWidth=1.5
    )
    halo = centre.mark_text(
        align="left",
        dx=12,
        dy=-10,
        fontSize=13,
        fontWeight="bold",
        stroke="white",
        strokeWidth=4,
        strokeJoin="round",
    ).encode(text="cluster:N")
    label = centre.mark_text(align="left", dx=12, dy=-10, fontSize=13, fontWeight="bold").encode(
        text="cluster:N"
    )
    return [marks, halo, label]


def _arrows() -> list[alt.Chart]:
    """The biplot: an arrow per feature from the origin to its (scaled) loading."""
    tooltip = [
        alt.Tooltip("feature:N"),
        alt.Tooltip("PC1:Q", title="loading on PC1", format="+.2f"),
        alt.Tooltip("PC2:Q", title="loading on PC2", format="+.2f"),
    ]
    base = alt.Chart(alt.NamedData("arrows")).encode(tooltip=tooltip)
    shaft = base.mark_rule(color="#222", strokeWidth=1.5).encode(
        x="origin:Q", y="origin:Q", x2="tip_x:Q", y2="tip_y:Q"
    )
    head = base.mark_point(shape="circle", size=30, filled=True, color="#222").encode(
        x="tip_x:Q", y="tip_y:Q"
    )
    name = base.mark_text(fontSize=11, dy=-8, fontStyle="italic", color="#222").encode(
        x="tip_x:Q", y="tip_y:Q", text="feature:N"
    )
    return [shaft, head, name]


@drawing("pca_map", variants=("", "arrows"))
def draw_pca_map(v, flags) -> alt.LayerChart:
    arrows = _arrows() if "arrows" in flags else []
    return theme.finish(
        alt.layer(_bin_squares(v), *arrows, *_centroid_marks()).properties(
            width=v.width, height=v.height, title=v.title
        )
    )


def pca_map(
    bins: theme.Data,
    centroids: theme.Data,
    clusters: Sequence[str] | None = None,
    explained: Sequence[float] | None = None,
    grid: int = PCA_BINS,
    loadings: theme.Data | None = None,
) -> alt.LayerChart:
    """Tracks on the first two principal components, as density bins coloured by cluster.

    bins: x0, x1, y0, y1, tracks, cluster (the bin's most common cluster), cluster_share, mix
    (see pca_map_data); centroids: cluster, pc1, pc2, tracks. explained: variance ratio of
    PC1 and PC2, for the axis titles; loadings: component, axis, feature, loading (see
    loadings_data), drawn as arrows from the origin (a biplot). Equal aspect: a unit of PC1
    takes as many pixels as a unit of PC2.
    """
    return drawn(plans.map.pca_map(bins, centroids, clusters, explained, grid, loadings))
