"""Charts of the clusters themselves: what sets each apart (profiles), how big each is, and
their key, mode and time signature."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt

from spotclust.charts import theme
from spotclust.charts.authoring import drawing, drawn
from spotclust.charts.plans import clusters as plan
from spotclust.charts.plans.clusters import CLIP, NOMINAL, NOMINAL_CELL  # noqa: F401


def _colour_strip(v) -> alt.Chart:
    """The cluster legend at the left: the same colours as in every other chart."""
    return (
        alt.Chart(alt.NamedData("strip"))
        .mark_rect()
        .encode(
            y=alt.Y("cluster:N", sort=v.clusters, title=None),
            color=theme.colour_by_cluster(v.clusters, v.colours, legend=None),
            tooltip=[alt.Tooltip("cluster:N")],
        )
        .properties(width=14, height=alt.Step(v.row))
    )


def _profile_heat(v) -> alt.LayerChart:
    """Clusters x features, coloured by z and with z printed."""
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
    base = alt.Chart(alt.NamedData("profiles")).encode(
        x=alt.X(
            "label:N",
            sort=v.order,
            title="feature (grey: not clustered on)",
            axis=alt.Axis(orient="top", labelAngle=-35, labelColor=alt.expr(grey_if_not_clustered)),
        ),
        y=alt.Y("cluster:N", sort=v.clusters, title=None, axis=None),
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
    return alt.layer(cells, text).properties(width=v.width, height=alt.Step(v.row))


@drawing("profiles")
def draw_profiles(v, flags) -> alt.HConcatChart:
    return theme.finish(
        alt.hconcat(_colour_strip(v), _profile_heat(v), spacing=2)
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


def cluster_profiles_chart(
    data: theme.Data, clusters: Sequence[str] | None = None
) -> alt.HConcatChart:
    """Each cluster's mean of each feature, in standard deviations from the mean of all tracks.

    data: cluster, feature, label, in_model, position, z, mean, std, median, overall_mean,
    overall_std (see profiles_data). A clusters x features heatmap with z printed in each
    cell and the raw means in the tooltips; a strip of cluster colours at the left.
    """
    return drawn(plan.profiles(data, clusters))


@drawing("sizes")
def draw_sizes(v, flags) -> alt.LayerChart:
    tooltip = [
        alt.Tooltip("cluster:N"),
        alt.Tooltip("tracks:Q", title="tracks", format=","),
        alt.Tooltip("share:Q", title="share of all tracks", format=".1%"),
        alt.Tooltip("top_genres:N", title="top genres"),
        alt.Tooltip("distinctive_features:N", title="distinctive features (z)"),
    ]
    base = alt.Chart(alt.NamedData("sizes")).encode(
        y=alt.Y("cluster:N", sort=v.clusters, title=None),
        x=alt.X(
            "tracks:Q",
            title="tracks",
            axis=alt.Axis(format=",d"),
            scale=alt.Scale(domain=v.x_domain, nice=False),
        ),
        tooltip=tooltip,
    )
    bars = base.mark_bar().encode(color=theme.colour_by_cluster(v.clusters, v.colours))
    text = base.mark_text(align="left", dx=6, fontSize=13).encode(text="text:N")
    return theme.finish(
        alt.layer(bars, text).properties(
            width=theme.WIDTH - 150, height=alt.Step(44), title=v.title
        )
    )


def cluster_sizes_chart(data: theme.Data, clusters: Sequence[str] | None = None) -> alt.LayerChart:
    """Tracks per cluster, with the share printed at the end of each bar.

    data: cluster, tracks, share, top_genres, distinctive_features (see sizes_data).
    """
    return drawn(plan.sizes(data, clusters))


def _nominal_panel(v, feature: str, legend: bool) -> alt.LayerChart:
    """Clusters x the values of one nominal feature: each cell the value's share of the
    cluster, coloured on one scale for every panel (0 to the largest share)."""
    tooltip = [
        alt.Tooltip("cluster:N"),
        alt.Tooltip("value_label:N", title=feature.replace("_", " ")),
        alt.Tooltip("tracks:Q", title="tracks", format=","),
        alt.Tooltip("share:Q", title="share of the cluster", format=".1%"),
        alt.Tooltip("overall_share:Q", title="share of all tracks", format=".1%"),
    ]
    base = alt.Chart(alt.NamedData(feature)).encode(
        x=alt.X(
            "value_label:N",
            sort=getattr(v, f"{feature}_order"),
            title=feature.replace("_", " "),
            axis=alt.Axis(orient="top", labelAngle=0),
        ),
        y=alt.Y("cluster:N", sort=v.clusters, title=None, axis=None),
        tooltip=tooltip,
    )
    share = alt.Legend(title=["share of the", "cluster's tracks"], format=".0%")
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "share:Q",
            scale=alt.Scale(domain=v.share_domain, range=["#f7fbff", "#08306b"]),
            legend=share if legend else None,
        )
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition({"test": v.dark}, alt.value("white"), alt.value("#222")),
    )
    width = getattr(v, f"{feature}_width")
    return alt.layer(cells, text).properties(width=width, height=alt.Step(v.row))


NOMINAL_VARIANTS = tuple(  # the features present, in NOMINAL order
    "+".join(f for i, f in enumerate(NOMINAL) if mask >> i & 1) for mask in range(1, 8)
)


@drawing("nominal_features", variants=NOMINAL_VARIANTS)
def draw_nominal_features(v, flags) -> alt.HConcatChart:
    features = [f for f in NOMINAL if f in flags]
    panels = [
        _nominal_panel(v, feature, legend=i == len(features) - 1)
        for i, feature in enumerate(features)
    ]
    return theme.finish(
        alt.hconcat(_colour_strip(v), *panels, spacing=8)
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


def nominal_features_chart(
    data: theme.Data, clusters: Sequence[str] | None = None
) -> alt.HConcatChart:
    """Key, mode and time signature as what they are, categories: the share of each cluster's
    tracks in each value (a mean key means nothing), one panel per feature.

    data: cluster, feature, value, value_label, tracks, share, overall_share (see
    nominal_features_data). A strip of cluster colours at the left.
    """
    return drawn(plan.nominal_features(data, clusters))
