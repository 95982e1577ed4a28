"""The PCA map: every track on the first two principal components, binned, by cluster."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from spotclust.charts import theme

PCA_BINS = 60  # the PCA map's grid: PCA_BINS x PCA_BINS bins over the tracks' extent


def _axis_titles(explained: Sequence[float] | None) -> list[str]:
    return [
        f"PC{i + 1} (standardised units"
        + (f"; {explained[i]:.1%} of variance)" if explained and len(explained) > i else ")")
        for i in range(2)
    ]


def _bin_squares(bins: pl.DataFrame, clusters: list[str], axis: list[str]) -> alt.Chart:
    return (
        alt.Chart(bins)
        .mark_rect()
        .encode(
            x=alt.X("x0:Q", title=axis[0], scale=alt.Scale(zero=False, nice=False)),
            x2="x1:Q",
            y=alt.Y("y0:Q", title=axis[1], scale=alt.Scale(zero=False, nice=False)),
            y2="y1:Q",
            color=theme.cluster_color(clusters, title="cluster"),
            opacity=alt.Opacity(
                "tracks:Q",
                scale=alt.Scale(type="log", range=[0.25, 1]),
                legend=alt.Legend(title="tracks in bin (log scale)"),
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


def pca_map(
    bins: theme.Data,
    centroids: theme.Data,
    clusters: Sequence[str] | None = None,
    explained: Sequence[float] | None = None,
    grid: int = PCA_BINS,
) -> alt.LayerChart:
    """Tracks on the first two principal components, as density bins coloured by cluster.

    bins: x0, x1, y0, y1, tracks, cluster (the bin's most common cluster), cluster_share, mix
    (see pca_map_data); centroids: cluster, pc1, pc2, tracks. explained: variance ratio of
    PC1 and PC2, for the axis titles.
    """
    bins, centroids = theme.as_frame(bins), theme.as_frame(centroids)
    clusters = list(clusters) if clusters is not None else theme.cluster_domain(centroids)
    total = int(bins["tracks"].sum()) if bins.height else 0
    squares = _bin_squares(bins, clusters, _axis_titles(explained))
    return theme.finish(
        alt.layer(squares, *_centroid_marks(centroids)).properties(
            width=theme.WIDTH,
            height=600,
            title=theme.title(
                "Tracks on the first two principal components, by cluster",
                [
                    f"All {total:,} tracks binned on a {grid} x {grid} grid (no sampling): each "
                    "square is coloured by its most common cluster, shaded by how many tracks "
                    "fall in it.",
                    "Black crosses: cluster centroids (mean PC1, PC2 of the members).",
                ],
            ),
        )
    )
