"""Charts of the clusters themselves: what sets each apart (profiles) and how big each is."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from spotclust.charts import theme


def _colour_strip(clusters: list[str], row: int) -> alt.Chart:
    """The cluster legend at the left: the same colours as in every other chart."""
    return (
        alt.Chart(pl.DataFrame({"cluster": clusters}))
        .mark_rect()
        .encode(
            y=alt.Y("cluster:N", sort=clusters, title=None),
            color=theme.cluster_color(clusters, legend=None),
            tooltip=[alt.Tooltip("cluster:N")],
        )
        .properties(width=14, height=alt.Step(row))
    )


NOMINAL = ("key", "mode", "time_signature")  # categories coded as numbers: a mean means nothing
CLIP = 2  # the colour scale stops at ±CLIP standard deviations


def _feature_order(frame: pl.DataFrame) -> list[str]:
    """The features' labels by effect size: the range of the cluster means (in z), largest
    first, so that the features that separate the clusters most come first."""
    if not frame.height:
        return []
    spread = frame.group_by("label").agg((pl.col("z").max() - pl.col("z").min()).alias("range"))
    return spread.sort(["range", "label"], descending=[True, False], nulls_last=True)[
        "label"
    ].to_list()


def _profile_heat(frame: pl.DataFrame, clusters: list[str], row: int) -> alt.LayerChart:
    """Clusters x features, coloured by z and with z printed."""
    order = _feature_order(frame)
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
    grey_if_not_clustered = "indexof(datum.label, '(not clustered)') >= 0 ? '#777' : '#222'"
    base = alt.Chart(frame).encode(
        x=alt.X(
            "label:N",
            sort=order,
            title="feature (grey: not clustered on)",
            axis=alt.Axis(orient="top", labelAngle=-35, labelColor=alt.expr(grey_if_not_clustered)),
        ),
        y=alt.Y("cluster:N", sort=clusters, title=None, axis=None),
        tooltip=tooltip,
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "z:Q",
            scale=theme.diverging_scale(CLIP),
            legend=alt.Legend(
                title=["cluster mean − mean of", "all tracks (std devs),", f"z clipped at ±{CLIP}"],
                gradientLength=240,
                values=[-CLIP, -1, 0, 1, CLIP],
                labelExpr=f"abs(datum.value) >= {CLIP} ? (datum.value > 0 ? '≥ +' : '≤ −') + "
                f"'{CLIP}' : format(datum.value, '+~r')",
            ),
        )
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("z:Q", format="+.2f"),
        color=alt.condition("abs(datum.z) > 1.2", alt.value("white"), alt.value("#222")),
    )
    cell = (theme.WIDTH - 140) // max(len(order), 1)
    return alt.layer(cells, text).properties(width=cell * max(len(order), 1), height=alt.Step(row))


def cluster_profiles_chart(
    data: theme.Data, clusters: Sequence[str] | None = None
) -> alt.HConcatChart:
    """Each cluster's mean of each feature, in standard deviations from the mean of all tracks.

    data: cluster, feature, label, in_model, position, z, mean, std, median, overall_mean,
    overall_std (see profiles_data). A clusters x features heatmap with z printed in each
    cell and the raw means in the tooltips; a strip of cluster colours at the left.
    """
    frame = theme.as_frame(data)
    clusters = list(clusters) if clusters is not None else theme.cluster_domain(frame)
    if frame.height:  # nominal features are categories: their mean is no profile
        frame = frame.filter(~pl.col("feature").is_in(NOMINAL))
    row = max(30, min(44, 360 // max(len(clusters), 1)))
    return theme.finish(
        alt.hconcat(_colour_strip(clusters, row), _profile_heat(frame, clusters, row), spacing=2)
        .resolve_scale(color="independent")
        .properties(
            title=theme.title(
                "Cluster profiles: what sets each cluster apart",
                [
                    "Each cell: the cluster's mean of a feature, standardised (0 = the mean of all "
                    "tracks the run used; ±1 = one standard deviation).",
                    "Red: above average; blue: below (colour clipped at ±2). Features sorted by "
                    "how much they separate the clusters (range of the cluster means).",
                    f"Left out: {', '.join(NOMINAL)} (categories, not quantities: a mean key "
                    "means nothing; their shares per cluster are on the nominal features page). "
                    "Hover a cell for the raw means.",
                ],
            )
        )
    )


def cluster_sizes_chart(data: theme.Data, clusters: Sequence[str] | None = None) -> alt.LayerChart:
    """Tracks per cluster, with the share printed at the end of each bar.

    data: cluster, tracks, share, top_genres, distinctive_features (see sizes_data).
    """
    frame = theme.as_frame(data)
    clusters = list(clusters) if clusters is not None else theme.cluster_domain(frame)
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
    bars = base.mark_bar().encode(color=theme.cluster_color(clusters))
    text = base.mark_text(align="left", dx=6, fontSize=13).encode(text="text:N")
    return theme.finish(
        alt.layer(bars, text).properties(
            width=theme.WIDTH - 150,
            height=alt.Step(44),
            title=theme.title(
                "Cluster sizes",
                f"Tracks in each cluster, of {total:,}; clusters are numbered by size.",
            ),
        )
    )


NOMINAL_CELL = 40  # px: the width of a value's column in the nominal features chart


def _nominal_panel(
    frame: pl.DataFrame, feature: str, clusters: list[str], row: int, legend: bool
) -> alt.LayerChart:
    """Clusters x the values of one nominal feature: each cell the value's share of the
    cluster, coloured on one scale for every panel (0 to the largest share)."""
    largest = float(frame["share"].max()) if frame.height else 1.0
    part = frame.filter(pl.col("feature") == feature).sort("value")
    order = part.unique("value_label", maintain_order=True)["value_label"].to_list()
    tooltip = [
        alt.Tooltip("cluster:N"),
        alt.Tooltip("value_label:N", title=feature.replace("_", " ")),
        alt.Tooltip("tracks:Q", title="tracks", format=","),
        alt.Tooltip("share:Q", title="share of the cluster", format=".1%"),
        alt.Tooltip("overall_share:Q", title="share of all tracks", format=".1%"),
    ]
    base = alt.Chart(part).encode(
        x=alt.X(
            "value_label:N",
            sort=order,
            title=feature.replace("_", " "),
            axis=alt.Axis(orient="top", labelAngle=0),
        ),
        y=alt.Y("cluster:N", sort=clusters, title=None, axis=None),
        tooltip=tooltip,
    )
    share = alt.Legend(title=["share of the", "cluster's tracks"], format=".0%")
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "share:Q",
            scale=alt.Scale(domain=[0, largest], range=["#f7fbff", "#08306b"]),
            legend=share if legend else None,
        )
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition(
            f"datum.share > {0.55 * largest:.4f}", alt.value("white"), alt.value("#222")
        ),
    )
    width = NOMINAL_CELL * max(len(order), 1)
    return alt.layer(cells, text).properties(width=width, height=alt.Step(row))


def nominal_features_chart(
    data: theme.Data, clusters: Sequence[str] | None = None
) -> alt.HConcatChart:
    """Key, mode and time signature as what they are, categories: the share of each cluster's
    tracks in each value (a mean key means nothing), one panel per feature.

    data: cluster, feature, value, value_label, tracks, share, overall_share (see
    nominal_features_data). A strip of cluster colours at the left.
    """
    frame = theme.as_frame(data)
    clusters = list(clusters) if clusters is not None else theme.cluster_domain(frame)
    present = set(frame["feature"].to_list()) if frame.height else set()
    features = [f for f in NOMINAL if f in present] or list(NOMINAL[:1])
    row = max(30, min(44, 360 // max(len(clusters), 1)))
    panels = [
        _nominal_panel(frame, feature, clusters, row, legend=i == len(features) - 1)
        for i, feature in enumerate(features)
    ]
    return theme.finish(
        alt.hconcat(_colour_strip(clusters, row), *panels, spacing=8)
        .resolve_scale(color="independent")
        .properties(
            title=theme.title(
                "Key, mode and time signature per cluster",
                [
                    "Categories, not quantities: each cell is the share of the cluster's tracks "
                    "with that value (each panel's row adds up to 100%).",
                    "One colour scale for every panel; hover a cell for the tracks and the "
                    "share of all tracks, to compare.",
                ],
            )
        )
    )
