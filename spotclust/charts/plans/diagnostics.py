"""The plans of the diagnostics: the per-track silhouette plot, the raw features of each
cluster as boxes, and the clusters' distances to each other on a plane (classical MDS)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from spotclust.charts import common
from spotclust.charts.plans.selection import message
from spotclust.charts.spec import Plan, rows
from spotclust.model.mds import classical_mds, kept_share, pairwise_distances

SILHOUETTE_BANDS = 1000  # at most this many bars per cluster on the silhouette plot...
SILHOUETTE_BARS = 3000  # ...and in all (a page of a few hundred kB; 640 px tall anyway)
SILHOUETTE_GAP = 0.02  # space between the clusters' stacks, as a share of the tracks
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


def labelled(frame: pl.DataFrame, clusters: Sequence[str]) -> pl.DataFrame:
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


def silhouette(bands: pl.DataFrame, clusters: Sequence[str], run: dict) -> Plan:
    """Per-sample silhouettes, each cluster a stack of bars (see diagnostics.silhouette_plot)."""
    if not bands.height:
        return message(NO_SILHOUETTES, height=120, title="No silhouette values")
    bands = labelled(bands, clusters)
    scored = int(
        bands.group_by("cluster").agg(pl.col("cluster_tracks").first())["cluster_tracks"].sum()
    )
    average = run.get("silhouette")
    if average is None:
        average = float((bands["silhouette"] * bands["tracks"]).sum() / scored)
    names = _cluster_names(bands)
    bars = bands.select(
        "cluster", "y0", "y1", *(pl.col(c).round(4) for c in ("silhouette", "lowest", "highest")),
        "tracks",
    )  # fmt: skip
    values = {
        "x_domain": [min(-0.1, float(bands["lowest"].min())), 1.0],
        "y_domain": [0, float(bands["y1"].max())],
        "clusters": list(clusters),
        "colours": common.cluster_colours(clusters),
        "title": common.title(
            f"Silhouette of each track, by cluster (average {average:.3f})",
            _silhouette_subtitle(run, scored),
        ),
    }
    datasets = {"bands": rows(bars), "names": rows(names), "average": [{"average": average}]}
    return Plan("silhouette", "", values, datasets)


def feature_boxes(frame: pl.DataFrame, clusters: Sequence[str]) -> Plan:
    """Per feature and cluster, the percentiles of the raw values (see
    diagnostics.feature_boxes_chart)."""
    frame = labelled(frame, clusters).with_columns(
        pl.col("feature").replace_strict(FEATURE_TITLES, default=pl.col("feature")).alias("panel")
    )
    order = [FEATURE_TITLES[f] for f in FEATURE_TITLES if f in set(frame["feature"])]
    values = {
        "clusters": list(clusters),
        "colours": common.cluster_colours(clusters),
        "panels": order,
    }
    return Plan("feature_boxes", "", values, {"boxes": rows(frame)})


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
    frame = labelled(frame, clusters).with_columns(pl.col("number").cast(pl.Utf8).alias("text"))
    return frame, kept_share(distances, coords)


def distances(centroids: pl.DataFrame, clusters: Sequence[str]) -> Plan:
    """The cluster centres on a plane by classical MDS (see diagnostics.distance_map)."""
    frame, kept = distance_frame(centroids, clusters)
    span = max(float(np.ptp(frame["x"].to_numpy())), float(np.ptp(frame["y"].to_numpy())), 1e-9)
    half = 0.7 * span  # the same units per pixel on both axes, the centres in the middle
    middle = {a: (float(frame[a].min()) + float(frame[a].max())) / 2 for a in ("x", "y")}
    values = {
        "x_domain": [middle["x"] - half, middle["x"] + half],
        "y_domain": [middle["y"] - half, middle["y"] + half],
        "clusters": list(clusters),
        "colours": common.cluster_colours(clusters),
        "title": common.title(
            "Distances between the clusters",
            [
                "The cluster centres placed on a plane by classical MDS of their distances in "
                "the space k-means ran in; area: the cluster's tracks.",
                f"The plane keeps {kept:.0%} of the centres' spread: near on the plane "
                "is near in the model where that share is high.",
            ],
        ),
    }
    return Plan("distances", "", values, {"centres": rows(frame)})
