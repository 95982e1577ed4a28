"""The PCA map's plan: the bins on equal scales, the centroids and the loading arrows."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from spotclust.charts import common
from spotclust.charts.spec import Plan, rows

PCA_BINS = 60  # the PCA map's grid: PCA_BINS x PCA_BINS bins over the tracks' extent
ARROWS = 6  # the biplot's loading arrows: the features with the longest (pc1, pc2) loadings
MAX_HEIGHT = 700  # px: a map taller than this at full width is drawn narrower instead


def axis_titles(explained: Sequence[float] | None) -> list[str]:
    return [
        f"PC{i + 1} (standardised units"
        + (f"; {explained[i]:.1%} of variance)" if explained and len(explained) > i else ")")
        for i in range(2)
    ]


def extent(bins: pl.DataFrame) -> tuple[list[float], list[float], int, int]:
    """(x domain, y domain, width, height): the same pixels per unit on both axes."""
    if not bins.height:
        return [-1.0, 1.0], [-1.0, 1.0], common.WIDTH, common.WIDTH
    x = [float(bins["x0"].min()), float(bins["x1"].max())]
    y = [float(bins["y0"].min()), float(bins["y1"].max())]
    x_span, y_span = max(x[1] - x[0], 1e-9), max(y[1] - y[0], 1e-9)
    per_unit = min(common.WIDTH / x_span, MAX_HEIGHT / y_span)
    return x, y, round(per_unit * x_span), round(per_unit * y_span)


def arrows(loadings: pl.DataFrame | None, bins: pl.DataFrame) -> pl.DataFrame | None:
    """The biplot's arrows: from the origin to each feature's (PC1, PC2) loading, all scaled
    by one factor so the longest reaches 40% of the nearer edge of the map (None: no arrows)."""
    if loadings is None or not loadings.height or not bins.height:
        return None
    wide = (
        loadings.filter(pl.col("component").is_in([1, 2]))
        .pivot(on="axis", index="feature", values="loading")
        .fill_null(0)
    )
    if not {"PC1", "PC2"} <= set(wide.columns):
        return None
    wide = wide.with_columns((pl.col("PC1") ** 2 + pl.col("PC2") ** 2).sqrt().alias("length"))
    wide = wide.sort("length", descending=True).head(ARROWS)
    x, y, _, _ = extent(bins)
    room = min(abs(x[0]), abs(x[1]), abs(y[0]), abs(y[1]))
    factor = 0.4 * room / max(float(wide["length"].max()), 1e-9)
    return wide.with_columns(
        (pl.col("PC1") * factor).alias("tip_x"),
        (pl.col("PC2") * factor).alias("tip_y"),
        pl.lit(0.0).alias("origin"),
    )


def pca_map(
    bins: common.Data,
    centroids: common.Data,
    clusters: Sequence[str] | None = None,
    explained: Sequence[float] | None = None,
    grid: int = PCA_BINS,
    loadings: common.Data | None = None,
) -> Plan:
    """Tracks on the first two principal components, as density bins coloured by cluster
    (see map.pca_map for the data)."""
    bins, centroids = common.as_frame(bins), common.as_frame(centroids)
    clusters = list(clusters) if clusters is not None else common.cluster_domain(centroids)
    total = int(bins["tracks"].sum()) if bins.height else 0
    tips = arrows(None if loadings is None else common.as_frame(loadings), bins)
    x, y, width, height = extent(bins)
    x_title, y_title = axis_titles(explained)
    subtitle = [
        f"All {total:,} tracks binned on a {grid} x {grid} grid (no sampling): each "
        "square is coloured by its most common cluster, shaded by how many tracks "
        "fall in it.",
        "Black crosses: cluster centroids (mean PC1, PC2 of the members). Arrows: "
        "the features weighing most on PC1 and PC2 (loadings, one common scale). "
        "Both axes have the same scale. Click a cluster in the legend to pick it "
        "(shift-click: more); click the legend again or the background to clear.",
    ]
    datasets = {"bins": rows(bins), "centroids": rows(centroids)}
    if tips is not None:
        datasets["arrows"] = rows(tips)
    values = {
        "x_domain": x, "y_domain": y, "width": width, "height": height,
        "x_title": x_title, "y_title": y_title,
        "clusters": clusters, "colours": common.cluster_colours(clusters),
        "title": common.title(
            "Tracks on the first two principal components, by cluster", subtitle
        ),
    }  # fmt: skip
    return Plan("pca_map", "arrows" if tips is not None else "", values, datasets)
