"""What every chart shares: sizes, the cluster labels and colours, titles and the finishing
(fonts and spacing), so that a cluster looks the same on every page of a run."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

WIDTH = 900  # plot width of single charts: with axis labels and a legend, fits 1280 px
FONT = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"

Data = pl.DataFrame | Sequence[dict]


def as_frame(data: Data) -> pl.DataFrame:
    """Chart functions take a polars frame or a list of dicts (rows)."""
    return data if isinstance(data, pl.DataFrame) else pl.DataFrame(list(data))


def cluster_label(cluster: int) -> str:
    """The label every chart uses for a cluster: 'cluster 0' is the largest."""
    return f"cluster {cluster}"


def cluster_number(label: str) -> int:
    return int(str(label).rsplit(" ", 1)[-1])


def cluster_domain(data: Data, field: str = "cluster") -> list[str]:
    """The cluster labels found in data, in cluster order (0, 1, ..., 10, not 0, 1, 10, 2)."""
    frame = as_frame(data)
    if frame.height == 0 or field not in frame.columns:
        return []
    return sorted(set(frame[field].to_list()), key=cluster_number)


def cluster_color(
    clusters: Sequence[str], title: str = "cluster", legend: bool | None = True
) -> alt.Color:
    """The same colour for the same cluster in every chart of a run (domain = all clusters)."""
    scheme = "tableau10" if len(clusters) <= 10 else "tableau20"
    return alt.Color(
        "cluster:N",
        scale=alt.Scale(domain=list(clusters), scheme=scheme),
        legend=alt.Legend(title=title, orient="right") if legend else None,
    )


def title(text: str, subtitle: str | Sequence[str] = ()) -> alt.TitleParams:
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    return alt.TitleParams(text=text, subtitle=lines, anchor="start", offset=12)


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


def facet_panels(chart: alt.Chart, field: str, order: Sequence[str], columns: int):
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
