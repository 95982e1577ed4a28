"""The notebook API: spotclust.open() -> Warehouse, the views of runs and sweeps, explain,
place and compare as DataFrames, spotclust.sql(), ingesting a DataFrame; and the
walk-through docs/notebook.py and the README's notebook block, run as written."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import altair as alt
import duckdb
import polars as pl
import pyarrow.csv as pacsv
import pytest
from support.processes import run_command

import spotclust
from spotclust.charts import CHARTS
from spotclust.errors import ConfigError, InputFileError, WarehouseError
from spotclust.notebook import Warehouse
from spotclust.readings import Explanations, Placements, RunComparison
from spotclust.results import Run, Sweep

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
NOTEBOOK = ROOT / "docs" / "notebook.py"
Chart = alt.TopLevelMixin


@pytest.fixture
def clustered_db(tmp_path, clustered_template) -> Path:
    """The small fixture clustered (run 1, k=3) and swept (k=2..4), a copy of its own."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    return db


# ------------------------------------------------------------------------- the warehouse


def test_open_holds_the_path_only(tmp_path, monkeypatch, clustered_db):
    monkeypatch.chdir(tmp_path)
    with spotclust.open("w.duckdb") as wh:
        assert isinstance(wh, Warehouse) and wh.path == clustered_db
        run = wh.run()
        assert run.summary.height == 3
        # Between calls nothing holds the file: another process's writer could open it.
        con = duckdb.connect(str(clustered_db))
        con.close()
    monkeypatch.setenv("SPOTCLUST_DB", str(tmp_path / "other.duckdb"))
    fresh = spotclust.open()
    assert fresh.path == tmp_path / "other.duckdb"
    assert "no warehouse yet" in repr(fresh) and not fresh.path.exists()  # opens nothing
    with pytest.raises(WarehouseError, match="no warehouse at"):
        fresh.tables()


def test_a_run_found_by_id_reads_its_tables_as_typed_dataframes(clustered_db):
    wh = spotclust.open(clustered_db)
    run = wh.run(1)
    assert (run.run_id, run.k, run.result) == (1, 3, None)
    assert run.record["rows_used"] == 55 and 0 < run.silhouette <= 1
    assert run.summary.schema == pl.Schema(
        {"run_id": pl.Int32, "cluster": pl.Int32, "size": pl.Int64, "share": pl.Float64,
         "label": pl.String, "top_genres": pl.List(pl.String),
         "distinctive_features": pl.String}
    )  # fmt: skip
    assert run.summary["size"].sum() == 55
    assert set(run.profiles["cluster"]) == {0, 1, 2}
    assert {"feature", "in_model", "count", "mean", "std", "p50"} <= set(run.profiles.columns)
    assert run.genres.filter(pl.col("rank_in_cluster") == 1).height == 3
    # distinctive: ranks 1..3 are the summary's distinctive_features, in that order
    top = run.distinctive.filter(pl.col("rank") <= 3)
    for cluster, text in run.summary.select("cluster", "distinctive_features").iter_rows():
        names = [part.split(" ")[0] for part in text.split(", ")]
        assert top.filter(pl.col("cluster") == cluster)["feature"].to_list() == names
    # assignments: the rows `export` writes, with the cluster's label
    path, rows = wh.export(clustered_db.parent / "run.parquet")
    assert run.assignments.equals(pl.read_parquet(path)) and rows == 55
    assert {"track_id", "track_name", "artists", "genre", "cluster", "cluster_label", "pc1",
            "pc2", "danceability"} <= set(run.assignments.columns)  # fmt: skip
    assert wh.run().run_id == 1  # None: the latest


def test_views_read_once_and_say_when_the_run_is_gone(clustered_db):
    wh = spotclust.open(clustered_db)
    run = wh.run()
    summary = run.summary
    assert wh.delete_runs([run]) == [1]
    assert run.summary is summary  # kept from the first read
    with pytest.raises(ConfigError, match="no run 1"):
        _ = run.profiles
    with pytest.raises(ConfigError, match="no run 1"):
        wh.run(1)
    assert "no run 1" in repr(Run(clustered_db, 1))  # a repr never raises


def test_a_run_of_replaced_data_keeps_only_its_own_tables(clustered_db, small_csv):
    wh = spotclust.open(clustered_db)
    wh.ingest(pl.read_csv(small_csv).head(30))  # other data: the run's tracks are gone
    run = wh.run()
    assert run.profiles.height > 0 and run.distinctive.height > 0  # the run's own rows
    for table in ("summary", "genres", "assignments"):
        with pytest.raises(ConfigError, match="clustered other data than the warehouse holds"):
            getattr(run, table)


def test_run_charts_are_altair_charts(clustered_db):
    run = spotclust.open(clustered_db).run()
    charts = run.charts()
    assert list(charts) == [entry.name for entry in CHARTS]
    assert all(isinstance(chart, Chart) for chart in charts.values())
    pca_map = run.chart("pca_map")
    assert isinstance(pca_map, Chart) and pca_map.to_dict()  # a valid Vega-Lite spec
    with pytest.raises(ConfigError, match="no chart 'nope': use one of correlations"):
        run.chart("nope")


def test_cluster_and_sweep_return_views_with_short_reprs(small_db):
    wh = spotclust.open(small_db)
    run = wh.cluster(3, n_init=2)
    assert isinstance(run, Run) and run.run_id == 1 and run.result.run_id == 1
    assert run.summary.height == 3 and run.k == 3
    text = repr(run)
    assert text.startswith(f"Run 1 of {small_db}: k=3, 55 rows, silhouette 0.")
    assert text.splitlines()[1].split() == ["cluster", "size", "share", "label"]
    assert len(text.splitlines()) == 5  # the head, the header, one line per cluster

    sweep = wh.sweep("2..4", stability_pairs=0, n_init=2)
    assert isinstance(sweep, Sweep) and sweep.sweep_id == 1
    assert sweep.table["k"].to_list() == [2, 3, 4]
    assert sweep.table["inertia"].dtype == pl.Float64
    assert sweep.table.filter("is_suggested")["k"].to_list() == [sweep.suggested_k]
    assert isinstance(sweep.chart(), Chart) and isinstance(sweep.chart("stability"), Chart)
    assert repr(sweep).startswith(f"Sweep 1: suggested k = {sweep.suggested_k} (")
    assert repr(sweep).splitlines()[1].split() == ["k", "inertia", "silhouette"]


def test_explain_place_and_compare_give_dataframes(clustered_db):
    wh = spotclust.open(clustered_db)
    explained = wh.explain(top=3)
    assert isinstance(explained, Explanations) and explained.run_id == 1
    assert explained.clusters["size"].sum() == 55
    assert explained.effects.columns == ["cluster", "feature", "mean", "rest_mean", "cohens_d"]
    assert explained.effects.group_by("cluster").len()["len"].to_list() == [3, 3, 3]
    assert explained.genres_by_share.height > 0 and "lift" in explained.genres_by_lift.columns
    assert explained.representative["distance"].dtype == pl.Float64
    assert repr(explained).startswith("Explanations of run 1\ncluster 0 (")

    placed = wh.place([{"name": "Mine", "energy": 0.9}], track_ids=[], neighbours=2)
    assert isinstance(placed, Placements) and placed.run_id == 1
    assert placed.table["name"].to_list() == ["Mine"] and 0 <= placed.table["cluster"][0] < 3
    assert "danceability" in placed.table["assumed"][0]  # not given: the run's mean
    assert placed.distances.height == 3 and placed.neighbours.height == 2
    assert repr(placed).splitlines()[1].split() == ["name", "cluster", "label", "typicality"]

    other = wh.cluster(2, n_init=2)
    comparison = wh.compare(1, other)
    assert isinstance(comparison, RunComparison) and (comparison.run_a, comparison.run_b) == (1, 2)
    assert comparison.contingency["tracks"].sum() == comparison.common_tracks == 55
    assert comparison.contingency.schema["share_of_a"] == pl.Float64
    assert isinstance(comparison.chart(), Chart)
    assert repr(comparison).startswith("run 1 (k=3) vs run 2 (k=2): 55 common tracks")


def test_tables_runs_and_keeping_runs(clustered_db):
    wh = spotclust.open(clustered_db)
    tables = wh.tables()
    assert tables.columns == ["name", "kind", "rows", "description"]
    assert tables.filter(pl.col("name") == "assignments")["rows"].to_list() == [55]
    wh.cluster(2, n_init=1)
    wh.cluster(4, n_init=1)
    assert wh.runs()["run_id"].to_list() == [1, 2, 3]
    assert wh.keep_runs(2) == [1]
    assert wh.runs()["run_id"].to_list() == [2, 3]


# ------------------------------------------------------------------------------- SQL


def test_sql_returns_polars_typed_as_duckdb_types_it(clustered_db):
    frame = spotclust.sql(
        "SELECT run_id, cluster, size, share, top_genres, $x AS x, now() AS t, true AS b "
        "FROM cluster_summary WHERE run_id = $run ORDER BY cluster",
        {"run": 1, "x": "given"},
        db=clustered_db,
    )
    assert isinstance(frame, pl.DataFrame) and frame.height == 3
    assert frame.schema == pl.Schema(
        {"run_id": pl.Int32, "cluster": pl.Int32, "size": pl.Int64, "share": pl.Float64,
         "top_genres": pl.List(pl.String), "x": pl.String,
         "t": pl.Datetime("us", frame.schema["t"].time_zone), "b": pl.Boolean}
    )  # fmt: skip
    assert frame["x"].to_list() == ["given"] * 3
    empty = spotclust.open(clustered_db).sql("SELECT k FROM runs WHERE false")
    assert empty.height == 0 and empty.schema == pl.Schema({"k": pl.Int32})
    # query() keeps its shape, and both say the same about the same mistake
    columns, rows = spotclust.query("SELECT count(*) AS n FROM runs", db=clustered_db)
    assert (columns, rows) == (["n"], [(1,)])
    with pytest.raises(WarehouseError) as as_frame:
        spotclust.sql("SELEC 1", db=clustered_db)
    with pytest.raises(WarehouseError) as as_rows:
        spotclust.query("SELEC 1", db=clustered_db)
    assert str(as_frame.value) == str(as_rows.value)


def test_sql_is_read_only_unless_asked(clustered_db):
    wh = spotclust.open(clustered_db)
    with pytest.raises(WarehouseError):
        wh.sql("CREATE TABLE mine AS SELECT 1 AS one")
    with pytest.raises(WarehouseError):
        wh.sql("SELECT * FROM read_csv('/etc/passwd')")
    made = wh.sql("CREATE TABLE mine AS SELECT 1 AS one", write=True)
    assert isinstance(made, pl.DataFrame)
    assert wh.sql("SELECT one FROM mine")["one"].to_list() == [1]


# ------------------------------------------------------------------- ingesting frames


def _frame(kind: str, path: Path):
    if kind == "polars.DataFrame":
        return pl.read_csv(path)
    if kind == "pyarrow.Table":
        return pacsv.read_csv(path)
    # pandas is only a dev extra (installed in .venv): without it, polars and Arrow are tested
    return pytest.importorskip("pandas").read_csv(path)


@pytest.mark.parametrize("kind", ["polars.DataFrame", "pandas.DataFrame", "pyarrow.Table"])
def test_ingesting_a_dataframe_applies_every_check_of_a_file(
    tmp_path, small, small_csv, query, kind
):
    frame = _frame(kind, small_csv)
    db = tmp_path / "w.duckdb"
    result = spotclust.open(db).ingest(frame)
    assert str(result.source) == f"<{kind}>" and result.rows == 60
    assert result.clean_tracks == 55 and not result.unchanged
    assert query(db, "SELECT source_path, source_format FROM ingests") == [(f"<{kind}>", "parquet")]
    report = query(db, "SELECT step, name, rows_in, rows_out FROM cleaning_report")
    assert report == small.expected_report  # the planted problems found as in the file
    assert spotclust.ingest(frame, db).unchanged  # the same rows again: nothing to do


def test_a_dataframe_that_cannot_be_ingested_is_named_in_the_error(tmp_path, small_csv):
    wh = spotclust.open(tmp_path / "w.duckdb")
    frame = pl.read_csv(small_csv)
    with pytest.raises(InputFileError, match=r"^<polars\.DataFrame> has a header but no data"):
        wh.ingest(frame.head(0))
    with pytest.raises(InputFileError, match=r"^<polars\.DataFrame>: column energy"):
        wh.ingest(frame.with_columns(energy=pl.lit("loud")))
    with pytest.raises(InputFileError, match="cannot ingest a builtins.list: give a path"):
        wh.ingest([{"energy": 0.5}])
    assert not wh.path.exists()  # a failed first ingest leaves no warehouse


def test_reading_a_warehouse_loads_no_modelling_or_chart_stack(tmp_path, clustered_db):
    code = (
        "import json, sys, spotclust\n"
        f"wh = spotclust.open({str(clustered_db)!r})\n"
        "run = wh.run()\n"
        "run.summary, run.profiles, run.genres, run.assignments, wh.sql('SELECT 1'), wh.tables()\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    done = run_command([sys.executable, "-c", code], cwd=tmp_path, timeout=120)
    assert done.exit_code == 0, done.stderr
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "polars" in loaded and not loaded & {"sklearn", "numba", "altair", "vl_convert"}


# -------------------------------------------------------------------- the walk-throughs


def test_the_readme_notebook_block_runs(tmp_path, monkeypatch, small_csv):
    """The README's notebook block as written, on the small fixture (the shipped dataset's
    place taken by the 60-row file, to keep it quick)."""
    block = README.split("### In a notebook", 1)[1].split("```python\n", 1)[1]
    block = block.split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("spotclust.files.ingest.shipped_dataset", lambda: small_csv)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert isinstance(scope["sweep"], Sweep) and isinstance(scope["run"], Run)
    assert isinstance(scope["placed"].table, pl.DataFrame)
    assert spotclust.open().runs()["k"].to_list() == [4, 5]


def test_the_notebook_walkthrough_runs_on_the_shipped_data(tmp_path, monkeypatch):
    """docs/notebook.py, cell by cell as a script, on the full dataset (sweep k = 2..5)."""
    source = NOTEBOOK.read_text()
    assert '"2..8"' in source and "# %%" in source
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPOTCLUST_DB", str(tmp_path / "w.duckdb"))
    scope: dict = {}
    exec(compile(source.replace('"2..8"', '"2..5"'), str(NOTEBOOK), "exec"), scope)
    assert scope["wh"].path == tmp_path / "w.duckdb"
    assert scope["ingested"].rows == 114_000
    assert scope["correlations"].height == 8
    assert scope["sweep"].table["k"].to_list() == [2, 3, 4, 5]
    run = scope["run"]
    for table in (run.summary, run.profiles, run.genres, run.assignments):
        assert isinstance(table, pl.DataFrame) and table.height > 0
    assert run.summary.height == 4 and run.assignments.height == 88_732
    assert isinstance(run.chart("pca_map"), Chart) and isinstance(scope["sweep"].chart(), Chart)
    assert scope["placed"].table["name"].to_list() == ["My song"]
    assert scope["explained"].effects.height > 0
    assert 0 < scope["comparison"].adjusted_rand <= 1
    assert isinstance(scope["comparison"].chart(), Chart)
    assert scope["wh"].runs()["k"].to_list() == [4, 5]
