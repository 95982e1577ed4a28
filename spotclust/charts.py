"""Charts of a clustering run: self-contained HTML pages (or PNG/SVG) and an index page.

Three layers, kept apart:

* query functions (``*_data``) aggregate in DuckDB and return small polars frames: a few
  thousand rows at most, whatever the size of the data (the PCA map is binned in SQL);
* chart functions take those frames (or lists of dicts) and return Altair charts, with no
  database access;
* ``save_all`` opens the warehouse read-only, runs each entry of ``CHARTS`` and writes one
  page per chart plus ``index.html``. Every page inlines the Vega, Vega-Lite and vega-embed
  scripts (one bundle from vl-convert), so it renders from ``file://`` with no network.

    from spotclust.charts import save_all
    index = save_all(db="warehouse/spotclust.duckdb", run_id=None, out_dir="charts")
"""

from __future__ import annotations

import functools
import html
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import altair as alt
import duckdb
import polars as pl

from spotclust import warehouse
from spotclust.errors import ConfigError, WarehouseError

FORMATS = ("html", "png", "svg")
PCA_BINS = 60  # the PCA map's grid: PCA_BINS x PCA_BINS bins over the tracks' extent
TOP_GENRES = 20  # genres per cluster in the top-genres chart, as in the original analysis
WIDTH = 900  # plot width of single charts: with axis labels and a legend, fits 1280 px

Data = pl.DataFrame | Sequence[dict]


# --------------------------------------------------------------------------- shared styling


def _frame(data: Data) -> pl.DataFrame:
    return data if isinstance(data, pl.DataFrame) else pl.DataFrame(list(data))


def cluster_label(cluster: int) -> str:
    """The label every chart uses for a cluster: 'cluster 0' is the largest."""
    return f"cluster {cluster}"


def _cluster_number(label: str) -> int:
    return int(str(label).rsplit(" ", 1)[-1])


def cluster_domain(data: Data, field: str = "cluster") -> list[str]:
    """The cluster labels found in data, in cluster order (0, 1, ..., 10, not 0, 1, 10, 2)."""
    frame = _frame(data)
    if frame.height == 0 or field not in frame.columns:
        return []
    return sorted(set(frame[field].to_list()), key=_cluster_number)


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


def _title(text: str, subtitle: str | Sequence[str] = ()) -> alt.TitleParams:
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    return alt.TitleParams(text=text, subtitle=lines, anchor="start", offset=12)


def _finish(chart):
    """Fonts and spacing that read well in a 1280 px browser window."""
    return (
        chart.configure(font="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif")
        .configure_title(fontSize=18, subtitleFontSize=13, subtitleColor="#555")
        .configure_axis(labelFontSize=12, titleFontSize=13, titlePadding=10, labelLimit=220)
        .configure_legend(labelFontSize=12, titleFontSize=13, labelLimit=260)
        .configure_header(labelFontSize=13, titleFontSize=13)
        .configure_view(stroke=None)
    )


# --------------------------------------------------------------------------- chart functions


def correlation_heatmap(data: Data, run_label: str = "this run") -> alt.LayerChart:
    """Pearson r between every pair of audio features, r printed in each cell.

    data: feature_a, feature_b, r, position_a, position_b, in_run_a, in_run_b
    (see correlation_data). Features the run did not cluster on are marked "(dropped)".
    """
    frame = _frame(data)

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
    cell = 640 // max(len(order), 1)
    red_if_dropped = alt.expr("indexof(datum.label, '(dropped)') >= 0 ? '#b30000' : '#222'")
    base = alt.Chart(frame).encode(
        x=alt.X(
            "column:N",
            sort=order,
            title="feature",
            axis=alt.Axis(labelAngle=-40, labelColor=red_if_dropped),
        ),
        y=alt.Y(
            "row:N",
            sort=order,
            title="feature",
            axis=alt.Axis(labelColor=red_if_dropped),
        ),
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
            scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True),
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
    dropped_text = ", ".join(dropped.to_list()) or "none"
    return _finish(
        alt.layer(cells, text).properties(
            width=cell * len(order),
            height=cell * len(order),
            title=_title(
                "Correlation between audio features",
                [
                    "Pearson r over all clean tracks; red labels: features dropped "
                    f"(not clustered on in {run_label}): {dropped_text}.",
                    "Hover a cell for the reason a feature was kept or dropped.",
                ],
            ),
        )
    )


def pca_map(
    bins: Data,
    centroids: Data,
    clusters: Sequence[str] | None = None,
    explained: Sequence[float] | None = None,
    grid: int = PCA_BINS,
) -> alt.LayerChart:
    """Tracks on the first two principal components, as density bins coloured by cluster.

    bins: x0, x1, y0, y1, tracks, cluster (the bin's most common cluster), cluster_share, mix
    (see pca_map_data); centroids: cluster, pc1, pc2, tracks. explained: variance ratio of
    PC1 and PC2, for the axis titles.
    """
    bins, centroids = _frame(bins), _frame(centroids)
    clusters = list(clusters) if clusters is not None else cluster_domain(centroids)
    total = int(bins["tracks"].sum()) if bins.height else 0
    axis = [
        f"PC{i + 1} (standardised units"
        + (f"; {explained[i]:.1%} of variance)" if explained and len(explained) > i else ")")
        for i in range(2)
    ]
    colour = cluster_color(clusters, title="cluster")
    rects = (
        alt.Chart(bins)
        .mark_rect()
        .encode(
            x=alt.X("x0:Q", title=axis[0], scale=alt.Scale(zero=False, nice=False)),
            x2="x1:Q",
            y=alt.Y("y0:Q", title=axis[1], scale=alt.Scale(zero=False, nice=False)),
            y2="y1:Q",
            color=colour,
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
    return _finish(
        alt.layer(rects, marks, halo, label).properties(
            width=WIDTH,
            height=600,
            title=_title(
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


def _message_chart(lines: list[str], height: int, title) -> alt.Chart:
    """A page that says what to run instead of an empty chart (one text line per row)."""
    message = alt.Chart(pl.DataFrame({"line": lines, "n": list(range(len(lines)))}))
    return _finish(
        message.mark_text(align="left", fontSize=20)
        .encode(
            x=alt.value(20),
            y=alt.Y("n:O", axis=None),
            text="line:N",
            tooltip=[alt.Tooltip("line:N", title="to do")],
        )
        .properties(width=WIDTH, height=height, title=title)
    )


def elbow_chart(data: Data, run_k: int | None = None) -> alt.HConcatChart | alt.Chart:
    """Inertia and silhouette against k from a sweep, knee and best silhouette marked.

    data: k, inertia, silhouette, calinski_harabasz, davies_bouldin, is_knee,
    is_best_silhouette, sweep_id, rows_used (see elbow_data). With no rows, a page that says
    how to make a sweep.
    """
    frame = _frame(data)
    if frame.height == 0:
        return _message_chart(
            [
                "No sweep yet.",
                "Run `spotclust sweep --k 2..12`,",
                "then `spotclust charts`, to draw the elbow",
                "and silhouette curves.",
            ],
            height=200,
            title=_title(
                "Elbow and silhouette against k",
                "There is no sweep in this warehouse: run `spotclust sweep` to make one.",
            ),
        )
    frame = frame.with_columns(
        pl.when(pl.col("is_knee") & pl.col("is_best_silhouette"))
        .then(pl.lit("knee of inertia, best silhouette"))
        .when(pl.col("is_knee"))
        .then(pl.lit("knee of inertia"))
        .when(pl.col("is_best_silhouette"))
        .then(pl.lit("best silhouette"))
        .otherwise(pl.lit("-"))
        .alias("marks"),
    )
    tooltip = [
        alt.Tooltip("k:O", title="k"),
        alt.Tooltip("inertia:Q", title="inertia", format=",.0f"),
        alt.Tooltip("silhouette:Q", title="silhouette", format=".4f"),
        alt.Tooltip("calinski_harabasz:Q", title="Calinski-Harabasz", format=",.0f"),
        alt.Tooltip("davies_bouldin:Q", title="Davies-Bouldin", format=".3f"),
        alt.Tooltip("marks:N", title="marked as"),
    ]
    ks = frame["k"].to_list()
    x = alt.X(
        "k:Q",
        title="k (number of clusters)",
        scale=alt.Scale(domain=[min(ks), max(ks)]),
        axis=alt.Axis(values=ks, format="d"),
    )
    series = alt.Color(
        "series:N",
        scale=alt.Scale(
            domain=["inertia", "silhouette", "k of this run"],
            range=["#4c78a8", "#e45756", "#888"],
        ),
        legend=alt.Legend(title=None, orient="top"),
    )

    def panel(field: str, title: str, series_name: str, flag: str, fmt: str):
        base = alt.Chart(frame).transform_calculate(series=f"'{series_name}'")
        line = base.mark_line(point=alt.OverlayMarkDef(size=70, filled=True)).encode(
            x=x,
            y=alt.Y(
                f"{field}:Q", title=title, scale=alt.Scale(zero=False), axis=alt.Axis(format=fmt)
            ),
            color=series,
            tooltip=tooltip,
        )
        highlight = (
            base.transform_filter(f"datum.{flag}")
            .mark_point(size=260, shape="circle", filled=False, strokeWidth=2.5, color="black")
            .encode(x=x, y=f"{field}:Q", tooltip=tooltip)
        )
        note = (
            base.transform_filter(f"datum.{flag}")
            .transform_calculate(what=f"'{flag_names[flag]} (k = ' + datum.k + ')'")
            .mark_text(align="left", dx=10, dy=-14, fontSize=12, fontWeight="bold")
            .encode(x=x, y=f"{field}:Q", text="what:N")
        )
        layers = [line, highlight, note]
        if run_k is not None and min(ks) <= run_k <= max(ks):
            rule = (
                alt.Chart(pl.DataFrame({"k": [run_k], "series": ["k of this run"]}))
                .mark_rule(strokeDash=[5, 4], strokeWidth=1.5)
                .encode(x=x, color=series, tooltip=[alt.Tooltip("k:Q", title="k of this run")])
            )
            layers.insert(0, rule)
        return alt.layer(*layers).properties(
            width=430,
            height=360,
            title=alt.TitleParams(title_of[field], fontSize=14, anchor="start"),
        )

    flag_names = {"is_knee": "knee", "is_best_silhouette": "best silhouette"}
    title_of = {
        "inertia": "Elbow: inertia (within-cluster sum of squares) by k",
        "silhouette": "Silhouette by k (higher is better)",
    }
    sweep_id = frame["sweep_id"][0] if "sweep_id" in frame.columns else "?"
    rows = frame["rows_used"][0] if "rows_used" in frame.columns else None
    methods = (
        ", ".join(sorted(set(frame["silhouette_method"].to_list())))
        if "silhouette_method" in frame.columns
        else "?"
    )
    chart = alt.hconcat(
        panel("inertia", "inertia (squared standardised units)", "inertia", "is_knee", "~s"),
        panel("silhouette", "silhouette (-1 to 1)", "silhouette", "is_best_silhouette", ".3f"),
        spacing=40,
    ).properties(
        title=_title(
            "Choosing k: elbow and silhouette",
            [
                f"Sweep {sweep_id}"
                + (f" over {rows:,} rows" if rows else "")
                + f" (silhouette {methods}). Circled: the knee of the inertia curve and the "
                "k with the best silhouette; dashed: the k of this run.",
            ],
        )
    )
    return _finish(chart)


def cluster_profiles_chart(data: Data, clusters: Sequence[str] | None = None) -> alt.HConcatChart:
    """Each cluster's mean of each feature, in standard deviations from the mean of all tracks.

    data: cluster, feature, label, in_model, position, z, mean, std, median, overall_mean,
    overall_std (see profiles_data). A clusters x features heatmap with z printed in each
    cell and the raw means in the tooltips; a strip of cluster colours at the left.
    """
    frame = _frame(data)
    clusters = list(clusters) if clusters is not None else cluster_domain(frame)
    order = (
        frame.select("label", "in_model", "position")
        .unique()
        .sort(["in_model", "position"], descending=[True, False])["label"]
        .to_list()
        if frame.height
        else []
    )
    frame = frame.with_columns(
        pl.when(pl.col("in_model")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("clustered")
    )
    tooltip = [
        alt.Tooltip("cluster:N"),
        alt.Tooltip("feature:N"),
        alt.Tooltip("z:Q", title="mean, in std devs from all tracks", format="+.2f"),
        alt.Tooltip("mean:Q", title="cluster mean (raw units)", format=",.3f"),
        alt.Tooltip("median:Q", title="cluster median (raw units)", format=",.3f"),
        alt.Tooltip("std:Q", title="cluster std dev (raw units)", format=",.3f"),
        alt.Tooltip("overall_mean:Q", title="mean of all tracks (raw units)", format=",.3f"),
        alt.Tooltip("overall_std:Q", title="std dev of all tracks (raw units)", format=",.3f"),
        alt.Tooltip("clustered:N", title="clustered on"),
    ]
    row = max(30, min(44, 360 // max(len(clusters), 1)))
    cell = (WIDTH - 140) // max(len(order), 1)
    y = alt.Y("cluster:N", sort=clusters, title=None)
    strip = (
        alt.Chart(pl.DataFrame({"cluster": clusters}))
        .mark_rect()
        # the strip is the cluster legend: the same colours as in every other chart
        .encode(y=y, color=cluster_color(clusters, legend=None), tooltip=[alt.Tooltip("cluster:N")])
        .properties(width=14, height=alt.Step(row))
    )
    base = alt.Chart(frame).encode(
        x=alt.X(
            "label:N",
            sort=order,
            title="feature (grey: not clustered on)",
            axis=alt.Axis(
                orient="top",
                labelAngle=-35,
                labelColor=alt.expr(
                    "indexof(datum.label, '(not clustered)') >= 0 ? '#777' : '#222'"
                ),
            ),
        ),
        y=alt.Y("cluster:N", sort=clusters, title=None, axis=None),
        tooltip=tooltip,
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "z:Q",
            scale=alt.Scale(scheme="redblue", reverse=True, domain=[-2, 2], clamp=True),
            legend=alt.Legend(
                title=["cluster mean − mean of", "all tracks (std devs)"], gradientLength=240
            ),
        )
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("z:Q", format="+.2f"),
        color=alt.condition("abs(datum.z) > 1.2", alt.value("white"), alt.value("#222")),
    )
    heat = alt.layer(cells, text).properties(width=cell * max(len(order), 1), height=alt.Step(row))
    return _finish(
        alt.hconcat(strip, heat, spacing=2)
        .resolve_scale(color="independent")
        .properties(
            title=_title(
                "Cluster profiles: what sets each cluster apart",
                [
                    "Each cell: the cluster's mean of a feature, standardised (0 = the mean of all "
                    "tracks the run used; ±1 = one standard deviation).",
                    "Red: above average; blue: below. Hover a cell for the raw means.",
                ],
            )
        )
    )


def cluster_sizes_chart(data: Data, clusters: Sequence[str] | None = None) -> alt.LayerChart:
    """Tracks per cluster, with the share printed at the end of each bar.

    data: cluster, tracks, share, top_genres, distinctive_features (see sizes_data).
    """
    frame = _frame(data)
    clusters = list(clusters) if clusters is not None else cluster_domain(frame)
    frame = frame.with_columns(
        pl.struct("tracks", "share")
        .map_elements(lambda s: f"{s['tracks']:,} ({s['share']:.1%})", return_dtype=pl.String)
        .alias("text")
    )
    total = int(frame["tracks"].sum()) if frame.height else 0
    largest = int(frame["tracks"].max()) if frame.height else 1
    tooltip = [
        alt.Tooltip("cluster:N"),
        alt.Tooltip("tracks:Q", title="tracks", format=","),
        alt.Tooltip("share:Q", title="share of all tracks", format=".1%"),
        alt.Tooltip("top_genres:N", title="top genres"),
        alt.Tooltip("distinctive_features:N", title="distinctive features (z)"),
    ]
    base = alt.Chart(frame).encode(
        y=alt.Y("cluster:N", sort=clusters, title=None),
        # room at the right for the text after the largest bar
        x=alt.X(
            "tracks:Q",
            title="tracks",
            axis=alt.Axis(format=",d"),
            scale=alt.Scale(domain=[0, largest * 1.2], nice=False),
        ),
        tooltip=tooltip,
    )
    bars = base.mark_bar().encode(color=cluster_color(clusters))
    text = base.mark_text(align="left", dx=6, fontSize=13).encode(text="text:N")
    return _finish(
        alt.layer(bars, text).properties(
            width=WIDTH - 150,
            height=alt.Step(44),
            title=_title(
                "Cluster sizes",
                f"Tracks in each cluster, of {total:,}; clusters are numbered by size.",
            ),
        )
    )


def top_genres_chart(
    data: Data, clusters: Sequence[str] | None = None, top: int = TOP_GENRES, columns: int = 4
) -> alt.FacetChart:
    """The top genres of each cluster: one panel of bars per cluster.

    data: cluster, genre, tracks, share_of_cluster, share_of_genre, rank_in_cluster
    (see top_genres_data). Bars: the genre's share of the cluster's genre listings.
    """
    frame = _frame(data)
    clusters = list(clusters) if clusters is not None else cluster_domain(frame)
    frame = frame.filter(pl.col("rank_in_cluster") <= top) if frame.height else frame
    n_columns = max(1, min(columns, len(clusters)))
    panel_width = max(120, 1080 // n_columns - 140)
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(
                "genre:N",
                sort=alt.EncodingSortField("rank_in_cluster", op="min"),
                title=None,
                axis=alt.Axis(labelFontSize=11),
            ),
            x=alt.X(
                "share_of_cluster:Q",
                title="share of cluster (%)",
                axis=alt.Axis(format=".0%", tickCount=2),
            ),
            color=cluster_color(clusters),
            tooltip=[
                alt.Tooltip("cluster:N"),
                alt.Tooltip("genre:N"),
                alt.Tooltip("rank_in_cluster:Q", title="rank in cluster"),
                alt.Tooltip("tracks:Q", title="tracks", format=","),
                alt.Tooltip("share_of_cluster:Q", title="share of the cluster", format=".1%"),
                alt.Tooltip("share_of_genre:Q", title="share of the genre", format=".1%"),
            ],
        )
        .properties(width=panel_width, height=alt.Step(17))
        .facet(
            facet=alt.Facet(
                "cluster:N",
                sort=clusters,
                title=None,
                header=alt.Header(labelFontSize=14, labelFontWeight="bold"),
            ),
            columns=n_columns,
        )
        .resolve_scale(y="independent", x="independent")
        .properties(
            title=_title(
                f"Top {top} genres in each cluster",
                [
                    "Share of the cluster's genre listings (a track listed under two genres counts "
                    "for both); each panel has its own scale.",
                    "Hover a bar for the tracks and the share of the genre that falls in the "
                    "cluster.",
                ],
            )
        )
    )
    return _finish(chart)


def genre_cluster_heatmap(data: Data, clusters: Sequence[str] | None = None) -> alt.LayerChart:
    """Where each genre's tracks went: share of the genre in each cluster, every genre.

    data: genre, cluster, tracks, share_of_genre, share_of_cluster, genre_order
    (see genre_heatmap_data). Genres are sorted by their main cluster, so blocks show.
    """
    frame = _frame(data)
    clusters = list(clusters) if clusters is not None else cluster_domain(frame)
    order = (
        frame.select("genre", "genre_order").unique().sort("genre_order")["genre"].to_list()
        if frame.height
        else []
    )
    cell_width = max(60, min(140, (WIDTH - 250) // max(len(clusters), 1)))
    base = alt.Chart(frame).encode(
        x=alt.X(
            "cluster:N",
            sort=clusters,
            title=None,
            axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=13),
        ),
        y=alt.Y("genre:N", sort=order, title=None, axis=alt.Axis(labelFontSize=11)),
        tooltip=[
            alt.Tooltip("genre:N"),
            alt.Tooltip("cluster:N"),
            alt.Tooltip("tracks:Q", title="tracks", format=","),
            alt.Tooltip("share_of_genre:Q", title="share of the genre", format=".1%"),
            alt.Tooltip("share_of_cluster:Q", title="share of the cluster", format=".2%"),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        color=alt.Color(
            "share_of_genre:Q",
            scale=alt.Scale(domain=[0, 0.5, 1], range=["#f7fbff", "#6baed6", "#08306b"]),
            legend=alt.Legend(title="share of genre", format=".0%", gradientLength=300),
        )
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("share_of_genre:Q", format=".0%"),
        color=alt.condition("datum.share_of_genre > 0.6", alt.value("white"), alt.value("#333")),
    )
    return _finish(
        alt.layer(cells, text).properties(
            width=cell_width * max(len(clusters), 1),
            height=alt.Step(14),
            title=_title(
                "Genres across clusters",
                [
                    f"Share of each genre's tracks that fall in each cluster ({len(order)} "
                    "genres; each row adds up to 100%).",
                    "Genres are grouped by the cluster that holds most of their tracks.",
                ],
            ),
        )
    )


POSITIVE = "+ higher feature, higher score"
NEGATIVE = "− higher feature, lower score"


def pca_loadings_chart(data: Data) -> alt.FacetChart:
    """What each principal component means: the weight of every feature on it.

    data: component, axis, feature, loading, explained_variance_ratio, position
    (see loadings_data). One panel per component.
    """
    frame = _frame(data)
    if frame.height:
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
    else:
        order, panels, meaning = [], [], []
    n_columns = max(1, min(3, len(panels)))
    chart = (
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
                scale=alt.Scale(domain=[POSITIVE, NEGATIVE], range=["#2166ac", "#d6604d"]),
                legend=alt.Legend(title="sign of the loading", orient="right"),
            ),
            tooltip=[
                alt.Tooltip("axis:N", title="component"),
                alt.Tooltip("feature:N"),
                alt.Tooltip("loading:Q", format="+.3f"),
                alt.Tooltip("explained_variance_ratio:Q", title="variance explained", format=".1%"),
            ],
        )
        .properties(width=min(380, 820 // n_columns - 130), height=alt.Step(24))
        .facet(
            facet=alt.Facet(
                "panel:N",
                sort=panels,
                title=None,
                header=alt.Header(labelFontSize=14, labelFontWeight="bold"),
            ),
            columns=n_columns,
        )
        .properties(
            title=_title(
                "PCA loadings: what each axis of the map means",
                ["Largest weights — " + "; ".join(meaning)] if meaning else [],
            )
        )
    )
    return _finish(chart)


# --------------------------------------------------------------------------- queries


def _frame_of(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> pl.DataFrame:
    frame = con.sql(sql, params=params or {}).pl()
    # sums of integers come back as DECIMAL(38, 0): make them plain numbers for JSON
    return frame.with_columns(
        pl.col(name).cast(pl.Int64 if dtype.scale == 0 else pl.Float64)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Decimal)
    )


def correlation_data(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """feature_correlations with each feature's position and whether the run clustered on it."""
    return _frame_of(
        con,
        """
        WITH run AS (
            SELECT features FROM runs WHERE run_id = $run_id
        ),
        candidates AS (
            SELECT c.feature, c.position, list_contains(run.features, c.feature) AS in_run
            FROM feature_candidates AS c, run
        )
        SELECT
            corr.feature_a, corr.feature_b, corr.r,
            a.position AS position_a, b.position AS position_b,
            a.in_run AS in_run_a, b.in_run AS in_run_b,
            sel.reason
        FROM feature_correlations AS corr
        JOIN candidates AS a ON a.feature = corr.feature_a
        JOIN candidates AS b ON b.feature = corr.feature_b
        LEFT JOIN feature_selection AS sel ON sel.feature = corr.feature_a
        ORDER BY position_a, position_b
        """,
        {"run_id": run_id},
    )


def pca_map_data(
    con: duckdb.DuckDBPyConnection, run_id: int, bins: int = PCA_BINS
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(bins, centroids): the run's tracks counted on a bins x bins grid over (pc1, pc2).

    One row per non-empty bin (at most bins²): its edges, tracks, most common cluster, that
    cluster's share and the count of every cluster in it. Centroids: mean pc1, pc2 per cluster.
    """
    grid = _frame_of(
        con,
        """
        WITH points AS (
            SELECT cluster, pc1, pc2 FROM assignments
            WHERE run_id = $run_id AND pc1 IS NOT NULL AND pc2 IS NOT NULL
        ),
        extent AS (
            SELECT
                min(pc1) AS x_min,
                min(pc2) AS y_min,
                greatest(max(pc1) - min(pc1), 1e-9) / $bins AS x_step,
                greatest(max(pc2) - min(pc2), 1e-9) / $bins AS y_step
            FROM points
        ),
        binned AS (
            SELECT
                least(floor((pc1 - x_min) / x_step), $bins - 1) AS bin_x,
                least(floor((pc2 - y_min) / y_step), $bins - 1) AS bin_y,
                cluster
            FROM points, extent
        ),
        per_cluster AS (
            SELECT bin_x, bin_y, cluster, count(*) AS tracks FROM binned GROUP BY ALL
        ),
        per_bin AS (
            SELECT
                bin_x,
                bin_y,
                sum(tracks)::BIGINT AS tracks,
                first(cluster ORDER BY tracks DESC, cluster) AS cluster,
                max(tracks) AS cluster_tracks,
                string_agg('cluster ' || cluster || ': ' || tracks, ', '
                           ORDER BY tracks DESC, cluster) AS mix
            FROM per_cluster
            GROUP BY ALL
        )
        SELECT
            round(x_min + bin_x * x_step, 4) AS x0,
            round(x_min + (bin_x + 1) * x_step, 4) AS x1,
            round(y_min + bin_y * y_step, 4) AS y0,
            round(y_min + (bin_y + 1) * y_step, 4) AS y1,
            tracks,
            'cluster ' || cluster AS cluster,
            round(cluster_tracks / tracks, 4) AS cluster_share,
            mix
        FROM per_bin, extent
        ORDER BY bin_x, bin_y
        """,
        {"run_id": run_id, "bins": bins},
    )
    centroids = _frame_of(
        con,
        """
        SELECT 'cluster ' || cluster AS cluster, avg(pc1) AS pc1, avg(pc2) AS pc2,
               count(*) AS tracks
        FROM assignments
        WHERE run_id = $run_id
        GROUP BY cluster
        ORDER BY cluster
        """,
        {"run_id": run_id},
    )
    return grid, centroids


def explained_variance(con: duckdb.DuckDBPyConnection, run_id: int) -> list[float]:
    """Share of variance of each fitted principal component, pc1 first."""
    rows = con.execute(
        """
        SELECT any_value(explained_variance_ratio) FROM pca_components
        WHERE run_id = $run_id GROUP BY component ORDER BY component
        """,
        {"run_id": run_id},
    ).fetchall()
    return [r[0] for r in rows]


def elbow_data(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every k of the latest sweep (empty when there is none)."""
    return _frame_of(
        con,
        """
        SELECT sweep_id, k, inertia, silhouette, silhouette_method, calinski_harabasz,
               davies_bouldin, is_knee, is_best_silhouette, rows_used
        FROM sweeps
        WHERE sweep_id = (SELECT max(sweep_id) FROM sweeps)
        ORDER BY k
        """,
    )


def profiles_data(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """Per cluster and feature: raw mean, and the mean standardised against all the run's rows.

    The overall mean and (population) standard deviation are pooled from the per-cluster
    counts, means and standard deviations of cluster_profiles, so for the features the run
    clustered on, z equals the 'scaled' centroid.
    """
    return _frame_of(
        con,
        """
        WITH profiles AS (
            SELECT * FROM cluster_profiles WHERE run_id = $run_id
        ),
        overall AS (
            SELECT feature, sum(count * mean) / sum(count) AS overall_mean, sum(count) AS n
            FROM profiles
            GROUP BY feature
        ),
        spread AS (
            SELECT
                p.feature,
                sqrt(sum((p.count - 1) * coalesce(p.std, 0) ^ 2
                         + p.count * (p.mean - o.overall_mean) ^ 2) / any_value(o.n))
                    AS overall_std
            FROM profiles AS p JOIN overall AS o USING (feature)
            GROUP BY p.feature
        )
        SELECT
            'cluster ' || p.cluster AS cluster,
            p.feature,
            p.feature || CASE WHEN p.in_model THEN '' ELSE ' (not clustered)' END AS label,
            p.in_model,
            coalesce(c.position, 99) AS position,
            (p.mean - o.overall_mean) / nullif(s.overall_std, 0) AS z,
            p.mean,
            p.std,
            p.p50 AS median,
            o.overall_mean,
            s.overall_std
        FROM profiles AS p
        JOIN overall AS o USING (feature)
        JOIN spread AS s USING (feature)
        LEFT JOIN feature_candidates AS c USING (feature)
        ORDER BY p.cluster, position
        """,
        {"run_id": run_id},
    )


def sizes_data(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """cluster_summary for the run: size, share, top genres, distinctive features."""
    return _frame_of(
        con,
        """
        SELECT
            'cluster ' || cluster AS cluster,
            size AS tracks,
            share,
            array_to_string(top_genres, ', ') AS top_genres,
            distinctive_features
        FROM cluster_summary
        WHERE run_id = $run_id
        ORDER BY cluster
        """,
        {"run_id": run_id},
    )


def top_genres_data(
    con: duckdb.DuckDBPyConnection, run_id: int, top: int = TOP_GENRES
) -> pl.DataFrame:
    """The top genres of each cluster from genre_breakdown."""
    return _frame_of(
        con,
        """
        SELECT 'cluster ' || cluster AS cluster, genre, tracks, share_of_cluster,
               share_of_genre, rank_in_cluster
        FROM genre_breakdown
        WHERE run_id = $run_id AND rank_in_cluster <= $top
        ORDER BY cluster, rank_in_cluster
        """,
        {"run_id": run_id, "top": top},
    )


def genre_heatmap_data(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """Every genre x cluster of the run (zeros included), genres ordered by main cluster."""
    return _frame_of(
        con,
        """
        WITH breakdown AS (
            SELECT * FROM genre_breakdown WHERE run_id = $run_id
        ),
        genres AS (
            SELECT
                genre,
                first(cluster ORDER BY share_of_genre DESC, cluster) AS main_cluster,
                max(share_of_genre) AS main_share
            FROM breakdown
            GROUP BY genre
        ),
        clusters AS (
            SELECT range AS cluster FROM range((SELECT k FROM runs WHERE run_id = $run_id))
        )
        SELECT
            g.genre,
            'cluster ' || c.cluster AS cluster,
            coalesce(b.tracks, 0) AS tracks,
            coalesce(b.share_of_genre, 0) AS share_of_genre,
            coalesce(b.share_of_cluster, 0) AS share_of_cluster,
            dense_rank() OVER (ORDER BY g.main_cluster, g.main_share DESC, g.genre)
                AS genre_order
        FROM genres AS g
        CROSS JOIN clusters AS c
        LEFT JOIN breakdown AS b ON b.genre = g.genre AND b.cluster = c.cluster
        ORDER BY genre_order, c.cluster
        """,
        {"run_id": run_id},
    )


def loadings_data(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """The run's PCA loadings: every fitted component (pc1 and pc2 are the map's axes)."""
    return _frame_of(
        con,
        """
        SELECT p.component, 'PC' || p.component AS axis, p.feature, p.loading,
               p.explained_variance_ratio, coalesce(c.position, 99) AS position
        FROM pca_components AS p
        LEFT JOIN feature_candidates AS c USING (feature)
        WHERE p.run_id = $run_id
        ORDER BY p.component, position
        """,
        {"run_id": run_id},
    )


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class ChartEntry:
    """One chart of a run: its page name, title, one-line caption and how to build it."""

    name: str  # the page is <name>.html (or .png / .svg)
    title: str
    caption: str
    build: Callable[[duckdb.DuckDBPyConnection, dict], Any]  # (con, run row) -> Altair chart


def _clusters(run: dict) -> list[str]:
    return [cluster_label(c) for c in range(run["k"])]


CHARTS: tuple[ChartEntry, ...] = (
    ChartEntry(
        "correlations",
        "Feature correlations",
        "Pearson r between every pair of audio features; the features the run dropped are marked.",
        lambda con, run: correlation_heatmap(
            correlation_data(con, run["run_id"]), f"run {run['run_id']}"
        ),
    ),
    ChartEntry(
        "pca_map",
        "PCA map",
        "Every track on the first two principal components, binned, coloured by cluster, "
        "with the centroids.",
        lambda con, run: pca_map(
            *pca_map_data(con, run["run_id"]),
            clusters=_clusters(run),
            explained=explained_variance(con, run["run_id"]),
        ),
    ),
    ChartEntry(
        "elbow",
        "Elbow and silhouette",
        "Inertia and silhouette against k from the latest sweep, to choose k.",
        lambda con, run: elbow_chart(elbow_data(con), run_k=run["k"]),
    ),
    ChartEntry(
        "profiles",
        "Cluster profiles",
        "Each cluster's mean of every feature on a standardised scale; raw means on hover.",
        lambda con, run: cluster_profiles_chart(
            profiles_data(con, run["run_id"]), clusters=_clusters(run)
        ),
    ),
    ChartEntry(
        "sizes",
        "Cluster sizes",
        "Tracks in each cluster and their share of all tracks.",
        lambda con, run: cluster_sizes_chart(
            sizes_data(con, run["run_id"]), clusters=_clusters(run)
        ),
    ),
    ChartEntry(
        "top_genres",
        "Top genres per cluster",
        f"The {TOP_GENRES} most common genres of each cluster, as shares of the cluster.",
        lambda con, run: top_genres_chart(
            top_genres_data(con, run["run_id"]), clusters=_clusters(run)
        ),
    ),
    ChartEntry(
        "genre_heatmap",
        "Genres x clusters",
        "For every genre, the share of its tracks in each cluster.",
        lambda con, run: genre_cluster_heatmap(
            genre_heatmap_data(con, run["run_id"]), clusters=_clusters(run)
        ),
    ),
    ChartEntry(
        "pca_loadings",
        "PCA loadings",
        "The weight of each feature on each principal component: what the map's axes mean.",
        lambda con, run: pca_loadings_chart(loadings_data(con, run["run_id"])),
    ),
    ChartEntry(
        "stability",
        "Stability and gap statistic",
        "How reproducible the clusters are between resamples, and the gap statistic, against k "
        "(latest sweep).",
        lambda con, run: stability_chart(stability_data(con), run_k=run["k"]),
    ),
)


# --------------------------------------------------------------------------- runs


def find_run(con: duckdb.DuckDBPyConnection, run_id: int | None = None) -> dict:
    """The runs row of run_id, or of the latest run when run_id is None."""
    try:
        if run_id is None:
            result = con.execute("SELECT * FROM latest_run")
        else:
            result = con.execute("SELECT * FROM runs WHERE run_id = $run_id", {"run_id": run_id})
        rows = result.fetchall()
    except duckdb.CatalogException as exc:
        raise WarehouseError(
            "this warehouse has no clustering runs yet: run `spotclust cluster` first"
        ) from exc
    if not rows:
        if run_id is None:
            raise WarehouseError(
                "this warehouse has no clustering runs yet: run `spotclust cluster` first"
            )
        raise ConfigError(f'no run {run_id}: see `spotclust sql "SELECT run_id FROM runs"`')
    columns = [d[0] for d in result.description]
    run = dict(zip(columns, rows[0], strict=True))
    run["clusters"] = con.execute(
        "SELECT cluster, size, share, label FROM cluster_summary WHERE run_id = $run_id "
        "ORDER BY cluster",
        {"run_id": run["run_id"]},
    ).fetchall()
    return run


def build_charts(
    db: str | Path | None = None, run_id: int | None = None
) -> tuple[dict, list[tuple[ChartEntry, Any]]]:
    """(run row, [(entry, chart), ...]) for every entry of CHARTS; the warehouse read-only."""
    con = warehouse.connect(db, read_only=True)
    try:
        run = find_run(con, run_id)
        warehouse.check_run_data(con, run["run_id"], then="draw the charts")
        return run, [(entry, entry.build(con, run)) for entry in CHARTS]
    finally:
        con.close()


# --------------------------------------------------------------------------- pages


@functools.cache
def _vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script.

    vl-convert takes seconds to build it, so it is kept on disk per library version
    (in $XDG_CACHE_HOME/spotclust, or ~/.cache/spotclust) and read back in milliseconds.
    """
    import vl_convert

    vl_version = "_".join(alt.SCHEMA_VERSION.split(".")[:2])  # 'v6.4.1' -> 'v6_4'
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spotclust"
    cached = cache_dir / f"vega-bundle-{vl_version}-vlconvert-{vl_convert.__version__}.js"
    try:
        return cached.read_text()
    except OSError:
        pass
    bundle = vl_convert.javascript_bundle(vl_version=vl_version).replace("</script", "<\\/script")
    try:  # best effort: an unwritable cache only costs the next run its seconds
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(bundle)
        partial.replace(cached)  # atomic: a concurrent reader never sees half a file
    except OSError:
        pass
    return bundle


def _script_json(value) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


_STYLE = """
  body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
         margin: 20px 32px; color: #222; max-width: 1200px; }
  nav { font-size: 14px; margin-bottom: 4px; }
  a { color: #1f5fa8; }
  .caption { color: #555; font-size: 14px; margin: 4px 0 14px; }
  #vis.vega-embed { display: block; }
  .error { color: #b30000; font-weight: bold; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — spotclust run {run_id}</title>
<style>{style}</style>
<script>
// Vega, Vega-Lite and vega-embed, inlined (vl-convert bundle): no network needed.
{bundle}
</script>
</head>
<body>
<nav><a href="index.html">← all charts of run {run_id}</a></nav>
<p class="caption">{caption}</p>
<div id="vis"></div>
<script>
const spec = {spec};
vegaEmbed("#vis", spec, {options})
  .then(() => {{ document.body.dataset.rendered = "true"; }})
  .catch((err) => {{
    console.error(err);
    const vis = document.getElementById("vis");
    vis.className = "error";
    vis.textContent = "This chart could not be drawn: " + err;
  }});
</script>
</body>
</html>
"""

EMBED_OPTIONS = {
    "renderer": "svg",  # marks end up in the DOM: accessible, and checkable by the browser test
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}


def chart_page(chart, title: str, caption: str, run_id: int) -> str:
    """A complete, self-contained HTML page for one chart."""
    return _PAGE.format(
        title=html.escape(title),
        caption=html.escape(caption),
        run_id=run_id,
        style=_STYLE,
        bundle=_vega_bundle(),
        # The unit tests validate every chart's spec; skipping it here saves a second a run.
        spec=_script_json(chart.to_dict(validate=False)),
        options=_script_json(EMBED_OPTIONS),
    )


def _format_value(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _run_facts(run: dict) -> list[tuple[str, str]]:
    silhouette = _format_value(run.get("silhouette"))
    if run.get("silhouette_method") == "sampled":
        silhouette += (
            f" (sampled from {_format_value(run.get('silhouette_sample_size'))} rows, 95% CI "
            f"{_format_value(run.get('silhouette_ci_low'))}.."
            f"{_format_value(run.get('silhouette_ci_high'))})"
        )
    else:
        silhouette += f" ({run.get('silhouette_method')})"
    pca = run.get("pca_components")
    explained = run.get("explained_variance")
    features = run.get("features") or []
    return [
        ("run", f"{run['run_id']}"),
        ("date", _format_value(run.get("created_at"))),
        ("k", _format_value(run.get("k"))),
        ("features", f"{len(features)}: {', '.join(features)}"),
        ("rows", f"{_format_value(run.get('rows_used'))} ({run.get('row_rule')})"),
        (
            "model",
            f"{run.get('algorithm')}, "
            + (f"on {pca} PCA components" if pca else "on the scaled features (no PCA)")
            + (f" keeping {explained:.1%} of the variance" if explained else "")
            + f", seed {run.get('seed')}, n_init {run.get('n_init')}",
        ),
        ("silhouette", silhouette),
        ("Calinski-Harabasz", _format_value(run.get("calinski_harabasz"))),
        ("Davies-Bouldin", _format_value(run.get("davies_bouldin"))),
        ("inertia", _format_value(run.get("inertia"))),
        (
            "agreement with genres",
            f"adjusted Rand {_format_value(run.get('adjusted_rand'))}, NMI "
            f"{_format_value(run.get('normalized_mutual_info'))}, purity "
            f"{_format_value(run.get('purity'))}",
        ),
        ("spotclust", _format_value(run.get("spotclust_version"))),
    ]


def index_page(run: dict, pages: Sequence[tuple[ChartEntry, str]], fmt: str = "html") -> str:
    """index.html: the run's metadata and a link (with a caption) to every chart page."""
    facts = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _run_facts(run)
    )
    items = []
    for entry, filename in pages:
        link = f'<a href="{html.escape(filename)}">{html.escape(entry.title)}</a>'
        preview = (
            f'<br><img src="{html.escape(filename)}" alt="{html.escape(entry.title)}">'
            if fmt in ("png", "svg")
            else ""
        )
        items.append(f"<li>{link} — {html.escape(entry.caption)}{preview}</li>")
    links = "\n".join(items)
    clusters = "\n".join(
        f"<tr><th>cluster {c}</th><td>{size:,} tracks ({share:.1%})</td>"
        f"<td>{html.escape(label or '')}</td></tr>"
        for c, size, share, label in run.get("clusters", [])
    )
    run_id = run["run_id"]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spotclust run {run_id}: charts</title>
<style>{_STYLE}
  table {{ border-collapse: collapse; margin: 8px 0 20px; font-size: 14px; }}
  th, td {{ text-align: left; padding: 4px 12px 4px 0; vertical-align: top;
           border-bottom: 1px solid #eee; }}
  th {{ color: #555; font-weight: 600; white-space: nowrap; }}
  li {{ margin: 8px 0; font-size: 15px; }}
  li img {{ max-width: 100%; margin-top: 6px; border: 1px solid #eee; }}
</style>
</head>
<body>
<h1>spotclust run {run_id}: k = {run["k"]}</h1>
<table>
{facts}
</table>
<h2>Clusters</h2>
<table>
{clusters}
</table>
<h2>Charts</h2>
<ul>
{links}
</ul>
<p class="caption">Every page works offline: the chart libraries are inside each file.
Made by <code>spotclust charts --run {run_id}</code>.</p>
</body>
</html>
"""


def save_all(
    db: str | Path | None = None,
    run_id: int | None = None,
    out_dir: str | Path = "charts",
    fmt: str = "html",
) -> Path:
    """Write every chart of a run (latest when run_id is None) and index.html; return its path.

    fmt: 'html' (self-contained pages), 'png' or 'svg' (static images, for reports).
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt}: use one of {', '.join(FORMATS)}")
    run, charts = build_charts(db, run_id)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out}: {exc.strerror}; pass --out") from exc
    pages = []
    for entry, chart in charts:
        filename = f"{entry.name}.{fmt}"
        path = out / filename
        if fmt == "html":
            path.write_text(
                chart_page(chart, entry.title, entry.caption, run["run_id"]), encoding="utf-8"
            )
        elif fmt == "svg":
            chart.save(str(path), format="svg")
        else:
            chart.save(str(path), format="png", scale_factor=2)
        pages.append((entry, filename))
    index = out / "index.html"
    index.write_text(index_page(run, pages, fmt), encoding="utf-8")
    return index


# --------------------------------------------------------------------------- compare and stability
# For `spotclust compare` and the sweep's evidence (stability_chart is in CHARTS).


def contingency_chart(data: Data, run_a: int, run_b: int, note: str = "") -> alt.LayerChart:
    """Where the tracks of each cluster of run_a went in run_b: the contingency as a heatmap.

    data: cluster_a, cluster_b, tracks, share_of_a, share_of_b (see compare.compare), the
    non-empty cells. Colour: the share of run_a's cluster; text: the tracks. note: a subtitle
    line (e.g. the adjusted Rand and NMI).
    """
    frame = _frame(data)
    if frame.height:
        # every pair of clusters gets a cell, empty ones included
        grid = (
            frame.select("cluster_a").unique().join(frame.select("cluster_b").unique(), how="cross")
        )
        frame = grid.join(frame, on=["cluster_a", "cluster_b"], how="left").fill_null(0)
        frame = frame.with_columns(
            ("cluster " + pl.col("cluster_a").cast(pl.String)).alias("from"),
            ("cluster " + pl.col("cluster_b").cast(pl.String)).alias("to"),
        )
        rows = sorted(set(frame["from"].to_list()), key=_cluster_number)
        columns = sorted(set(frame["to"].to_list()), key=_cluster_number)
    else:
        rows, columns = [], []
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
    return _finish(
        alt.layer(cells, text).properties(
            width=cell * max(len(columns), 1),
            height=cell * max(len(rows), 1),
            title=_title(
                f"Run {run_a} → run {run_b}: where the tracks went",
                [*subtitle, *([note] if note else [])],
            ),
        )
    )


def stability_data(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every k of the latest sweep with its stability and gap (empty when there is no sweep)."""
    return _frame_of(
        con,
        """
        SELECT sweep_id, k, stability_mean, stability_std, stability_pairs, gap, gap_se,
               gap_refs, is_knee, is_best_silhouette, is_most_stable, is_gap_choice,
               is_suggested, suggestion_reason, rows_used
        FROM sweeps
        WHERE sweep_id = (SELECT max(sweep_id) FROM sweeps)
        ORDER BY k
        """,
    )


def stability_chart(data: Data, run_k: int | None = None, stable: float = 0.8):
    """Stability (mean adjusted Rand between resamples, ± std) and, when measured, the gap
    statistic (± s_k) against k; the suggested k and the gap rule's k circled.

    data: k, stability_mean, stability_std, gap, gap_se, is_suggested, is_gap_choice,
    sweep_id, suggestion_reason, ... (see stability_data). stable: the threshold the
    suggestion uses (sweeps.STABLE_ARI), drawn as a dashed line.
    """
    frame = _frame(data)
    has_stability = frame.height > 0 and frame["stability_mean"].drop_nulls().len() > 0
    has_gap = frame.height > 0 and frame["gap"].drop_nulls().len() > 0
    if not (has_stability or has_gap):
        return _message_chart(
            [
                "No stability or gap statistic in the latest sweep.",
                "Run `spotclust sweep --k 2..12` (stability is on by default;",
                "add --gap for the gap statistic), then `spotclust charts`.",
            ],
            height=160,
            title=_title("Stability and gap statistic against k", "Nothing measured yet."),
        )
    ks = frame["k"].to_list()
    frame = frame.with_columns(
        (pl.col("stability_mean") - pl.col("stability_std")).alias("stability_mean_low"),
        (pl.col("stability_mean") + pl.col("stability_std"))
        .clip(upper_bound=1)
        .alias("stability_mean_high"),
        (pl.col("gap") - pl.col("gap_se")).alias("gap_low"),
        (pl.col("gap") + pl.col("gap_se")).alias("gap_high"),
    )
    x = alt.X(
        "k:Q",
        title="k (number of clusters)",
        scale=alt.Scale(domain=[min(ks), max(ks)]),
        axis=alt.Axis(values=ks, format="d"),
    )
    shown_run_k = run_k is not None and min(ks) <= run_k <= max(ks)
    names = {  # legend entry -> colour, for what is drawn
        "stability (mean adjusted Rand)": ("#4c78a8", has_stability),
        f"stable from {stable}": ("#e45756", has_stability),
        "gap statistic": ("#54a24b", has_gap),
        "k of this run": ("#888", shown_run_k),
    }
    shown = [name for name, (_, drawn) in names.items() if drawn]
    series = alt.Color(
        "series:N",
        scale=alt.Scale(domain=shown, range=[names[name][0] for name in shown]),
        legend=alt.Legend(title=None, orient="top"),
    )
    stability_name, threshold_name, gap_name = list(names)[:3]
    tooltip = [
        alt.Tooltip("k:O", title="k"),
        alt.Tooltip("stability_mean:Q", title="stability (mean ARI)", format=".3f"),
        alt.Tooltip("stability_std:Q", title="stability std", format=".3f"),
        alt.Tooltip("gap:Q", title="gap", format=".3f"),
        alt.Tooltip("gap_se:Q", title="gap s_k", format=".3f"),
    ]

    def panel(field: str, name: str, title: str, flag: str, flag_name: str, extra=()):
        """field: the mean's column; field_low and field_high: the ends of its bar."""
        base = (
            alt.Chart(frame)
            .transform_filter(f"isValid(datum.{field})")
            .transform_calculate(series=f"'{name}'")
        )
        y = alt.Y(f"{field}:Q", title=title, scale=alt.Scale(zero=False))
        layers = [
            *extra,
            base.mark_rule(strokeWidth=2).encode(
                x=x,
                y=alt.Y(f"{field}_low:Q", title=title),
                y2=f"{field}_high:Q",
                color=series,
                tooltip=tooltip,
            ),
            base.mark_line(point=alt.OverlayMarkDef(size=70, filled=True)).encode(
                x=x, y=y, color=series, tooltip=tooltip
            ),
            base.transform_filter(f"datum.{flag}")
            .mark_point(size=260, shape="circle", filled=False, strokeWidth=2.5, color="black")
            .encode(x=x, y=y, tooltip=tooltip),
            base.transform_filter(f"datum.{flag}")
            .transform_calculate(what=f"'{flag_name} (k = ' + datum.k + ')'")
            .mark_text(align="left", dx=10, dy=-14, fontSize=12, fontWeight="bold")
            .encode(x=x, y=y, text="what:N"),
        ]
        if shown_run_k:
            layers.insert(
                0,
                alt.Chart(pl.DataFrame({"k": [run_k], "series": ["k of this run"]}))
                .mark_rule(strokeDash=[5, 4], strokeWidth=1.5)
                .encode(x=x, color=series, tooltip=[alt.Tooltip("k:Q", title="k of this run")]),
            )
        return alt.layer(*layers).properties(width=430, height=360)

    panels = []
    title_stability = "adjusted Rand between resamples (0 to 1)"
    if has_stability:
        threshold = (
            alt.Chart(pl.DataFrame({"stable": [stable], "series": [threshold_name]}))
            .mark_rule(strokeDash=[6, 4])
            .encode(
                y=alt.Y("stable:Q", title=title_stability),
                color=series,
                tooltip=[alt.Tooltip("stable:Q", title="stable from")],
            )
        )
        panels.append(
            panel(
                "stability_mean",
                stability_name,
                title_stability,
                "is_suggested",
                "suggested",
                [threshold],
            )
        )
    if has_gap:
        panels.append(
            panel("gap", gap_name, "gap statistic (log units)", "is_gap_choice", "gap rule")
        )
    frame_note = frame.filter(pl.col("is_suggested"))
    reason = frame_note["suggestion_reason"][0] if frame_note.height else ""
    sweep_id = frame["sweep_id"][0]
    return _finish(
        alt.hconcat(*panels, spacing=40).properties(
            title=_title(
                "Choosing k: stability and gap statistic",
                [
                    f"Sweep {sweep_id}: bars are ± one standard deviation (stability) and ± s_k "
                    "(gap); circled: the suggested k and the gap rule's k.",
                    *([f"Suggested: {reason}"] if reason else []),
                ],
            )
        )
    )
