"""The missing diagnostics: the per-track silhouette plot, the raw features of each cluster as
boxes, and the clusters' distances to each other on a plane (classical MDS of the centres)."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import polars as pl

from spotclust.charts import theme
from spotclust.charts.selection import message_chart
from spotclust.model.mds import classical_mds, kept_share, pairwise_distances

SILHOUETTE_BANDS = 1000  # at most this many bars per cluster on the silhouette plot...
SILHOUETTE_BARS = 3000  # ...and in all (a page of a few hundred kB; 640 px tall anyway)
SILHOUETTE_GAP = 0.02  # space between the clusters' stacks, as a share of the tracks
SILHOUETTE_HEIGHT = 640
# The features of the boxes, in their panels' order, with the units a listener knows.
FEATURE_TITLES = {
    "tempo": "tempo (BPM)",
    "loudness": "loudness (dB)",
    "duration_min": "duration (minutes)",
    "popularity": "popularity (0-100)",
    "danceability": "danceability (0-1)",
    "energy": "energy (0-1)",
    "valence": "valence (0-1)",
    "acousticness": "acousticness (0-1)",
    "instrumentalness": "instrumentalness (0-1)",
    "speechiness": "speechiness (0-1)",
    "liveness": "liveness (0-1)",
}
NO_SILHOUETTES = [
    "This run has no per-track silhouette values: it was made by an older spotclust,",
    "or its silhouette was not computed. Run `spotclust cluster` again to draw them.",
]


def silhouette_bands(k: int) -> int:
    """Bars per cluster on the silhouette plot of a run of k clusters."""
    return max(1, min(SILHOUETTE_BANDS, SILHOUETTE_BARS // max(k, 1)))


def _labelled(frame: pl.DataFrame, clusters: Sequence[str]) -> pl.DataFrame:
    """frame's whole-number cluster column as the run's cluster labels (those of the legend)."""
    names = {i: label for i, label in enumerate(clusters)}
    return frame.with_columns(
        pl.col("cluster").alias("number"),
        pl.col("cluster").replace_strict(names, default=None, return_dtype=pl.Utf8),
    )


def _silhouette_subtitle(run: dict, scored: int) -> list[str]:
    per = silhouette_bands(run["k"])
    bands = f"each bar: the mean s(i) of one of up to {per:,} equal bands of the cluster"
    if run.get("silhouette_method") == "sampled":
        who = (
            f"a random sample of {scored:,} of the run's {run['rows_used']:,} tracks "
            "(each s(i) exact against all tracks)"
        )
    else:
        who = f"all {scored:,} tracks, exact"
    return [
        f"s(i) of every track scored, sorted within its cluster: {who}.",
        f"Bands are as tall as the cluster; {bands}. Dashed: the run's average.",
    ]


def _cluster_names(bands: pl.DataFrame) -> pl.DataFrame:
    """One label per cluster at the middle of its stack: its tracks and mean s(i)."""
    names = bands.group_by("cluster", "number").agg(
        ((pl.col("y0").min() + pl.col("y1").max()) / 2).alias("middle"),
        pl.col("cluster_tracks").first().alias("n"),
        pl.col("cluster_mean").first().alias("mean"),
    )
    return names.with_columns(
        pl.format("{}: {} tracks, mean {}", "number", "n", pl.col("mean").round(3)).alias("text")
    ).sort("number")


def silhouette_plot(bands: pl.DataFrame, clusters: Sequence[str], run: dict):
    """Per-sample silhouettes: each cluster a stack of horizontal bars from 0 to s(i), sorted
    from highest to lowest, the run's average marked (bands: silhouette_data's rows)."""
    if not bands.height:
        return message_chart(NO_SILHOUETTES, height=120, title="No silhouette values")
    bands = _labelled(bands, clusters)
    scored = int(
        bands.group_by("cluster").agg(pl.col("cluster_tracks").first())["cluster_tracks"].sum()
    )
    average = run.get("silhouette")
    if average is None:
        average = float((bands["silhouette"] * bands["tracks"]).sum() / scored)
    low = min(-0.1, float(bands["lowest"].min()))
    x = alt.Scale(domain=[low, 1.0], nice=False)
    y = alt.Scale(domain=[0, float(bands["y1"].max())], reverse=True, nice=False, zero=False)
    names = _cluster_names(bands)
    bands = bands.select(
        "cluster", "y0", "y1", *(pl.col(c).round(4) for c in ("silhouette", "lowest", "highest")),
        "tracks",
    )  # fmt: skip
    bars = (
        alt.Chart(bands)
        .mark_rect()
        .encode(
            x=alt.X("zero:Q", title="silhouette s(i)", scale=x),
            x2="silhouette:Q",
            y=alt.Y("y0:Q", axis=None, scale=y),
            y2="y1:Q",
            color=theme.cluster_color(clusters, title="cluster"),
            tooltip=[
                alt.Tooltip("cluster:N"),
                alt.Tooltip("silhouette:Q", title="mean s(i) of the band", format=".3f"),
                alt.Tooltip("lowest:Q", title="lowest", format=".3f"),
                alt.Tooltip("highest:Q", title="highest", format=".3f"),
                alt.Tooltip("tracks:Q", title="tracks in the band", format=","),
            ],
        )
        .transform_calculate(zero="0")
    )
    labels = (
        alt.Chart(names)
        .mark_text(align="right", dx=-6, fontSize=12)
        .encode(x=alt.value(theme.WIDTH), y=alt.Y("middle:Q", scale=y, axis=None), text="text:N")
    )
    rule = (
        alt.Chart(pl.DataFrame({"average": [average]}))
        .mark_rule(strokeDash=[6, 4], color="#222", strokeWidth=1.5)
        .encode(
            x=alt.X("average:Q", scale=x),
            tooltip=[alt.Tooltip("average:Q", title="the run's silhouette", format=".3f")],
        )
    )
    chart = alt.layer(bars, rule, labels).properties(
        width=theme.WIDTH,
        height=SILHOUETTE_HEIGHT,
        title=theme.title(
            f"Silhouette of each track, by cluster (average {average:.3f})",
            _silhouette_subtitle(run, scored),
        ),
    )
    return theme.finish(chart)


def feature_boxes_chart(frame: pl.DataFrame, clusters: Sequence[str]):
    """Per feature (a panel each, own scale) and cluster: a box from the 25th to the 75th
    percentile, the median, whiskers from the 5th to the 95th (frame: feature_boxes_data)."""
    frame = _labelled(frame, clusters).with_columns(
        pl.col("feature").replace_strict(FEATURE_TITLES, default=pl.col("feature")).alias("panel")
    )
    order = [FEATURE_TITLES[f] for f in FEATURE_TITLES if f in set(frame["feature"])]
    y = alt.Y("cluster:N", sort=list(clusters), title=None)
    tooltip = [
        alt.Tooltip("cluster:N"),
        alt.Tooltip("panel:N", title="feature"),
        *(
            alt.Tooltip(f"{p}:Q", title=f"{title} percentile", format=",.3~f")
            for p, title in (("p05", "5th"), ("p25", "25th"), ("p50", "50th (median)"))
        ),
        alt.Tooltip("p75:Q", title="75th percentile", format=",.3~f"),
        alt.Tooltip("p95:Q", title="95th percentile", format=",.3~f"),
        alt.Tooltip("tracks:Q", format=","),
    ]
    base = alt.Chart().encode(y=y, tooltip=tooltip)
    whiskers = base.mark_rule(color="#555").encode(
        x=alt.X("p05:Q", title="in the panel's units", scale=alt.Scale(zero=False)), x2="p95:Q"
    )
    boxes = base.mark_bar(size=12, stroke="#333", strokeWidth=0.5).encode(
        x="p25:Q", x2="p75:Q", color=theme.cluster_color(clusters, title="cluster")
    )
    medians = base.mark_point(shape="M0,-1L0,1", size=196, color="black", strokeWidth=2.5).encode(
        x="p50:Q"
    )  # a vertical stroke: the median
    layered = alt.layer(whiskers, boxes, medians, data=frame).properties(
        width=(theme.WIDTH - 160) // 3, height=alt.Step(16)
    )
    chart = (
        theme.facet_panels(layered, "panel:N", order, columns=3)
        .resolve_scale(x="independent")
        .properties(
            title=theme.title(
                "The features of each cluster, in their own units",
                "Box: the middle half of the cluster's tracks (25th to 75th percentile); "
                "line: its median; whiskers: 5th to 95th percentile.",
            )
        )
    )
    return theme.finish(chart)


def distance_frame(centroids: pl.DataFrame, clusters: Sequence[str]) -> tuple[pl.DataFrame, float]:
    """(one row per cluster: its MDS place, tracks and nearest cluster; the share of the
    centres' spread the plane keeps) from the model-space centres (distance_map_data)."""
    wide = centroids.pivot(on="dimension", index=["cluster", "tracks"], values="value")
    wide = wide.sort("cluster")
    dims = sorted(c for c in wide.columns if c not in ("cluster", "tracks"))
    points = wide.select(dims).to_numpy().astype(np.float64)
    distances = pairwise_distances(points)
    coords = classical_mds(distances)
    others = distances + np.diag(np.full(len(points), np.inf))
    nearest = others.argmin(axis=1) if len(points) > 1 else np.zeros(len(points), dtype=int)
    frame = pl.DataFrame(
        {
            "cluster": wide["cluster"],
            "tracks": wide["tracks"],
            "x": coords[:, 0],
            "y": coords[:, 1],
            "nearest": wide["cluster"].to_numpy()[nearest],
            "nearest_distance": others[np.arange(len(points)), nearest],
        }
    )
    frame = _labelled(frame, clusters).with_columns(pl.col("number").cast(pl.Utf8).alias("text"))
    return frame, kept_share(distances, coords)


def distance_map(centroids: pl.DataFrame, clusters: Sequence[str]):
    """The cluster centres placed by classical MDS of their distances in the space k-means ran
    in, each a circle as large as its cluster, labelled by number."""
    frame, kept = distance_frame(centroids, clusters)
    span = max(float(np.ptp(frame["x"].to_numpy())), float(np.ptp(frame["y"].to_numpy())), 1e-9)
    half = 0.7 * span  # the same units per pixel on both axes, the centres in the middle
    middle = {a: (float(frame[a].min()) + float(frame[a].max())) / 2 for a in ("x", "y")}
    domain = {a: [middle[a] - half, middle[a] + half] for a in ("x", "y")}
    tooltip = [
        alt.Tooltip("cluster:N"),
        alt.Tooltip("tracks:Q", format=","),
        alt.Tooltip("nearest:Q", title="nearest cluster"),
        alt.Tooltip("nearest_distance:Q", title="distance to it (model space)", format=".3f"),
    ]
    base = alt.Chart(frame).encode(
        x=alt.X("x:Q", title="MDS 1", scale=alt.Scale(domain=domain["x"], nice=False)),
        y=alt.Y("y:Q", title="MDS 2", scale=alt.Scale(domain=domain["y"], nice=False)),
        tooltip=tooltip,
    )
    circles = base.mark_point(
        shape="circle", filled=True, opacity=0.75, stroke="white", strokeWidth=1.5
    ).encode(
        size=alt.Size(
            "tracks:Q",
            scale=alt.Scale(range=[300, 6000], zero=True),
            legend=alt.Legend(title="tracks", format=",.0f"),
        ),
        color=theme.cluster_color(clusters, title="cluster"),
    )
    numbers = base.mark_text(fontSize=14, fontWeight="bold").encode(text="text:N")
    side = min(theme.WIDTH, 640)
    chart = alt.layer(circles, numbers).properties(
        width=side,
        height=side,
        title=theme.title(
            "Distances between the clusters",
            [
                "The cluster centres placed on a plane by classical MDS of their distances in "
                "the space k-means ran in; area: the cluster's tracks.",
                f"The plane keeps {kept:.0%} of the centres' spread: near on the plane "
                "is near in the model where that share is high.",
            ],
        ),
    )
    return theme.finish(chart)
