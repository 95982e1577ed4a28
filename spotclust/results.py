"""A clustering run and a sweep as Python sees them in a notebook: views of the warehouse.

A view holds the warehouse's path and the run's (or sweep's) id, never a connection. Each
table is read the first time it is asked for, through a read-only connection opened and
closed for it, then kept; so a notebook can keep a result between cells while the CLI or
another notebook uses the warehouse. Tables are polars DataFrames; charts are Altair charts,
which show themselves in Jupyter.

    run = spotclust.open().cluster(4)      # -> Run
    run.summary, run.profiles, run.genres, run.assignments, run.distinctive
    run.chart("pca_map")
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from spotclust.errors import ConfigError, SpotclustError
from spotclust.files.export import export_query
from spotclust.runs.resolve import check_run_data, resolve_run
from spotclust.warehouse import connection, read_sql
from spotclust.warehouse.errors import translated

if TYPE_CHECKING:
    import altair as alt

    from spotclust.model.selection import SweepResult
    from spotclust.runs.cluster import ClusterResult

SHOWN_ROWS = 8  # rows of a table a repr shows


def show(frame: pl.DataFrame, rows: int = SHOWN_ROWS) -> str:
    """A frame as a short plain table: no borders, no dtypes, at most rows rows."""
    with pl.Config(
        tbl_formatting="NOTHING",
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_rows=rows,
        tbl_width_chars=110,
        fmt_str_lengths=48,
    ):
        text = str(frame)
    return "\n".join(line.rstrip() for line in text.splitlines())


def safe_repr(head: str, body) -> str:
    """head, then body() (read from the warehouse); a repr never raises, so a warehouse that
    is busy or gone shows as such."""
    try:
        return f"{head}{body()}"
    except SpotclustError as exc:
        return f"{head}\n(cannot read it now: {exc})"


def read_frame(db: Path, sql: str, params: dict, run_id: int | None = None, then: str = ""):
    """The rows of sql as a polars frame, from a read-only connection opened for them.

    run_id: the run must still exist; then: and its data must still be the warehouse's
    (tables joined with the tracks), or nothing is read ('then' names what to do after
    clustering again)."""
    with translated(), connection(db, read_only=True) as con:
        if run_id is not None:
            run = resolve_run(con, run_id)
            if then:
                check_run_data(con, run, then=then)
        return con.sql(sql, params=params).pl()


class Run:
    """A clustering run in the warehouse: its tables as polars DataFrames, read on first use.

    run_id, k, silhouette and record (its `runs` row) say what the run is; summary,
    profiles, genres, distinctive and assignments are its tables; chart(name) and charts()
    draw it. result: the ClusterResult when the run was made here (None when found by id).
    """

    def __init__(self, db: str | Path, run_id: int, result: ClusterResult | None = None):
        self.db = Path(db)
        self.run_id = run_id
        self.result = result

    @classmethod
    def find(cls, db: str | Path, run_id: int | None = None) -> Run:
        """Run run_id of the warehouse (None: the latest run); refused if there is none."""
        with translated(), connection(db, read_only=True) as con:
            record = resolve_run(con, run_id)
        run = cls(db, record["run_id"])
        run.__dict__["record"] = record  # read already: the cached_property's value
        return run

    @cached_property
    def record(self) -> dict[str, Any]:
        """The run's row of `runs`: its config, metrics, timings and versions."""
        with translated(), connection(self.db, read_only=True) as con:
            return resolve_run(con, self.run_id)

    @property
    def k(self) -> int:
        return self.result.config.k if self.result else self.record["k"]

    @property
    def silhouette(self) -> float | None:
        return self.result.metrics["silhouette"] if self.result else self.record["silhouette"]

    @cached_property
    def summary(self) -> pl.DataFrame:
        """One row per cluster: size, share, label, top_genres, distinctive_features."""
        return self._read("queries/run_summary.sql", then="read its summary")

    @cached_property
    def profiles(self) -> pl.DataFrame:
        """Per cluster and feature, describe()'s numbers: count, mean, std, min, p25, p50,
        p75, max; in_model says whether the run clustered on the feature."""
        return self._read("queries/run_profiles.sql")

    @cached_property
    def genres(self) -> pl.DataFrame:
        """Tracks of each genre in each cluster: share_of_cluster, share_of_genre and
        rank_in_cluster (1: the cluster's most common genre)."""
        return self._read("queries/run_genres.sql", then="read its genres")

    @cached_property
    def distinctive(self) -> pl.DataFrame:
        """Per cluster and feature, z (the cluster's mean in standard deviations from the
        mean of all the run's rows), the raw mean, and rank by |z| (1: the most distinctive;
        summary's distinctive_features are ranks 1 to 3)."""
        return self._read("queries/run_distinctive.sql")

    @cached_property
    def assignments(self) -> pl.DataFrame:
        """One row per row the run clustered, in file order: its cluster and cluster_label,
        pc1, pc2, distance to the centroid, and the track's details and features (the rows
        `spotclust export` writes; PyCaret's assign_model)."""
        with translated(), connection(self.db, read_only=True) as con:
            check_run_data(con, resolve_run(con, self.run_id), then="read its assignments")
            return con.sql(export_query(con), params={"run_id": self.run_id}).pl()

    def chart(self, name: str) -> alt.TopLevelMixin:
        """One chart of the run as an Altair chart: correlations, pca_map, elbow, profiles,
        sizes, top_genres, genre_heatmap, pca_loadings or stability (the pages of
        `spotclust charts`)."""
        from spotclust.charts import CHARTS, chart_run

        entries = {entry.name: entry for entry in CHARTS}
        if name not in entries:
            raise ConfigError(f"no chart {name!r}: use one of {', '.join(entries)}")
        with translated(), connection(self.db, read_only=True) as con:
            run = chart_run(con, self.run_id)
            check_run_data(con, run, then="draw the charts")
            return entries[name].build(con, run, None)  # None: the latest sweep

    def charts(self) -> dict[str, alt.TopLevelMixin]:
        """Every chart of the run, by name, in the order of the index page."""
        from spotclust.charts import build_charts

        with translated():
            _, built = build_charts(self.db, self.run_id)
        return {entry.name: chart for entry, chart in built}

    def _read(self, sql_file: str, then: str = "") -> pl.DataFrame:
        params = {"run_id": self.run_id}
        return read_frame(self.db, read_sql(sql_file), params, self.run_id, then)

    @property
    def rows_used(self) -> int:
        return self.result.rows_used if self.result else self.record["rows_used"]

    def __repr__(self) -> str:
        def body() -> str:
            silhouette = "n/a" if self.silhouette is None else f"{self.silhouette:.4f}"
            table = self.summary.select("cluster", "size", pl.col("share").round(3), "label")
            return f": k={self.k}, {self.rows_used:,} rows, silhouette {silhouette}\n{show(table)}"

        return safe_repr(f"Run {self.run_id} of {self.db}", body)


class Sweep:
    """An elbow sweep in the warehouse: table (one row per k, read on first use), chart()
    and what the evidence suggests (suggested_k, suggestion_reason, evidence).

    result: the SweepResult the sweep returned (its rows, and what each rule picked)."""

    def __init__(self, db: str | Path, result: SweepResult):
        self.db = Path(db)
        self.result = result
        self.sweep_id = result.sweep_id

    @property
    def suggested_k(self) -> int | None:
        return self.result.suggested_k

    @property
    def suggestion_reason(self) -> str:
        return self.result.suggestion_reason

    @property
    def evidence(self) -> str:
        return self.result.evidence

    @cached_property
    def table(self) -> pl.DataFrame:
        """Every k: inertia, silhouette, Calinski-Harabasz, Davies-Bouldin, stability and
        gap (null when not measured), and which rule marks it (is_knee, is_suggested, ...)."""
        sql = read_sql("queries/sweep_rows.sql")
        return read_frame(self.db, sql, {"sweep_id": self.sweep_id})

    def chart(self, name: str = "elbow", run_k: int | None = None) -> alt.TopLevelMixin:
        """The elbow chart (inertia and silhouette against k), or with name='stability' the
        stability and gap chart; run_k: a k to draw as a dashed line."""
        from spotclust.charts import elbow_chart, stability_chart

        charts = {"elbow": elbow_chart, "stability": stability_chart}
        if name not in charts:
            raise ConfigError(f"no sweep chart {name!r}: use elbow or stability")
        return charts[name](self.table, run_k=run_k)

    def __repr__(self) -> str:
        def body() -> str:
            measured = [
                column
                for column in ("k", "inertia", "silhouette", "stability_mean", "gap")
                if self.table[column].null_count() < self.table.height
            ]
            return f"\n{show(self.table.select(measured))}"

        head = f"Sweep {self.sweep_id}: suggested k = {self.suggested_k} ({self.evidence})"
        return safe_repr(head, body)
