"""The chart of `spotclust compare`: where the tracks of each cluster of one run went in another."""

from __future__ import annotations

import altair as alt
import polars as pl

from spotclust.charts import theme


def _full_grid(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str], list[str]]:
    """(every pair of clusters, empty ones as zeros, labelled; run_a's clusters; run_b's)."""
    if not frame.height:
        return frame, [], []
    grid = frame.select("cluster_a").unique().join(frame.select("cluster_b").unique(), how="cross")
    frame = grid.join(frame, on=["cluster_a", "cluster_b"], how="left").fill_null(0)
    frame = frame.with_columns(
        ("cluster " + pl.col("cluster_a").cast(pl.String)).alias("from"),
        ("cluster " + pl.col("cluster_b").cast(pl.String)).alias("to"),
    )
    rows = sorted(set(frame["from"].to_list()), key=theme.cluster_number)
    columns = sorted(set(frame["to"].to_list()), key=theme.cluster_number)
    return frame, rows, columns


def contingency_chart(data: theme.Data, run_a: int, run_b: int, note: str = "") -> alt.LayerChart:
    """Where the tracks of each cluster of run_a went in run_b: the contingency as a heatmap.

    data: cluster_a, cluster_b, tracks, share_of_a, share_of_b (see compare.compare), the
    non-empty cells. Colour: the share of run_a's cluster; text: the tracks. note: a subtitle
    line (e.g. the adjusted Rand and NMI).
    """
    frame, rows, columns = _full_grid(theme.as_frame(data))
    cell = max(36, min(70, 640 // max(len(rows), len(columns), 1)))
    tooltip = [
        alt.Tooltip("from:N", title=f"cluster in run {run_a}"),
        alt.Tooltip("to:N", title=f"cluster in run {run_b}"),
        alt.Tooltip("tracks:Q", title="tracks", format=","),
        alt.Tooltip("share_of_a:Q", title=f"share of the run {run_a} cluster", format=".1%"),
        alt.Tooltip("share_of_b:Q", title=f"share of the run {run_b} cluster", format=".1%"),
    ]
    base = alt.Chart(frame).encode(
        x=alt.X(
            "to:N",
            sort=columns,
            title=f"cluster in run {run_b}",
            axis=alt.Axis(orient="top", labelAngle=0),
        ),
        y=alt.Y("from:N", sort=rows, title=f"cluster in run {run_a}"),
        tooltip=tooltip,
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "share_of_a:Q",
            scale=alt.Scale(domain=[0, 1], range=["#f7fbff", "#08306b"]),
            legend=alt.Legend(title=[f"share of the run {run_a}", "cluster"], format=".0%"),
        )
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("tracks:Q", format=","),
        color=alt.condition("datum.share_of_a > 0.55", alt.value("white"), alt.value("#222")),
    )
    subtitle = [
        f"Each row is a cluster of run {run_a}: how its tracks (common to both runs) spread "
        f"over the clusters of run {run_b}. Numbers: tracks; colour: share of the row.",
    ]
    return theme.finish(
        alt.layer(cells, text).properties(
            width=cell * max(len(columns), 1),
            height=cell * max(len(rows), 1),
            title=theme.title(
                f"Run {run_a} → run {run_b}: where the tracks went",
                [*subtitle, *([note] if note else [])],
            ),
        )
    )
