"""`spotclust compare` and `spotclust export` on real runs: synthetic tracks in three known
groups (write_grouped_csv) clustered with k = 3, k = 4 and k = 3 over every genre listing,
and a cheap round trip on the shipped dataset."""

from __future__ import annotations

import csv
import io
import json
import shutil

import duckdb
import polars as pl
import pytest
import vl_convert
from support.warehouse_state import query

import spotclust
from spotclust import charts
from spotclust.errors import ConfigError, WarehouseError
from spotclust.files.export import export
from spotclust.runs.compare import CONTINGENCY_COLUMNS, compare

EXPORT_COLUMNS = [
    "run_id", "track_id", "row_number", "cluster", "cluster_label", "pc1", "pc2", "distance",
    "artists", "album_name", "track_name", "genre", "genres", "popularity", "duration_ms",
    "explicit", "danceability", "energy", "key", "loudness", "mode", "speechiness",
    "acousticness", "instrumentalness", "liveness", "valence", "tempo", "time_signature",
]  # fmt: skip
TRACKS = 360  # write_grouped_csv: 3 groups x 120 tracks ...
LISTINGS = 372  # ... and 12 of them listed a second time, as disco


@pytest.fixture(scope="module")
def runs_template(tmp_path_factory, grouped_template):
    """Run 1: k=3; run 2: k=4; run 3: k=3 over every genre listing."""
    db = tmp_path_factory.mktemp("runs") / "template.duckdb"
    shutil.copyfile(grouped_template, db)
    spotclust.cluster(k=3, db=db, n_init=3)
    spotclust.cluster(k=4, db=db, n_init=3)
    spotclust.cluster(k=3, db=db, n_init=3, row_rule="listings")
    return db


@pytest.fixture
def db(tmp_path, runs_template):
    copy = tmp_path / "runs.duckdb"
    shutil.copyfile(runs_template, copy)
    return copy


def cells(comparison) -> dict[tuple[int, int], int]:
    return {(c["cluster_a"], c["cluster_b"]): c["tracks"] for c in comparison.contingency}


# --------------------------------------------------------------------------- compare


def test_a_run_compared_with_itself_agrees_completely(runs_template):
    result = compare(1, 1, runs_template)
    assert result.adjusted_rand == pytest.approx(1.0)
    assert result.normalized_mutual_info == pytest.approx(1.0)
    assert cells(result) == {(0, 0): 120, (1, 1): 120, (2, 2): 120}  # diagonal
    assert result.common_tracks == result.tracks_a == result.tracks_b == TRACKS
    assert all(c["share_of_a"] == c["share_of_b"] == 1.0 for c in result.contingency)


def test_k3_against_k4_shows_one_group_split_in_two(runs_template):
    result = compare(1, 2, runs_template)
    assert (result.k_a, result.k_b, result.common_tracks) == (3, 4, TRACKS)
    table = cells(result)
    assert sum(table.values()) == result.common_tracks
    spread = {}
    for (a, _), n in table.items():
        spread.setdefault(a, []).append(n)
    # two clusters of run 1 are kept whole; the third is shared out over two of run 2
    assert sorted(len(parts) for parts in spread.values()) == [1, 1, 2]
    assert all(sum(parts) == 120 for parts in spread.values())
    for a in spread:
        shares = [c["share_of_a"] for c in result.contingency if c["cluster_a"] == a]
        assert sum(shares) == pytest.approx(1.0)
    assert 0.5 < result.adjusted_rand < 1 and 0.5 < result.normalized_mutual_info < 1
    # the other way round: the same agreement, the table transposed
    back = compare(2, 1, runs_template)
    assert back.adjusted_rand == pytest.approx(result.adjusted_rand)
    assert cells(back) == {(b, a): n for (a, b), n in table.items()}


def test_a_listings_run_counts_each_track_once(runs_template):
    result = compare(3, 1, runs_template)
    assert result.tracks_a == result.common_tracks == TRACKS  # 372 listings, 360 tracks
    assert sum(cells(result).values()) == TRACKS
    assert result.adjusted_rand == pytest.approx(1.0)  # the same three groups


def test_cli_compare_prints_the_metrics_and_the_table_and_writes_a_chart(
    runs_template, run_cli, tmp_path
):
    out = tmp_path / "pages" / "k3_k4.html"
    run = run_cli("compare", "1", "2", "--out", out, "--db", runs_template)
    assert run.exit_code == 0, run.output
    first, *rest = run.stdout.splitlines()
    assert first.startswith("run 1 (k=3) vs run 2 (k=4): 360 common tracks (of 360 and 360)")
    assert "adjusted Rand" in first and "NMI" in first
    assert all(name in run.stdout for name in CONTINGENCY_COLUMNS)
    assert rest[-1] == f"Chart: open {out}"
    page = out.read_text()
    assert "vegaEmbed" in page and "where the tracks went" in page and "<script src" not in page


def test_cli_compare_csv_and_json_keep_stdout_parseable(
    runs_template, run_cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    run = run_cli("compare", "1", "2", "--format", "csv", "--no-chart", "--db", runs_template)
    assert run.exit_code == 0, run.output
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert list(rows[0]) == list(CONTINGENCY_COLUMNS)
    assert sum(int(r["tracks"]) for r in rows) == TRACKS
    assert "adjusted Rand" in run.stderr
    run = run_cli("compare", "2", "2", "--format", "json", "--no-chart", "--db", runs_template)
    assert run.exit_code == 0, run.output
    assert len(json.loads(run.stdout)) == 4
    assert not (tmp_path / "charts").exists()
    # without --out the page goes to charts/compare_A_B.html; its path goes to stderr
    run = run_cli("compare", "2", "1", "--format", "json", "--db", runs_template)
    assert run.exit_code == 0, run.output
    assert "Chart: open charts/compare_2_1.html" in run.stderr
    assert (tmp_path / "charts" / "compare_2_1.html").is_file()


def test_contingency_chart_fills_every_cell_and_renders(runs_template):
    result = compare(1, 2, runs_template)
    spec = charts.contingency_chart(result.contingency, 1, 2, note=result.summary).to_dict()
    values = [row for rows in spec["datasets"].values() for row in rows]
    assert len(values) == 3 * 4  # empty pairs of clusters get a cell too
    assert sum(row["tracks"] for row in values) == TRACKS
    assert result.summary in spec["title"]["subtitle"]
    assert vl_convert.vegalite_to_svg(spec).startswith("<svg")


def test_the_compare_page_names_the_clusters_of_both_runs(runs_template, tmp_path):
    from spotclust.readings import RunComparison
    from spotclust.runs.compare import save_chart

    result = compare(1, 2, runs_template)
    with duckdb.connect(str(runs_template), read_only=True) as con:
        expected_a = charts.data.cluster_names(con, 1)
        expected_b = charts.data.cluster_names(con, 2)
    assert (result.names_a, result.names_b) == (expected_a, expected_b)
    assert len(expected_a) == 3 and len(expected_b) == 4
    assert all(" · " in name for name in [*expected_a.values(), *expected_b.values()])
    page = save_chart(result, tmp_path / "compare_1_2.html").read_text()
    for name in [*expected_a.values(), *expected_b.values()]:
        assert json.dumps(name) in page, name  # in the spec, as the page's JSON holds it
    spec = RunComparison(result).chart().to_dict()
    values = [row for rows in spec["datasets"].values() for row in rows]
    assert {row["from"] for row in values} == set(expected_a.values())
    assert {row["to"] for row in values} == set(expected_b.values())


def test_compare_errors_are_one_line(db, run_cli, assert_one_line_error, tmp_path, small_csv):
    assert_one_line_error(run_cli("compare", "1", "99", "--db", db), "no run 99", "SELECT run_id")
    assert_one_line_error(run_cli("compare", "1", "2", "--db", tmp_path / "none.duckdb"), "ingest")
    # other data, other track ids: nothing in common
    spotclust.ingest(small_csv, db)
    other = spotclust.cluster(k=2, db=db, n_init=1).run_id
    line = assert_one_line_error(run_cli("compare", "1", other, "--no-chart", "--db", db))
    assert "no tracks in common" in line and "ingests 1 and 2" in line
    with pytest.raises(ConfigError, match="no run 0"):
        compare(0, 1, db)


# --------------------------------------------------------------------------- export


def assignments(db, run_id: int) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(
            "SELECT track_id, row_number, cluster, pc1, pc2, distance FROM assignments "
            "WHERE run_id = $run_id ORDER BY row_number",
            params={"run_id": run_id},
        ).pl()
    finally:
        con.close()


def test_export_parquet_round_trips(runs_template, tmp_path):
    path, rows = export(2, "parquet", out=tmp_path / "run2.parquet", db=runs_template)
    frame = pl.read_parquet(path)
    assert rows == frame.height == TRACKS
    assert frame.columns == EXPORT_COLUMNS
    assert set(frame["run_id"]) == {2}
    expected = assignments(runs_template, 2)
    assert frame.select(expected.columns).equals(expected)
    # the details are those of the clustered row; genres are all of the track's
    disco = frame.filter(pl.col("track_id") == "dance0010").row(0, named=True)
    assert disco["genre"] == "dance" and disco["genres"] == ["dance", "disco"]
    assert disco["track_name"] == "Song 10" and 0 <= disco["energy"] <= 1
    labels = dict(
        query(runs_template, "SELECT cluster, label FROM cluster_labels WHERE run_id = 2")
    )
    assert labels and all(
        r["cluster_label"] == labels[r["cluster"]] for r in frame.iter_rows(named=True)
    )


def test_export_csv_round_trips_with_genres_joined(runs_template, tmp_path):
    path, rows = export(1, out=tmp_path / "run1.csv", db=runs_template)  # format from suffix
    con = duckdb.connect()
    try:
        frame = con.sql("SELECT * FROM read_csv($path)", params={"path": str(path)}).pl()
    finally:
        con.close()
    assert rows == frame.height == TRACKS and frame.columns == EXPORT_COLUMNS
    expected = assignments(runs_template, 1)
    assert frame["cluster"].to_list() == expected["cluster"].to_list()
    assert frame["track_id"].to_list() == expected["track_id"].to_list()
    genres = dict(zip(frame["track_id"], frame["genres"], strict=True))
    assert genres["dance0010"] == "dance|disco" and genres["metal0000"] == "metal"


def test_cli_export_latest_run_and_listings_rows(runs_template, run_cli, tmp_path):
    out = tmp_path / "latest"  # no suffix: Parquet
    run = run_cli("export", "--out", out, "--db", runs_template)
    assert run.exit_code == 0, run.output
    assert run.stdout.strip() == f"exported {LISTINGS} rows to {out}"
    frame = pl.read_parquet(out)
    assert set(frame["run_id"]) == {3} and frame.height == LISTINGS  # one row per listing
    assert frame["track_id"].n_unique() == TRACKS
    disco = frame.filter(pl.col("track_id") == "dance0010")["genre"].sort().to_list()
    assert disco == ["dance", "disco"]
    # an explicit format wins over the suffix
    out = tmp_path / "odd.parquet"
    run = run_cli("export", "--run", "1", "--format", "csv", "--out", out, "--db", runs_template)
    assert run.exit_code == 0, run.output
    assert out.read_text().startswith('"run_id","track_id"')


def test_export_without_a_cluster_labels_table(db, tmp_path):
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE cluster_labels")  # as in a warehouse from before labels
    con.close()
    path, rows = export(1, out=tmp_path / "x.parquet", db=db)
    frame = pl.read_parquet(path)
    assert rows == TRACKS and frame.columns == EXPORT_COLUMNS
    assert frame["cluster_label"].null_count() == TRACKS


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--run", "99", "--out", "{tmp}/x.parquet"], ["no run 99"]),
        (["--out", "{tmp}/x.txt"], ["x.txt", "--format"]),
        (["--out", "{tmp}/missing/x.csv"], ["missing", "no directory"]),
        (["--out", "{tmp}"], ["is a directory"]),
        (["--out", "{tmp}/a_file/x.csv"], ["no directory"]),
        (["--format", "xlsx", "--out", "{tmp}/x.xlsx"], ["xlsx"]),
    ],
)
def test_export_errors_are_one_line_and_leave_no_file(
    runs_template, run_cli, assert_one_line_error, tmp_path, args, needles
):
    (tmp_path / "a_file").write_text("not a directory")
    before = sorted(tmp_path.iterdir())
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    run = run_cli("export", *args, "--db", runs_template)
    if "xlsx" in args:  # click refuses it before spotclust runs: its own two-line usage error
        assert run.exit_code == 2 and "xlsx" in run.stderr
    else:
        assert_one_line_error(run, *needles)
    assert sorted(tmp_path.iterdir()) == before


def test_export_needs_a_run_on_the_data_held_now(db, tmp_path, small_csv, small_db):
    with pytest.raises(WarehouseError, match="no clustering runs yet"):
        export(out=tmp_path / "x.parquet", db=small_db)
    spotclust.ingest(small_csv, db)  # other data: run 1's row numbers mean nothing now
    with pytest.raises(ConfigError, match="run 1 clustered other data"):
        export(1, out=tmp_path / "x.parquet", db=db)
    assert not (tmp_path / "x.parquet").exists()


# Commands that join a run's row numbers and track ids with the tracks held now.
JOINING_COMMANDS = {
    "charts": (["charts", "--out", "{tmp}/charts"], "charts"),
    "explain": (["explain"], None),
    "export": (["export", "--out", "{tmp}/x.parquet"], "x.parquet"),
}


@pytest.mark.parametrize("command", JOINING_COMMANDS.values(), ids=JOINING_COMMANDS.keys())
def test_a_run_on_replaced_data_is_refused_where_its_tracks_are_joined(
    command, db, grouped_template, small_csv, run_cli, assert_one_line_error, tmp_path
):
    args, output = command
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    # the same file again: row numbers still name the same tracks, so the run is usable
    again = run_cli("ingest", grouped_template.parent / "grouped.csv", "--db", db)
    assert again.exit_code == 0, again.output
    run = run_cli(*args, "--db", db)
    assert run.exit_code == 0, run.output
    if output:
        assert (tmp_path / output).exists()
        shutil.rmtree(tmp_path / output) if output == "charts" else (tmp_path / output).unlink()
    # other data: run 3's rows mean other tracks now
    assert run_cli("ingest", small_csv, "--db", db).exit_code == 0
    assert_one_line_error(
        run_cli(*args, "--db", db), "run 3 clustered other data", "re-ingested", "cluster again"
    )
    if output:
        assert not (tmp_path / output).exists()


# --------------------------------------------------------------------------- the real data


def test_compare_and_export_on_the_shipped_dataset(full_db, tmp_path):
    db = tmp_path / "full.duckdb"
    shutil.copyfile(full_db, db)
    # a sampled silhouette keeps the runs cheap
    a = spotclust.cluster(k=4, db=db, n_init=1, seed=0, silhouette_sample=500).run_id
    b = spotclust.cluster(k=4, db=db, n_init=1, seed=1, silhouette_sample=500).run_id
    result = compare(a, b, db)
    assert result.common_tracks == 88_732
    assert sum(c["tracks"] for c in result.contingency) == 88_732
    assert result.adjusted_rand > 0.5  # two seeds find much the same four clusters
    path, rows = export(b, out=tmp_path / "full.parquet", db=db)
    frame = pl.read_parquet(path, columns=["track_id", "cluster", "genres"])
    assert rows == frame.height == 88_732 and frame["track_id"].n_unique() == 88_732
    assert frame["genres"].list.len().min() >= 1
