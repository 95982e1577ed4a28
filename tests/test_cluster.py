"""Clustering end to end: the real CLI, a real DuckDB file, synthetic data with known groups."""

from __future__ import annotations

import html

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from support.grouped_data import write_grouped_csv
from support.processes import run_process

import spotclust

# `cluster` runs with --no-charts here: charts have their own tests (and one below), and
# would only slow every run down.


def test_cluster_recovers_known_groups_and_fills_every_table(grouped_db, run_cli, query):
    result = run_cli("cluster", "--k", "3", "--db", grouped_db, "--quiet", "--no-charts")
    assert result.exit_code == 0, result.output
    assert "run 1: k=3, 360 rows, silhouette" in result.output.replace("\n", " ")

    truth = query(
        grouped_db,
        "SELECT t.genre, a.cluster FROM assignments a JOIN tracks t USING (track_id) "
        "WHERE run_id = 1 ORDER BY a.row_number",
    )
    genres, clusters = zip(*truth, strict=True)
    assert adjusted_rand_score(genres, clusters) > 0.99

    (run,) = query(
        grouped_db,
        "SELECT k, rows_used, len(features), pca_components, silhouette, silhouette_method, "
        "adjusted_rand, purity, status, seconds_total FROM runs",
    )
    k, rows_used, n_features, pca, silhouette, method, ari, purity, status, seconds = run
    assert (k, rows_used, n_features, pca, method, status) == (3, 360, 12, 2, "exact", "complete")
    assert silhouette > 0.7 and ari > 0.99 and purity > 0.99 and seconds > 0

    # assignments: one per row used; clusters numbered by size, 0 largest
    assert query(grouped_db, "SELECT count(*), count(DISTINCT track_id) FROM assignments") == [
        (360, 360)
    ]
    sizes = [
        r[0]
        for r in query(
            grouped_db, "SELECT count(*) FROM assignments GROUP BY cluster ORDER BY cluster"
        )
    ]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == 360

    # profiles: one row per cluster and profiled feature, counts = cluster sizes
    profiles = query(
        grouped_db,
        "SELECT cluster, count(*), min(count), max(count), count(*) FILTER (WHERE in_model) "
        "FROM cluster_profiles GROUP BY cluster ORDER BY cluster",
    )
    assert [(c, n, lo, hi, used) for c, n, lo, hi, used in profiles] == [
        (c, 15, sizes[c], sizes[c], 12) for c in range(3)
    ]
    # a profile agrees with the raw data: mean energy of the 'sleep' cluster is low
    (sleep_energy,) = query(
        grouped_db,
        "SELECT p.mean FROM cluster_profiles p JOIN cluster_summary s USING (run_id, cluster) "
        "WHERE p.feature = 'energy' AND s.top_genres[1] = 'sleep'",
    )[0]
    assert sleep_energy == pytest.approx(0.05, abs=0.01)

    # quartiles and std match numpy on the same rows (describe() uses ddof=1, linear quantiles)
    values = np.array([v for (v,) in query(
        grouped_db,
        "SELECT t.tempo FROM assignments a JOIN tracks t USING (row_number) WHERE a.cluster = 1",
    )])  # fmt: skip
    (profile,) = query(
        grouped_db,
        "SELECT count, mean, std, min, p25, p50, p75, max FROM cluster_profiles "
        "WHERE cluster = 1 AND feature = 'tempo'",
    )
    expected = (len(values), values.mean(), values.std(ddof=1), values.min(),
                *np.percentile(values, [25, 50, 75]), values.max())  # fmt: skip
    assert profile == pytest.approx(expected, rel=1e-12)

    # centroids: original, scaled (12 features) and model (pc1, pc2) for each cluster
    assert query(
        grouped_db, "SELECT space, count(*) FROM centroids GROUP BY space ORDER BY space"
    ) == [("model", 6), ("original", 36), ("scaled", 36)]
    assert query(grouped_db, "SELECT count(*) FROM run_features") == [(12,)]
    assert query(grouped_db, "SELECT count(DISTINCT component) FROM pca_components") == [(2,)]

    # genre shares add up: per genre over clusters, and per cluster over genres
    for column, key in (("share_of_genre", "genre"), ("share_of_cluster", "cluster")):
        totals = query(grouped_db, f"SELECT sum({column}) FROM genre_breakdown GROUP BY {key}")
        assert all(t == pytest.approx(1.0) for (t,) in totals)
    # the multi-genre tracks count for disco too, in the dance cluster only
    assert query(
        grouped_db,
        "SELECT tracks, share_of_genre FROM genre_breakdown WHERE genre = 'disco'",
    ) == [(12, 1.0)]

    summary = query(grouped_db, "SELECT top_genres[1], size FROM cluster_summary ORDER BY cluster")
    assert {g for g, _ in summary} == {"metal", "sleep", "dance"}
    assert query(grouped_db, "SELECT run_id FROM latest_run") == [(1,)]


def test_same_seed_same_assignments(grouped_db, run_cli, query):
    for _ in range(2):
        run = run_cli("cluster", "--k", "4", "--seed", "7", "--db", grouped_db, "--no-charts")
        assert run.exit_code == 0, run.output
    first, second = (
        [
            c
            for (c,) in query(
                grouped_db,
                "SELECT cluster FROM assignments WHERE run_id = ? ORDER BY row_number",
                [r],
            )
        ]
        for r in (1, 2)
    )
    assert len(first) == 360 and first == second


def test_options_are_recorded(grouped_db, run_cli, query):
    result = run_cli(
        "cluster", "--k", "3", "--features", "energy,acousticness,tempo", "--no-pca",
        "--rows", "listings", "--silhouette-sample", "100", "--n-init", "3", "--seed", "5",
        "--db", grouped_db, "--no-charts",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = query(
        grouped_db,
        "SELECT features, pca_components, row_rule, rows_used, silhouette_method, "
        "silhouette_sample_size, silhouette BETWEEN silhouette_ci_low AND silhouette_ci_high, "
        "n_init, seed, explained_variance FROM runs",
    )
    assert row == (
        ["energy", "acousticness", "tempo"],
        None,
        "listings",
        372,
        "sampled",
        100,
        True,
        3,
        5,
        None,
    )
    # without PCA the model space is the features themselves
    dims = query(
        grouped_db, "SELECT DISTINCT dimension FROM centroids WHERE space = 'model' ORDER BY 1"
    )
    assert [d for (d,) in dims] == ["acousticness", "energy", "tempo"]
    assert "sampled from 100 rows, 95% CI" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--k", "1"], "k must be at least 2"),
        (["--k", "0"], "k must be at least 2"),
        (["--k", "-3"], "k must be at least 2"),
        (["--k", "1000"], "larger than the 360 rows"),
        (["--features", "energy,colour"], "unknown feature(s) colour"),
        (["--pca", "13"], "more than the 12 features"),
        (["--pca", "0"], "must be at least 1"),
        (["--silhouette-sample", "1"], "at least 2"),
    ],
)
def test_bad_options_fail_cleanly_and_write_nothing(grouped_db, args, message, query, tmp_path):
    result = run_process(["cluster", "--db", grouped_db, *args], cwd=tmp_path)
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert query(grouped_db, "SELECT count(*) FROM runs") == [(0,)]
    assert query(grouped_db, "SELECT count(*) FROM assignments") == [(0,)]


def test_cluster_without_a_warehouse(tmp_path, run_cli):
    db = tmp_path / "none.duckdb"
    result = run_cli("cluster", "--db", db, "--no-charts")
    assert result.exit_code != 0
    assert "run `spotclust ingest` first" in result.output
    assert not db.exists()


def test_sweep_scores_every_k_and_suggests_one(grouped_db, run_cli, query):
    result = run_cli("sweep", "--k", "2..6", "--db", grouped_db, "--n-init", "3")
    assert result.exit_code == 0, result.output
    rows = query(
        grouped_db,
        "SELECT k, inertia, silhouette, is_knee, is_best_silhouette FROM sweeps ORDER BY k",
    )
    assert [r[0] for r in rows] == [2, 3, 4, 5, 6]
    inertias = [r[1] for r in rows]
    assert inertias == sorted(inertias, reverse=True)
    # three real groups: the silhouette peaks at 3 and the inertia curve bends there
    assert [r[0] for r in rows if r[4]] == [3]
    assert [r[0] for r in rows if r[3]] == [3]
    assert "suggested k = 3" in result.output


@pytest.mark.parametrize("k_range", ["0..4", "5..2", "two", "2..4000"])
def test_sweep_rejects_bad_ranges(grouped_db, k_range, run_cli, query):
    result = run_cli("sweep", "--k", k_range, "--db", grouped_db)
    assert result.exit_code != 0
    assert "--k" in result.output
    assert query(grouped_db, "SELECT count(*) FROM sweeps") == [(0,)]


def test_python_api(grouped_db):
    result = spotclust.cluster(k=3, db=grouped_db, features=["energy", "acousticness", "tempo"])
    assert result.run_id == 1 and sorted(result.sizes, reverse=True) == result.sizes
    assert sum(result.sizes) == result.rows_used == 360
    assert result.metrics["adjusted_rand"] > 0.99
    assert [c["cluster"] for c in result.summary] == [0, 1, 2]
    sweep = spotclust.sweep(range(2, 5), db=grouped_db, n_init=2)
    assert [r["k"] for r in sweep.rows] == [2, 3, 4] and sweep.best_silhouette_k == 3


def test_sweep_from_k_1_without_silhouette(grouped_db, run_cli, query):
    result = run_cli("sweep", "--k", "1..4", "--no-silhouette", "--db", grouped_db)
    assert result.exit_code == 0, result.output
    rows = query(
        grouped_db,
        "SELECT k, silhouette, silhouette_method, calinski_harabasz FROM sweeps ORDER BY k",
    )
    assert [(k, s, m) for k, s, m, _ in rows] == [(k, None, "skipped") for k in range(1, 5)]
    assert rows[0][3] is None and rows[1][3] > 0  # k = 1 has no Calinski-Harabasz
    assert "best silhouette: not scored" in result.output and "knee of inertia: 3" in result.output


def test_minibatch_streams_from_duckdb_and_recovers_the_groups(grouped_db, run_cli, query):
    minibatch = ["cluster", "--k", "3", "--algorithm", "minibatch", "--no-charts"]
    result = run_cli(*minibatch, "--db", grouped_db)
    assert result.exit_code == 0, result.output
    truth = query(
        grouped_db,
        "SELECT t.genre, a.cluster FROM assignments a JOIN tracks t USING (track_id) "
        "ORDER BY a.row_number",
    )
    genres, clusters = zip(*truth, strict=True)
    assert len(truth) == 360 and adjusted_rand_score(genres, clusters) > 0.99
    (row,) = query(grouped_db, "SELECT algorithm, rows_used, inertia > 0, silhouette FROM runs")
    assert row[:3] == ("minibatch", 360, True) and row[3] > 0.7
    # the streamed model is complete: scaler, loadings, centroids in all three spaces
    assert query(grouped_db, "SELECT count(*) FROM run_features") == [(12,)]
    assert query(grouped_db, "SELECT count(DISTINCT space) FROM centroids") == [(3,)]
    sizes = query(grouped_db, "SELECT size FROM cluster_summary ORDER BY cluster")
    assert [s for (s,) in sizes] == sorted((s for (s,) in sizes), reverse=True)
    # streamed in a seeded shuffled order: the same seed gives the same result
    again = run_cli(*minibatch, "--db", grouped_db)
    assert again.exit_code == 0, again.output
    first, second = (
        query(grouped_db, "SELECT cluster, distance FROM assignments WHERE run_id = ? "
              "ORDER BY row_number", [r])
        for r in (1, 2)
    )  # fmt: skip
    assert first == second


def test_cluster_on_the_shipped_dataset(tmp_path, query):
    """The default run on the real data: 4 clusters over one row per clean track."""
    db = tmp_path / "full.duckdb"
    spotclust.ingest(db=db)
    result = spotclust.cluster(k=4, db=db, n_init=2)
    assert result.rows_used == 88_732 and sum(result.sizes) == 88_732
    assert result.sizes == sorted(result.sizes, reverse=True)
    assert 0.3 < result.metrics["silhouette"] < 0.6
    assert result.metrics["silhouette_method"] == "exact"
    # one cluster gathers the quiet acoustic genres, as in the original analysis
    quiet = [
        c for c in result.summary if "classical" in c["top_genres"] or "ambient" in c["top_genres"]
    ]
    assert len(quiet) == 1 and quiet[0]["distinctive_features"].startswith("energy -")
    (profiles,) = query(db, "SELECT count(*) FROM cluster_profiles")[0]
    assert profiles == 4 * 15


def test_cluster_writes_charts_and_the_charts_command_redraws_them(
    grouped_db, tmp_path, run_cli, query
):
    out = tmp_path / "pages"
    result = run_cli("cluster", "--k", "3", "--db", grouped_db, "--charts-dir", out)
    assert result.exit_code == 0, result.output
    assert f"Charts: open {out / 'index.html'}" in result.output
    pages = sorted(p.name for p in out.iterdir())
    assert "index.html" in pages and len(pages) >= 9
    index = (out / "index.html").read_text()
    for (label,) in query(grouped_db, "SELECT label FROM cluster_labels WHERE run_id = 1"):
        assert html.escape(label) in index  # the index names every cluster
    redrawn = tmp_path / "svg"
    result = run_cli(
        "charts", "--run", "1", "--out", redrawn, "--format", "svg", "--db", grouped_db
    )
    assert result.exit_code == 0, result.output
    chart_pages = {p.stem for p in out.glob("*.html")} - {"index", "report"}
    assert {p.stem for p in redrawn.glob("*.svg")} == chart_pages  # one image per chart page
    missing = run_cli("charts", "--run", "99", "--db", grouped_db)
    assert missing.exit_code != 0 and "no run 99" in missing.output


def test_repeat_reruns_a_recorded_run_and_checks_the_assignments(grouped_db, run_cli, query):
    first = run_cli("cluster", "--k", "3", "--features", "energy,tempo,acousticness", "--seed", "3",
                    "--n-init", "2", "--db", grouped_db, "--no-charts")  # fmt: skip
    assert first.exit_code == 0, first.output
    again = run_cli("cluster", "--repeat", "1", "--db", grouped_db, "--no-charts")
    assert again.exit_code == 0, again.output
    assert "Repeat of run 1: assignments identical (360 rows compared; same data)" in again.output
    (row,) = query(
        grouped_db, "SELECT k, features, seed, n_init, data_sha256 FROM runs WHERE run_id = 2"
    )
    assert row[:4] == (3, ["energy", "tempo", "acousticness"], 3, 2)
    assert row[4] == query(grouped_db, "SELECT data_sha256 FROM runs WHERE run_id = 1")[0][0]
    missing = run_cli("cluster", "--repeat", "9", "--db", grouped_db, "--no-charts")
    assert missing.exit_code != 0 and "no run 9" in missing.output


def test_run_does_the_whole_analysis_in_one_command(tmp_path, run_cli, query):
    source = tmp_path / "grouped.csv"
    write_grouped_csv(source)
    db, pages = tmp_path / "w.duckdb", tmp_path / "pages"
    result = run_cli("run", source, "--k", "3", "--sweep", "1..5", "--n-init", "2", "--db", db,
                     "--charts-dir", pages)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT count(*) FROM ingests") == [(1,)]
    # the elbow page's silhouette panel is never empty: every k but 1 is scored
    assert query(db, "SELECT list(k ORDER BY k), count(silhouette) FROM sweeps") == [
        ([1, 2, 3, 4, 5], 4)
    ]
    assert query(db, "SELECT k, rows_used FROM runs") == [(3, 360)]
    assert (pages / "index.html").exists() and "suggested k = 3" in result.output
    skipped = run_cli("run", source, "--sweep", "none", "--no-charts", "--db", db)
    assert skipped.exit_code == 0, skipped.output
    assert "already ingested" in skipped.output  # the same file: its data is there
    assert query(db, "SELECT count(*) FROM ingests") == [(1,)]
    assert query(db, "SELECT count(DISTINCT sweep_id) FROM sweeps") == [(1,)]
    assert query(db, "SELECT count(*) FROM runs") == [(2,)]
