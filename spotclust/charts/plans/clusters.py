"""The plans of the charts of the clusters themselves: profiles, sizes and the nominal
features (key, mode, time signature) as shares."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from spotclust.charts import common
from spotclust.charts.spec import Plan, rows

NOMINAL = ("key", "mode", "time_signature")  # categories coded as numbers: a mean means nothing
CLIP = 2  # the colour scale stops at ±CLIP standard deviations
NOMINAL_CELL = 40  # px: the width of a value's column in the nominal features chart


def _clusters(frame: pl.DataFrame, clusters: Sequence[str] | None) -> dict:
    """The values every cluster chart shares: the clusters, their colours and the row height."""
    clusters = list(clusters) if clusters is not None else common.cluster_domain(frame)
    return {
        "clusters": clusters,
        "colours": common.cluster_colours(clusters),
        "row": max(30, min(44, 360 // max(len(clusters), 1))),
    }


def _strip(clusters: list[str]) -> list[dict]:
    """The rows of the strip of cluster colours at the left of a heatmap."""
    return [{"cluster": c} for c in clusters]


def feature_order(frame: pl.DataFrame) -> list[str]:
    """The features' labels by effect size: the range of the cluster means (in z), largest
    first, so that the features that separate the clusters most come first."""
    if not frame.height:
        return []
    spread = frame.group_by("label").agg((pl.col("z").max() - pl.col("z").min()).alias("range"))
    return spread.sort(["range", "label"], descending=[True, False], nulls_last=True)[
        "label"
    ].to_list()


def profiles(data: common.Data, clusters: Sequence[str] | None = None) -> Plan:
    """Each cluster's mean of each feature in standard deviations (see
    clusters.cluster_profiles_chart)."""
    frame = common.as_frame(data)
    values = _clusters(frame, clusters)
    if frame.height:  # nominal features are categories: their mean is no profile
        frame = frame.filter(~pl.col("feature").is_in(NOMINAL))
    order = feature_order(frame)
    frame = frame.with_columns(
        pl.when(pl.col("in_model")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("clustered")
    )
    cell = (common.WIDTH - 140) // max(len(order), 1)
    values |= {"order": order, "width": cell * max(len(order), 1)}
    datasets = {"strip": _strip(values["clusters"]), "profiles": rows(frame)}
    return Plan("profiles", "", values, datasets)


def sizes(data: common.Data, clusters: Sequence[str] | None = None) -> Plan:
    """Tracks per cluster, with the share printed (see clusters.cluster_sizes_chart)."""
    frame = common.as_frame(data)
    values = _clusters(frame, clusters)
    frame = frame.with_columns(
        pl.struct("tracks", "share")
        .map_elements(lambda s: f"{s['tracks']:,} ({s['share']:.1%})", return_dtype=pl.String)
        .alias("text")
    )
    total = int(frame["tracks"].sum()) if frame.height else 0
    largest = int(frame["tracks"].max()) if frame.height else 1
    values["x_domain"] = [0, largest * 1.2]  # room at the right for the text after the bar
    values["title"] = common.title(
        "Cluster sizes", f"Tracks in each cluster, of {total:,}; clusters are numbered by size."
    )
    return Plan("sizes", "", values, {"sizes": rows(frame)})


def nominal_features(data: common.Data, clusters: Sequence[str] | None = None) -> Plan:
    """Key, mode and time signature as shares of each cluster's tracks, one panel per feature
    (see clusters.nominal_features_chart)."""
    frame = common.as_frame(data)
    values = _clusters(frame, clusters)
    present = set(frame["feature"].to_list()) if frame.height else set()
    features = [f for f in NOMINAL if f in present] or list(NOMINAL[:1])
    largest = float(frame["share"].max()) if frame.height else 1.0
    values["share_domain"] = [0, largest]
    values["dark"] = f"datum.share > {0.55 * largest:.4f}"  # white text on dark cells
    datasets = {"strip": _strip(values["clusters"])}
    for feature in features:
        part = frame.filter(pl.col("feature") == feature).sort("value")
        order = part.unique("value_label", maintain_order=True)["value_label"].to_list()
        values[f"{feature}_order"] = order
        values[f"{feature}_width"] = NOMINAL_CELL * max(len(order), 1)
        datasets[feature] = rows(part)
    return Plan("nominal_features", "+".join(features), values, datasets)
