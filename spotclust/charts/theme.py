"""What every chart shares, on the Altair side: the cluster colour channel, the diverging
scale, titles, facets and the finishing (fonts and spacing). The values themselves (sizes,
labels, palette) are in common.py, which pages use without Altair."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt

from spotclust.charts import common
from spotclust.charts.common import (  # noqa: F401  (the names charts and tests use)
    ABOVE,
    BELOW,
    DIVERGING,
    FONT,
    OTHER,
    PALETTE,
    WIDTH,
    Data,
    as_frame,
    cluster_colour,
    cluster_colours,
    cluster_domain,
    cluster_label,
    cluster_number,
)


def cluster_color(
    clusters: Sequence[str], title: str = "cluster", legend: bool | None = True, symbol="square"
) -> alt.Color:
    """The same colour for the same cluster in every chart of a run (domain = all clusters);
    symbol: the legend's symbol, matching the marks (squares for bars, rects and bins)."""
    return colour_by_cluster(list(clusters), cluster_colours(clusters), title, legend, symbol)


def colour_by_cluster(
    domain, colours, title: str = "cluster", legend: bool | None = True, symbol="square"
) -> alt.Color:
    """cluster_color with its domain (every cluster's label) and range (their colours) given:
    a drawing's values (plans: common.cluster_colours)."""
    return alt.Color(
        "cluster:N",
        scale=alt.Scale(domain=domain, range=colours),
        legend=alt.Legend(title=title, orient="right", symbolType=symbol) if legend else None,
    )


def diverging_scale(limit: float, clamp: bool = True) -> alt.Scale:
    """The diverging scale of every page, symmetric about 0 over [-limit, limit]."""
    return alt.Scale(**DIVERGING, domain=[-limit, limit], clamp=clamp)


def title(text: str, subtitle: str | Sequence[str] = ()) -> alt.TitleParams:
    return alt.TitleParams(**common.title(text, subtitle))


def finish(chart):
    """Fonts and spacing that read well in a 1280 px browser window."""
    return (
        chart.configure(font=FONT)
        .configure_title(fontSize=18, subtitleFontSize=13, subtitleColor="#555")
        .configure_axis(labelFontSize=12, titleFontSize=13, titlePadding=10, labelLimit=220)
        .configure_legend(labelFontSize=12, titleFontSize=13, labelLimit=260)
        .configure_header(labelFontSize=13, titleFontSize=13)
        .configure_view(stroke=None)
    )


def facet_panels(chart: alt.Chart, field: str, order, columns):
    """One panel per value of field, in order, under a bold header."""
    return chart.facet(
        facet=alt.Facet(
            field,
            sort=order,
            title=None,
            header=alt.Header(labelFontSize=14, labelFontWeight="bold"),
        ),
        columns=columns,
    )
