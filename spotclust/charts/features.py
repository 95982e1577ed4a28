"""Charts of the audio features: how they correlate, and what the principal components weigh."""

from __future__ import annotations

import altair as alt

from spotclust.charts import theme
from spotclust.charts.authoring import drawing, drawn
from spotclust.charts.plans import features as plan
from spotclust.charts.plans.features import NEGATIVE, POSITIVE


@drawing("correlations")
def draw_correlations(v, flags) -> alt.LayerChart:
    red_if_dropped = alt.expr("indexof(datum.label, '(dropped)') >= 0 ? '#b30000' : '#222'")
    base = alt.Chart(alt.NamedData("correlations")).encode(
        x=alt.X(
            "column:N",
            sort=v.order,
            title="feature",
            axis=alt.Axis(labelAngle=-40, labelColor=red_if_dropped),
        ),
        y=alt.Y("row:N", sort=v.order, title="feature", axis=alt.Axis(labelColor=red_if_dropped)),
    )
    tooltip = [
        alt.Tooltip("feature_a:N", title="feature"),
        alt.Tooltip("feature_b:N", title="with"),
        alt.Tooltip("r:Q", title="Pearson r", format=".3f"),
        alt.Tooltip("used:N", title=v.used_title),
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
    return theme.finish(
        alt.layer(cells, text).properties(width=v.size, height=v.size, title=v.title)
    )


def correlation_heatmap(data: theme.Data, run_label: str = "this run") -> alt.LayerChart:
    """Pearson r between every pair of audio features, r printed in each cell.

    data: feature_a, feature_b, r, position_a, position_b, in_run_a, in_run_b
    (see correlation_data). Features the run did not cluster on are marked "(dropped)".
    """
    return drawn(plan.correlations(data, run_label))


@drawing("pca_loadings")
def draw_pca_loadings(v, flags) -> alt.FacetChart:
    bars = (
        alt.Chart(alt.NamedData("loadings"))
        .mark_bar()
        .encode(
            y=alt.Y("feature:N", sort=v.order, title=None),
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
        .properties(width=v.panel_width, height=alt.Step(24))
    )
    chart = theme.facet_panels(bars, "panel:N", v.panels, v.columns).properties(title=v.title)
    return theme.finish(chart)


def pca_loadings_chart(data: theme.Data) -> alt.FacetChart:
    """What each principal component means: the weight of every feature on it.

    data: component, axis, feature, loading, explained_variance_ratio, position
    (see loadings_data). One panel per component.
    """
    return drawn(plan.loadings(data))
