"""The chart of `spotclust compare`: where the tracks of each cluster of one run went in another."""

from __future__ import annotations

import altair as alt
import polars as pl

from spotclust.charts import theme


def _label(column: str, names: dict[int, str] | None) -> pl.Expr:
    """The clusters' chart labels: '2 · energetic, loud (metal)', else 'cluster 2'."""
    return pl.col(column).map_elements(
        lambda c: (names or {}).get(c) or theme.cluster_label(c), return_dtype=pl.String
    )


def _full_grid(
    frame: pl.DataFrame, names_a: dict | None = None, names_b: dict | None = None
) -> tuple[pl.DataFrame, list[str], list[str]]:
    """(every pair of clusters, empty ones as zeros, labelled; run_a's clusters; run_b's,
    ordered along the diagonal: each by the row that sends it most tracks)."""
    if not frame.height:
        return frame, [], []
    grid = frame.select("cluster_a").unique().join(frame.select("cluster_b").unique(), how="cross")
    frame = grid.join(frame, on=["cluster_a", "cluster_b"], how="left").fill_null(0)
    frame = frame.with_columns(
        _label("cluster_a", names_a).alias("from"), _label("cluster_b", names_b).alias("to")
    )
    rows = sorted(set(frame["from"].to_list()), key=theme.cluster_number)
    # each column goes under the row holding most of it, so the big cells form a diagonal
    best = frame.sort(["share_of_b", "tracks"], descending=True).unique("to", keep="first")
    place = {r: rows.index(r) for r in rows}
    columns = sorted(
        best.iter_rows(named=True),
        key=lambda c: (place[c["from"]], -c["share_of_b"], theme.cluster_number(c["to"])),
    )
    return frame, rows, [c["to"] for c in columns]


def contingency_chart(
    data: theme.Data,
    run_a: int,
    run_b: int,
    note: str = "",
    names_a: dict[int, str] | None = None,
    names_b: dict[int, str] | None = None,
) -> alt.LayerChart:
    """Where the tracks of each cluster of run_a went in run_b: the contingency as a heatmap.

    data: cluster_a, cluster_b, tracks, share_of_a, share_of_b (see compare.compare), the
    non-empty cells. Colour: the share of run_a's cluster; text: the tracks. note: a subtitle
    line (e.g. the adjusted Rand and NMI). names_a, names_b: {cluster: label} of each run
    (charts.data.cluster_names), else 'cluster N'. Columns are ordered along the diagonal.
    """
    frame, rows, columns = _full_grid(theme.as_frame(data), names_a, names_b)
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
