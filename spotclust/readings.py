"""What explain, place and compare return to a notebook: their answers as polars DataFrames
(and the comparison's chart as an Altair chart), with a short table as their repr.

Each view is built from what the API function returned, which it keeps (items, comparison):
nothing here reads the warehouse again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from spotclust.results import show

if TYPE_CHECKING:
    import altair as alt

    from spotclust.runs.compare import Comparison
    from spotclust.runs.explain import Explanation
    from spotclust.runs.place import Placement, RunModel

_CLUSTER = {"cluster": pl.Int64}
_GENRE = {"genre": pl.String, "tracks": pl.Int64, "share_of_cluster": pl.Float64}


def _frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    """Rows as a frame with these columns and types, also when there are none."""
    return pl.from_dicts(rows, schema=schema)


class Explanations:
    """Why each cluster of a run is what it is (`spotclust explain`), as DataFrames:
    clusters (label, size, share), effects (Cohen's d of the top features), genres_by_share,
    genres_by_lift and representative (the tracks nearest each centroid)."""

    def __init__(self, run_id: int, items: list[Explanation]):
        self.run_id = run_id
        self.items = items  # the API's Explanation objects, one per cluster

    def _per_cluster(self, field: str, schema: dict) -> pl.DataFrame:
        rows = [{"cluster": e.cluster, **row} for e in self.items for row in getattr(e, field)]
        return _frame(rows, {**_CLUSTER, **schema})

    @property
    def clusters(self) -> pl.DataFrame:
        schema = {**_CLUSTER, "label": pl.String, "size": pl.Int64, "share": pl.Float64}
        rows = [{"cluster": e.cluster, "label": e.label, "size": e.size, "share": e.share}
                for e in self.items]  # fmt: skip
        return _frame(rows, schema)

    @property
    def effects(self) -> pl.DataFrame:
        """feature, the cluster's mean, the rest's mean, cohens_d; largest |d| first."""
        return self._per_cluster(
            "effects",
            {"feature": pl.String, "mean": pl.Float64, "rest_mean": pl.Float64,
             "cohens_d": pl.Float64},
        )  # fmt: skip

    @property
    def genres_by_share(self) -> pl.DataFrame:
        return self._per_cluster("genres_by_share", _GENRE)

    @property
    def genres_by_lift(self) -> pl.DataFrame:
        """Genres over-represented in the cluster: lift = share here / share overall."""
        return self._per_cluster("genres_by_lift", {**_GENRE, "lift": pl.Float64})

    @property
    def representative(self) -> pl.DataFrame:
        return self._per_cluster(
            "representative",
            {"track_id": pl.String, "artists": pl.String, "track_name": pl.String,
             "genre": pl.String, "distance": pl.Float64},
        )  # fmt: skip

    def __repr__(self) -> str:
        lines = [f"Explanations of run {self.run_id}"]
        for e in self.items:
            traits = ", ".join(f"{x['feature']} {x['cohens_d']:+.2f}" for x in e.effects[:3])
            lines.append(f"cluster {e.cluster} ({e.size} tracks, {e.share:.1%}): {e.label}")
            lines.append(f"    Cohen's d: {traits}")
        return "\n".join(lines)


class Placements:
    """Songs placed into a run's clusters (`spotclust place`): table (one row per song: its
    cluster, label, distance, typicality, the features assumed), distances (to every
    centroid) and neighbours (the nearest tracks of each song)."""

    def __init__(self, model: RunModel, items: list[Placement]):
        self.run_id = model.run_id
        self.model = model  # the run's fitted model, as numbers
        self.items = items  # the API's Placement objects, one per song

    @property
    def table(self) -> pl.DataFrame:
        rows = [
            {"name": p.name, "cluster": p.cluster, "label": p.label,
             "distance": p.distances[p.cluster], "typicality": p.typicality,
             "assumed": p.assumed}
            for p in self.items
        ]  # fmt: skip
        return _frame(
            rows,
            {"name": pl.String, **_CLUSTER, "label": pl.String, "distance": pl.Float64,
             "typicality": pl.Float64, "assumed": pl.List(pl.String)},
        )  # fmt: skip

    @property
    def distances(self) -> pl.DataFrame:
        rows = [
            {"name": p.name, "cluster": cluster, "label": self.model.labels[cluster],
             "distance": distance}
            for p in self.items
            for cluster, distance in enumerate(p.distances)
        ]  # fmt: skip
        schema = {"name": pl.String, **_CLUSTER, "label": pl.String, "distance": pl.Float64}
        return _frame(rows, schema)

    @property
    def neighbours(self) -> pl.DataFrame:
        rows = [{"name": p.name, **track} for p in self.items for track in p.neighbours]
        return _frame(
            rows,
            {"name": pl.String, "track_id": pl.String, "artists": pl.String,
             "track_name": pl.String, **_CLUSTER, "genres": pl.String, "distance": pl.Float64},
        )  # fmt: skip

    def __repr__(self) -> str:
        table = self.table.select("name", "cluster", "label", "typicality")
        return f"Placements into run {self.run_id}\n{show(table)}"


class RunComparison:
    """Two runs over their common tracks (`spotclust compare`): adjusted_rand,
    normalized_mutual_info, common_tracks, contingency (a DataFrame: where the tracks of
    each cluster of run_a went in run_b) and chart() (the contingency heatmap)."""

    def __init__(self, comparison: Comparison):
        self.comparison = comparison  # the API's Comparison
        self.run_a, self.run_b = comparison.run_a, comparison.run_b
        self.adjusted_rand = comparison.adjusted_rand
        self.normalized_mutual_info = comparison.normalized_mutual_info
        self.common_tracks = comparison.common_tracks

    @property
    def summary(self) -> str:
        """One line: both runs, their common tracks, adjusted Rand and NMI."""
        return self.comparison.summary

    @property
    def contingency(self) -> pl.DataFrame:
        return _frame(
            self.comparison.contingency,
            {"cluster_a": pl.Int64, "cluster_b": pl.Int64, "tracks": pl.Int64,
             "share_of_a": pl.Float64, "share_of_b": pl.Float64},
        )  # fmt: skip

    def chart(self) -> alt.TopLevelMixin:
        from spotclust.charts import contingency_chart

        c = self.comparison
        return contingency_chart(
            c.contingency, c.run_a, c.run_b, note=c.summary, names_a=c.names_a, names_b=c.names_b
        )

    def __repr__(self) -> str:
        return f"{self.summary}\n{show(self.contingency)}"
