"""Charts of the audio features: how they correlate, and what the principal components weigh."""

from __future__ import annotations

import altair as alt
import polars as pl

from spotclust.charts import theme

POSITIVE = "+ higher feature, higher score"
NEGATIVE = "− higher feature, lower score"


def _mark_dropped(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str], list[str]]:
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


def correlation_heatmap(data: theme.Data, run_label: str = "this run") -> alt.LayerChart:
    """Pearson r between every pair of audio features, r printed in each cell.

    data: feature_a, feature_b, r, position_a, position_b, in_run_a, in_run_b
    (see correlation_data). Features the run did not cluster on are marked "(dropped)".
    """
    frame, order, dropped = _mark_dropped(theme.as_frame(data))
    cell = 640 // max(len(order), 1)
    red_if_dropped = alt.expr("indexof(datum.label, '(dropped)') >= 0 ? '#b30000' : '#222'")
    base = alt.Chart(frame).encode(
        x=alt.X(
            "column:N",
            sort=order,
            title="feature",
            axis=alt.Axis(labelAngle=-40, labelColor=red_if_dropped),
        ),
        y=alt.Y("row:N", sort=order, title="feature", axis=alt.Axis(labelColor=red_if_dropped)),
    )
    tooltip = [
        alt.Tooltip("feature_a:N", title="feature"),
        alt.Tooltip("feature_b:N", title="with"),
        alt.Tooltip("r:Q", title="Pearson r", format=".3f"),
        alt.Tooltip("used:N", title=f"clustered on in {run_label}"),
        alt.Tooltip("reason:N", title="feature selection"),
    ]
    cells = base.mark_rect().encode(
        color=alt.Color(
            "r:Q",
            scale=theme.diverging_scale(1, clamp=False),
            legend=alt.Legend(title="Pearson r (−1 to 1)", gradientLength=300),
        ),
        tooltip=tooltip,
    )
    # A constant feature has no r (NULL): say so rather than let the format print 0.00.
    text = (
        base.transform_calculate(r_text="isValid(datum.r) ? format(datum.r, '.2f') : 'n/a'")
        .mark_text(fontSize=12)
        .encode(
            text="r_text:N",
            color=alt.condition("abs(datum.r) > 0.55", alt.value("white"), alt.value("#222")),
            tooltip=tooltip,
        )
    )
    subtitle = [
        "Pearson r over all clean tracks; red labels: features dropped "
        f"(not clustered on in {run_label}): {', '.join(dropped) or 'none'}.",
        "Hover a cell for the reason a feature was kept or dropped.",
    ]
    return theme.finish(
        alt.layer(cells, text).properties(
            width=cell * len(order),
            height=cell * len(order),
            title=theme.title("Correlation between audio features", subtitle),
        )
    )


def _loading_panels(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str], list[str], list[str]]:
    """(frame with direction and panel, features by weight on the first component, panel
    titles, each component's three largest weights) for pca_loadings_chart."""
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
    for axis, rows in frame.sort("component").group_by("axis", maintain_order=True):
        top = rows.sort(pl.col("loading").abs(), descending=True).head(3)
        parts = [
            f"{'+' if v >= 0 else '−'}{f}"
            for f, v in zip(top["feature"], top["loading"], strict=True)
        ]
        meaning.append(f"{axis[0]}: {', '.join(parts)}")
    return frame, order, panels, meaning


def pca_loadings_chart(data: theme.Data) -> alt.FacetChart:
    """What each principal component means: the weight of every feature on it.

    data: component, axis, feature, loading, explained_variance_ratio, position
    (see loadings_data). One panel per component.
    """
    frame, order, panels, meaning = _loading_panels(theme.as_frame(data))
    n_columns = max(1, min(3, len(panels)))
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("feature:N", sort=order, title=None),
            x=alt.X(
                "loading:Q",
                title="loading (no unit, −1 to 1)",
                scale=alt.Scale(domain=[-1, 1]),
                axis=alt.Axis(values=[-1, -0.5, 0, 0.5, 1], format="~r"),
            ),
            color=alt.Color(
                "direction:N",
                scale=alt.Scale(domain=[POSITIVE, NEGATIVE], range=[theme.ABOVE, theme.BELOW]),
                legend=alt.Legend(title="sign of the loading", orient="right", symbolType="square"),
            ),
            tooltip=[
                alt.Tooltip("axis:N", title="component"),
                alt.Tooltip("feature:N"),
                alt.Tooltip("loading:Q", format="+.3f"),
                alt.Tooltip("explained_variance_ratio:Q", title="variance explained", format=".1%"),
            ],
        )
        .properties(width=min(380, 820 // n_columns - 130), height=alt.Step(24))
    )
    chart = theme.facet_panels(bars, "panel:N", panels, n_columns).properties(
        title=theme.title(
            "PCA loadings: what each axis of the map means",
            ["Largest weights — " + "; ".join(meaning)] if meaning else [],
        )
    )
    return theme.finish(chart)
