"""The PCA map: every track on the first two principal components, binned, by cluster."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from spotclust.charts import theme

PCA_BINS = 60  # the PCA map's grid: PCA_BINS x PCA_BINS bins over the tracks' extent
ARROWS = 6  # the biplot's loading arrows: the features with the longest (pc1, pc2) loadings
MAX_HEIGHT = 700  # px: a map taller than this at full width is drawn narrower instead


def _axis_titles(explained: Sequence[float] | None) -> list[str]:
    return [
        f"PC{i + 1} (standardised units"
        + (f"; {explained[i]:.1%} of variance)" if explained and len(explained) > i else ")")
        for i in range(2)
    ]


def _extent(bins: pl.DataFrame) -> tuple[list[float], list[float], int, int]:
    """(x domain, y domain, width, height): the same pixels per unit on both axes."""
    if not bins.height:
        return [-1.0, 1.0], [-1.0, 1.0], theme.WIDTH, theme.WIDTH
    x = [float(bins["x0"].min()), float(bins["x1"].max())]
    y = [float(bins["y0"].min()), float(bins["y1"].max())]
    x_span, y_span = max(x[1] - x[0], 1e-9), max(y[1] - y[0], 1e-9)
    per_unit = min(theme.WIDTH / x_span, MAX_HEIGHT / y_span)
    return x, y, round(per_unit * x_span), round(per_unit * y_span)


DIMMED = 0.06  # the opacity of the other clusters' bins while one cluster is picked


def _bin_squares(bins: pl.DataFrame, clusters: list[str], axis: list[str]) -> alt.Chart:
    """The bins, coloured by cluster, shaded by tracks; a click on a cluster in the legend
    (or on a bin) picks that cluster and dims the others (shift-click: several)."""
    x, y, _, _ = _extent(bins)
    pick = alt.selection_point(name="pick_cluster", fields=["cluster"], bind="legend")
    return (
        alt.Chart(bins)
        .mark_rect()
        .encode(
            x=alt.X("x0:Q", title=axis[0], scale=alt.Scale(domain=x, nice=False, zero=False)),
            x2="x1:Q",
            y=alt.Y("y0:Q", title=axis[1], scale=alt.Scale(domain=y, nice=False, zero=False)),
            y2="y1:Q",
            color=theme.cluster_color(clusters, title="cluster"),
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
    )


def _centroid_marks(centroids: pl.DataFrame) -> list[alt.Chart]:
    """Black crosses at the centroids, each labelled (white halo under the label)."""
    centroid_tooltip = [
        alt.Tooltip("cluster:N", title="centroid of"),
        alt.Tooltip("pc1:Q", title="mean PC1", format=".2f"),
        alt.Tooltip("pc2:Q", title="mean PC2", format=".2f"),
        alt.Tooltip("tracks:Q", title="tracks in cluster", format=","),
    ]
    centre = alt.Chart(centroids).encode(x="pc1:Q", y="pc2:Q", tooltip=centroid_tooltip)
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


def _arrows(loadings: pl.DataFrame | None, bins: pl.DataFrame) -> list[alt.Chart]:
    """The biplot: from the origin, an arrow per feature to its (PC1, PC2) loading, all
    scaled by one factor so the longest reaches 40% of the nearer edge of the map."""
    if loadings is None or not loadings.height or not bins.height:
        return []
    wide = (
        loadings.filter(pl.col("component").is_in([1, 2]))
        .pivot(on="axis", index="feature", values="loading")
        .fill_null(0)
    )
    if not {"PC1", "PC2"} <= set(wide.columns):
        return []
    wide = wide.with_columns((pl.col("PC1") ** 2 + pl.col("PC2") ** 2).sqrt().alias("length"))
    wide = wide.sort("length", descending=True).head(ARROWS)
    x, y, _, _ = _extent(bins)
    room = min(abs(x[0]), abs(x[1]), abs(y[0]), abs(y[1]))
    factor = 0.4 * room / max(float(wide["length"].max()), 1e-9)
    wide = wide.with_columns(
        (pl.col("PC1") * factor).alias("tip_x"),
        (pl.col("PC2") * factor).alias("tip_y"),
        pl.lit(0.0).alias("origin"),
    )
    tooltip = [
        alt.Tooltip("feature:N"),
        alt.Tooltip("PC1:Q", title="loading on PC1", format="+.2f"),
        alt.Tooltip("PC2:Q", title="loading on PC2", format="+.2f"),
    ]
    base = alt.Chart(wide).encode(tooltip=tooltip)
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
    bins, centroids = theme.as_frame(bins), theme.as_frame(centroids)
    clusters = list(clusters) if clusters is not None else theme.cluster_domain(centroids)
    total = int(bins["tracks"].sum()) if bins.height else 0
    squares = _bin_squares(bins, clusters, _axis_titles(explained))
    arrows = _arrows(None if loadings is None else theme.as_frame(loadings), bins)
    _, _, width, height = _extent(bins)
    return theme.finish(
        alt.layer(squares, *arrows, *_centroid_marks(centroids)).properties(
            width=width,
            height=height,
            title=theme.title(
                "Tracks on the first two principal components, by cluster",
                [
                    f"All {total:,} tracks binned on a {grid} x {grid} grid (no sampling): each "
                    "square is coloured by its most common cluster, shaded by how many tracks "
                    "fall in it.",
                    "Black crosses: cluster centroids (mean PC1, PC2 of the members). Arrows: "
                    "the features weighing most on PC1 and PC2 (loadings, one common scale). "
                    "Both axes have the same scale. Click a cluster in the legend to pick it "
                    "(shift-click: more); click the legend again or the background to clear.",
                ],
            ),
        )
    )
