"""The Python API: every command of the CLI as one function taking `db`.

The function has the command's name, except `charts` (`write_charts`: spotclust.charts is
the package of chart builders) and compare's page (`compare_chart`).

Each function raises only SpotclustError subclasses (a DuckDB error is translated into the
same one line the CLI prints) and imports the modelling and chart stack (scikit-learn,
numba, altair) only when it needs it, so `import spotclust` stays fast.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spotclust.errors import CommittedError, SpotclustError
from spotclust.warehouse.connection import recording_commits
from spotclust.warehouse.errors import translated

if TYPE_CHECKING:
    import polars as pl

    from spotclust.engine import Engine

Db = str | Path | None


def _translated(function: Callable) -> Callable:
    """Raise only SpotclustError; and once something is committed, say so in any failure
    that follows (CommittedError: 'committed run 7; then interrupted (Ctrl-C)')."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        with _translated_block():
            return function(*args, **kwargs)

    return call


@_translated
def ingest(
    path: str | Path | Any = None,
    db: Db = None,
    column_map: dict[str, str] | None = None,
    label_column: str | None = None,
):
    """Load a CSV, .csv.gz or Parquet file (default: the shipped dataset), or a polars or
    pandas DataFrame or a pyarrow Table -> IngestResult.

    Its shape is detected from the header; column_map ({"artists": "Artist", ...}) names
    columns under other names, label_column the column used as the genre. A data frame is
    written to a temporary Parquet file that is ingested as any file is; the ingests row
    names it '<polars.DataFrame>' (or pandas, pyarrow).
    """
    if path is not None and not isinstance(path, str | os.PathLike):
        from spotclust.files.frames import ingest_frame

        return ingest_frame(path, db, column_map, label_column)
    from spotclust.files.ingest import ingest as run_ingest

    return run_ingest(path, db, column_map, label_column)


def read_column_map(pairs: Sequence[str] = (), mapping_file: str | Path | None = None):
    """CANONICAL=COLUMN pairs, over those of a TOML or JSON mapping file -> dict."""
    from spotclust.files.shapes import read_column_map as read

    return read(pairs, mapping_file)


def _config(k: int, options: dict):
    from spotclust.model.config import ClusterConfig

    return ClusterConfig(k=k, **options)


@_translated
def cluster(
    k: int = 4,
    db: Db = None,
    on_stage: Callable[[str], None] | None = None,
    engine: Engine | str | None = None,
    **options,
):
    """Cluster the clean tracks into k groups -> ClusterResult; options are ClusterConfig
    fields (features, pca_components, seed, n_init, row_rule, algorithm, ...). engine:
    'local' (default), 'spark', or an Engine (Spark's master, settings, stage directory)."""
    from spotclust.engine import as_engine
    from spotclust.runs.cluster import run

    return run(_config(k, options), db, on_stage, as_engine(engine))


@_translated
def repeat(
    run_id: int,
    db: Db = None,
    on_stage: Callable[[str], None] | None = None,
    engine: Engine | str | None = None,
):
    """Run a recorded run again with its config (on engine: local by default)
    -> (ClusterResult, RepeatCheck)."""
    from spotclust.engine import as_engine
    from spotclust.runs.repeat import repeat as run_repeat

    return run_repeat(run_id, db, on_stage, as_engine(engine))


@_translated
def sweep(
    ks: str | Iterable[int] = range(2, 13),
    db: Db = None,
    on_k: Callable[[int], None] | None = None,
    score_silhouette: bool = True,
    stability_pairs: int | None = None,
    gap_refs: int | None = 0,
    engine: Engine | str | None = None,
    **options,
):
    """Fit and score k-means for every k (a range such as '2..12', or ints) -> SweepResult.

    stability_pairs: resample pairs per k (None: the default, 10; 0 skips stability).
    gap_refs: reference datasets per k for the gap statistic (None: the default, 5; 0 skips).
    engine: where the k-means fits run, as for cluster().
    on_k(k) is called as the fits of each k are done (they run side by side, in any order).
    """
    from spotclust.engine import as_engine
    from spotclust.model.config import parse_k_range
    from spotclust.model.selection import DEFAULT_GAP_REFS, DEFAULT_STABILITY
    from spotclust.runs.sweep import sweep as run_sweep

    ks = parse_k_range(ks) if isinstance(ks, str) else sorted(set(ks))
    return run_sweep(
        ks,
        _config(2, options),  # k itself comes from the range
        db,
        on_k=on_k,
        score_silhouette=score_silhouette,
        stability_pairs=DEFAULT_STABILITY if stability_pairs is None else stability_pairs,
        gap_refs=DEFAULT_GAP_REFS if gap_refs is None else gap_refs,
        engine=as_engine(engine),
    )


@_translated
def query(
    sql: str,
    params: dict[str, Any] | None = None,
    db: Db = None,
    *,
    write: bool = False,
    external_access: bool = False,
) -> tuple[list[str], list[tuple]]:
    """Run SQL on the warehouse (read-only, no file access, unless asked) -> (columns, rows)."""
    from spotclust.warehouse import run_query

    return run_query(sql, params, db, write=write, external_access=external_access)


@_translated
def sql(
    query: str,
    params: dict[str, Any] | None = None,
    db: Db = None,
    *,
    write: bool = False,
    external_access: bool = False,
) -> pl.DataFrame:
    """query(), its result as a polars DataFrame, typed as DuckDB typed it."""
    from spotclust.warehouse.query import run_query_frame

    return run_query_frame(query, params, db, write=write, external_access=external_access)


@contextmanager
def query_batches(
    sql: str,
    params: dict[str, Any] | None = None,
    db: Db = None,
    *,
    write: bool = False,
    external_access: bool = False,
    batch_rows: int = 10_000,
) -> Iterator[tuple[list[str], Iterator[list[tuple]]]]:
    """query(), its rows read a batch at a time while the block runs, in flat memory::

        with spotclust.query_batches("SELECT * FROM tracks") as (columns, batches):
            for batch in batches:  # lists of at most batch_rows tuples
                ...

    With write, the transaction commits when the block ends (rolls back if it raises).
    """
    from spotclust.warehouse import stream_query

    with (
        _translated_block(),
        stream_query(
            sql, params, db, write=write, external_access=external_access, batch_rows=batch_rows
        ) as (columns, batches),
    ):
        yield columns, batches


@contextmanager
def _translated_block() -> Iterator[None]:
    """Only SpotclustError out of the block; a failure or Ctrl-C after a commit in it is
    raised as CommittedError (_translated for a call, and query_batches' block)."""
    with recording_commits() as commits:
        try:
            with translated():
                yield
        except CommittedError:
            raise
        except KeyboardInterrupt:
            if commits:
                raise CommittedError(commits[-1], "then interrupted (Ctrl-C)") from None
            raise
        except SpotclustError as exc:
            if commits:
                raise CommittedError(commits[-1], f"then: {exc}") from exc
            raise


@_translated
def tables(db: Db = None) -> list[tuple[str, str, int | None, str]]:
    """(name, 'table' | 'view', rows, description) of everything a user can query."""
    from spotclust.warehouse import connection, list_relations

    with connection(db, read_only=True) as con:
        return list_relations(con)


@_translated
def write_charts(
    run_id: int | None = None,
    out_dir: str | Path | None = None,
    fmt: str = "html",
    db: Db = None,
    sweep_id: int | None = None,
    *,
    refresh: bool = False,
) -> Path | None:
    """Write one page per chart of a run (default: the latest) and an index -> its path.

    out_dir None: charts/<the warehouse file's stem>/run-<id>/. sweep_id: the sweep that the
    elbow and stability pages draw (default: the latest). refresh: only rewrite those two
    pages of the latest run, where they were written before, drawing sweep_id -> the index
    beside them, or None when there was none to rewrite (or the run is of replaced data).
    """
    from spotclust.charts.pages import refresh_sweep_pages, save_all

    if refresh:
        pages = refresh_sweep_pages(db, sweep_id, out_dir)
        return pages[0].with_name("index.html") if pages else None
    return save_all(db, run_id, out_dir, fmt, sweep_id)


@_translated
def place(
    songs: Sequence[dict] = (),
    track_ids: Sequence[str] = (),
    run_id: int | None = None,
    db: Db = None,
    neighbours: int = 10,
    song_file: str | Path | None = None,
):
    """Place songs (dicts of features), warehouse tracks and the songs of a CSV/JSON file into
    a run's clusters -> (RunModel, [Placement])."""
    from spotclust.files.songs import read_songs
    from spotclust.runs.place import place as run_place

    every_song = [*songs, *(read_songs(song_file) if song_file else [])]
    return run_place(every_song, list(track_ids), run_id, db, neighbours)


@_translated
def explain(run_id: int | None = None, top: int = 5, db: Db = None):
    """Why each cluster is what it is -> (run_id, [Explanation])."""
    from spotclust.runs.explain import explain as run_explain

    return run_explain(run_id, top, db)


@_translated
def compare(run_a: int, run_b: int, db: Db = None):
    """Two runs over their common tracks: adjusted Rand, NMI, contingency -> Comparison."""
    from spotclust.runs.compare import compare as run_compare

    return run_compare(run_a, run_b, db)


@_translated
def compare_chart(comparison, out: str | Path | None = None) -> Path:
    """The contingency heatmap of a Comparison as an HTML page -> its path."""
    from spotclust.runs.compare import save_chart

    return save_chart(comparison, out)


@_translated
def export(
    run_id: int | None = None, fmt: str | None = None, *, out: str | Path, db: Db = None
) -> tuple[Path, int]:
    """Write a run's assignments with track details to Parquet or CSV -> (path, rows)."""
    from spotclust.files.export import export as run_export

    return run_export(run_id, fmt, out=out, db=db)


@_translated
def synth(rows: int, out: str | Path, seed: int = 0, source: str | Path | None = None) -> Path:
    """Write synthetic tracks with the dataset's schema and per-genre distributions."""
    from spotclust.files.synth import synthesize

    return synthesize(rows, out, seed=seed, source=source)


def shipped_dataset() -> Path:
    """The Spotify Tracks dataset that ships inside the package (see data/SOURCE.md)."""
    from spotclust.files.ingest import shipped_dataset as path

    return path()


@_translated
def check(db: Db = None):
    """Verify the warehouse end to end, read-only -> CheckReport (findings, problems): it
    opens, its schema version, every table and view reads to its end, and the rows agree."""
    from spotclust.warehouse.check import check as run_check

    return run_check(db)


@_translated
def list_runs(db: Db = None):
    """Every run, oldest first -> polars.DataFrame of run_id, status, k, features,
    silhouette, rows_used, created_at."""
    from spotclust.runs.manage import list_runs

    return list_runs(db)


@_translated
def run_rows(db: Db = None) -> tuple[list[str], list[tuple]]:
    """list_runs as (columns, rows) of plain values: what `spotclust runs` prints, without
    loading polars."""
    from spotclust.runs.manage import run_rows

    return run_rows(db)


@_translated
def delete_runs(run_ids: Iterable[int], db: Db = None) -> list[int]:
    """Delete every row of these runs (every table with a run_id), in one transaction ->
    their ids. An id the warehouse holds nothing of is refused, and nothing is deleted."""
    from spotclust.runs.manage import delete

    return delete(run_ids, db)


@_translated
def keep_runs(last: int, db: Db = None) -> list[int]:
    """Delete every run but the `last` most recent, in one transaction -> the ids deleted."""
    from spotclust.runs.manage import keep

    return keep(last, db)


@_translated
def report(run_id: int | None = None, out: str | Path | None = None, db: Db = None) -> Path:
    """One self-contained report.html telling a run's story (default: the latest run) with
    its numbers and a few charts -> its path (out None: report.html in the run's charts
    folder, charts/<warehouse>/run-<id>/)."""
    from spotclust.charts.report_page import write_report
    from spotclust.runs.report import report_sections

    run, sections = report_sections(run_id, db)
    return write_report(db, run, sections, out)
