"""The warehouse as one object, for notebooks: `wh = spotclust.open("w.duckdb")`.

A Warehouse holds the path of the warehouse file and nothing else. Every method opens a
DuckDB connection for its own work and closes it before it returns (the API functions do),
so a notebook never holds the warehouse between cells, and the CLI or another notebook can
use it meanwhile. Tables come back as polars DataFrames; runs and sweeps as views that read
their tables on first use (results.py); explain, place and compare as DataFrames too
(readings.py); charts as Altair charts, which show themselves in Jupyter.

    import spotclust
    with spotclust.open("warehouse/spotclust.duckdb") as wh:
        wh.ingest()                         # the shipped dataset, a file or a DataFrame
        run = wh.cluster(4)
        run.summary                         # a polars DataFrame
        run.chart("pca_map")                # an Altair chart
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from spotclust import api
from spotclust.readings import Explanations, Placements, RunComparison
from spotclust.results import Run, Sweep

if TYPE_CHECKING:
    from spotclust.files.ingest import IngestResult

RunRef = int | Run | None  # a run id, a Run, or None: the latest run


def _run_id(run: RunRef) -> int | None:
    return run.run_id if isinstance(run, Run) else run


class Warehouse:
    """A spotclust warehouse (a DuckDB file), by its path: every command as a method.

    The path is made absolute when the object is made, so a notebook that changes folder
    keeps its warehouse. Nothing is opened until a method needs it, and then only for that
    call; `with spotclust.open(...) as wh:` is allowed, and closing it is a no-op.
    """

    def __init__(self, db: str | os.PathLike | None = None):
        from spotclust.warehouse import default_db_path

        self.path = Path(db if db is not None else default_db_path()).absolute()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None  # no connection is held between calls: nothing to close

    def __repr__(self) -> str:
        state = "" if self.path.is_file() else " (no warehouse yet: ingest creates it)"
        return f"Warehouse({str(self.path)!r}){state}"

    # ------------------------------------------------------------------------- data in

    def ingest(
        self,
        source: Any = None,
        *,
        column_map: dict[str, str] | None = None,
        label_column: str | None = None,
    ) -> IngestResult:
        """Load a CSV, .csv.gz or Parquet file, or a polars or pandas DataFrame or a pyarrow
        Table (default: the shipped dataset); replaces the warehouse's data -> IngestResult."""
        return api.ingest(source, self.path, column_map, label_column)

    # ---------------------------------------------------------------------- clustering

    def cluster(
        self, k: int = 4, *, on_stage: Callable[[str], None] | None = None, **options: Any
    ) -> Run:
        """Cluster the clean tracks into k groups -> Run; options as spotclust.cluster's
        (features, pca_components, seed, n_init, row_rule, algorithm, ..., engine='spark')."""
        result = api.cluster(k, self.path, on_stage, **options)
        return Run(self.path, result.run_id, result)

    def run(self, run: int | None = None) -> Run:
        """A run already in the warehouse (default: the latest) -> Run."""
        return Run.find(self.path, run)

    def sweep(
        self,
        ks: str | Iterable[int] = "2..12",
        *,
        score_silhouette: bool = True,
        stability_pairs: int | None = None,
        gap_refs: int | None = 0,
        on_k: Callable[[int], None] | None = None,
        **options: Any,
    ) -> Sweep:
        """The elbow step: fit and score k-means for every k ('2..12', or ints) -> Sweep.

        stability_pairs: resample pairs per k (None: 10; 0 skips stability); gap_refs:
        reference datasets for the gap statistic (0 skips it); options as cluster's."""
        result = api.sweep(
            ks, self.path, on_k, score_silhouette, stability_pairs, gap_refs, **options
        )
        return Sweep(self.path, result)

    # ------------------------------------------------------------------- reading a run

    def place(
        self,
        songs: Sequence[dict] = (),
        track_ids: Sequence[str] = (),
        *,
        run: RunRef = None,
        neighbours: int = 10,
        song_file: str | Path | None = None,
    ) -> Placements:
        """Place songs (dicts of audio features, and an optional "name"), warehouse tracks by
        id, and the songs of a CSV or JSON file into a run's clusters -> Placements."""
        model, placed = api.place(songs, track_ids, _run_id(run), self.path, neighbours, song_file)
        return Placements(model, placed)

    def explain(self, run: RunRef = None, *, top: int = 5) -> Explanations:
        """Why each cluster of a run is what it is -> Explanations."""
        run_id, explanations = api.explain(_run_id(run), top, self.path)
        return Explanations(run_id, explanations)

    def compare(self, a: int | Run, b: int | Run) -> RunComparison:
        """Two runs over their common tracks: adjusted Rand, NMI, contingency."""
        return RunComparison(api.compare(_run_id(a), _run_id(b), self.path))

    def export(
        self, out: str | Path, *, run: RunRef = None, fmt: str | None = None
    ) -> tuple[Path, int]:
        """Write a run's assignments with the tracks' details to Parquet or CSV (by out's
        suffix, or fmt) -> (path, rows)."""
        return api.export(_run_id(run), fmt, out=out, db=self.path)

    def charts(
        self, run: RunRef = None, *, out_dir: str | Path | None = None, fmt: str = "html"
    ) -> Path:
        """Write a page per chart of a run (html, png or svg) and an index page -> the
        index's path; out_dir as `spotclust charts --out` (None: its default)."""
        return api.write_charts(_run_id(run), out_dir, fmt, self.path)

    def report(self, run: RunRef = None, *, out: str | Path | None = None) -> Path:
        """Write a run's report.html (one self-contained page) -> its path; out as
        `spotclust report --out` (None: report.html in the run's charts folder)."""
        return api.report(_run_id(run), out, self.path)

    # --------------------------------------------------------------------- SQL and runs

    def sql(
        self,
        query: str,
        params: dict[str, Any] | None = None,
        *,
        write: bool = False,
        external_access: bool = False,
    ) -> pl.DataFrame:
        """Run SQL on the warehouse ($name parameters bound from params) -> a polars
        DataFrame, typed as DuckDB typed it; read-only and without file access unless asked."""
        return api.sql(query, params, self.path, write=write, external_access=external_access)

    def tables(self) -> pl.DataFrame:
        """Every table and view you can query: name, kind, rows, description."""
        return pl.DataFrame(
            api.tables(self.path),
            schema={"name": pl.String, "kind": pl.String, "rows": pl.Int64,
                    "description": pl.String},
            orient="row",
        )  # fmt: skip

    def runs(self) -> pl.DataFrame:
        """One row per clustering run (spotclust.list_runs)."""
        return api.list_runs(db=self.path)

    def delete_runs(self, run_ids: Iterable[int | Run]) -> list[int]:
        """Delete these runs and everything written with them -> the ids deleted."""
        return api.delete_runs([_run_id(run) for run in run_ids], db=self.path)

    def keep_runs(self, last: int) -> list[int]:
        """Delete every run but the last `last` -> the ids deleted."""
        return api.keep_runs(last, db=self.path)


def open(db: str | os.PathLike | None = None) -> Warehouse:
    """The warehouse at db (default: $SPOTCLUST_DB, else warehouse/spotclust.duckdb under the
    current folder) -> Warehouse. Opens nothing yet; also a context manager."""
    return Warehouse(db)
