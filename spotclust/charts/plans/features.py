"""The plans of the charts of the audio features: how they correlate, and what the principal
components weigh."""

from __future__ import annotations

import polars as pl

from spotclust.charts import common
from spotclust.charts.spec import Plan, rows

POSITIVE = "+ higher feature, higher score"
NEGATIVE = "− higher feature, lower score"


def mark_dropped(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str], list[str]]:
    """(frame with row/column labels, features in position order, dropped features)."""

    def label(side: str) -> pl.Expr:
        feature = pl.col(f"feature_{side}")
        return pl.when(pl.col(f"in_run_{side}")).then(feature).otherwise(feature + " (dropped)")

    frame = frame.with_columns(
        label("a").alias("row"),
        label("b").alias("column"),
        pl.when(pl.col("in_run_a")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("used"),
    )
    order = (
        frame.select("row", "position_a").unique().sort("position_a")["row"].to_list()
        if frame.height
        else []
    )
    dropped = frame.filter(~pl.col("in_run_a"))["feature_a"].unique(maintain_order=True)
    return frame, order, dropped.to_list()


def correlations(data: common.Data, run_label: str = "this run") -> Plan:
    """Pearson r between every pair of audio features (see features.correlation_heatmap)."""
    frame, order, dropped = mark_dropped(common.as_frame(data))
    cell = 640 // max(len(order), 1)
    subtitle = [
        "Pearson r over all clean tracks; red labels: features dropped "
        f"(not clustered on in {run_label}): {', '.join(dropped) or 'none'}.",
        "Hover a cell for the reason a feature was kept or dropped.",
    ]
    values = {
        "order": order,
        "size": cell * len(order),
        "used_title": f"clustered on in {run_label}",
        "title": common.title("Correlation between audio features", subtitle),
    }
    return Plan("correlations", "", values, {"correlations": rows(frame)})


def loading_panels(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str], list[str], list[str]]:
    """(frame with direction and panel, features by weight on the first component, panel
    titles, each component's three largest weights) for the loadings chart."""
    if not frame.height:
        return frame, [], [], []
    first = frame.filter(pl.col("component") == frame["component"].min())
    order = first.sort(pl.col("loading").abs(), descending=True)["feature"].to_list()
    frame = frame.with_columns(
        pl.when(pl.col("loading") >= 0)
        .then(pl.lit(POSITIVE))
        .otherwise(pl.lit(NEGATIVE))
        .alias("direction"),
        pl.struct("axis", "explained_variance_ratio")
        .map_elements(
            lambda s: f"{s['axis']} ({s['explained_variance_ratio']:.1%} of variance)",
            return_dtype=pl.String,
        )
        .alias("panel"),
    )
    panels = frame.sort("component")["panel"].unique(maintain_order=True).to_list()
    meaning = []
    for axis, part in frame.sort("component").group_by("axis", maintain_order=True):
        top = part.sort(pl.col("loading").abs(), descending=True).head(3)
        parts = [
            f"{'+' if v >= 0 else '−'}{f}"
            for f, v in zip(top["feature"], top["loading"], strict=True)
        ]
        meaning.append(f"{axis[0]}: {', '.join(parts)}")
    return frame, order, panels, meaning


def loadings(data: common.Data) -> Plan:
    """The weight of every feature on each principal component (see
    features.pca_loadings_chart)."""
    frame, order, panels, meaning = loading_panels(common.as_frame(data))
    n_columns = max(1, min(3, len(panels)))
    values = {
        "order": order,
        "panels": panels,
        "columns": n_columns,
        "panel_width": min(380, 820 // n_columns - 130),
        "title": common.title(
            "PCA loadings: what each axis of the map means",
            ["Largest weights — " + "; ".join(meaning)] if meaning else [],
        ),
    }
    return Plan("pca_loadings", "", values, {"loadings": rows(frame)})
