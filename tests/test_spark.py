"""The Spark engine in this process: one real SparkSession (local[2]) for the module, which
spotclust uses as a notebook's session. A Spark run and a local run of the same data and
seed agree; every table of either passes the same checks, and every later command reads a
Spark run as it reads a local one; its scores from per-cluster sums are scikit-learn's; bad
input is one line that changes nothing.

Spark from the command line, killed mid-run, without Java or a master: test_spark_cli.py.
"""

from __future__ import annotations

import signal
import sys

import numpy as np
import pytest
from sklearn import metrics as skm

import spotclust
from spotclust.model import metrics
from spotclust.spark import scores

# Quicker for short runs: no web UI, and the JVM's quick compiler only (a test's runs are
# over before the optimising one pays).
TEST_SETTINGS = ("spark.ui.enabled=false", "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1")
ENGINE = spotclust.Engine("spark", master="local[2]", conf=TEST_SETTINGS)


@pytest.fixture(scope="module")
def spark():
    """The module's SparkSession; its JVM ends with the module."""
    from spotclust.spark.session import shut_down, start

    handler = signal.getsignal(signal.SIGINT)  # SparkContext sets its own
    session = start(ENGINE)
    yield session
    shut_down(session)
    signal.signal(signal.SIGINT, handler)


def _agreement(db, local_run: int, spark_run: int) -> float:
    return spotclust.compare(local_run, spark_run, db).adjusted_rand


def test_spark_finds_the_groups_a_local_run_finds(spark, grouped_db, query, record_property):
    local = spotclust.cluster(3, grouped_db, n_init=1, seed=0)
    on_spark = spotclust.cluster(3, grouped_db, engine=ENGINE, n_init=1, seed=0)
    rand = _agreement(grouped_db, local.run_id, on_spark.run_id)
    record_property("adjusted_rand_spark_vs_local_grouped", rand)
    print(f"adjusted Rand, Spark run against local run, grouped tracks: {rand:.4f}")
    assert rand > 0.95
    assert on_spark.sizes == local.sizes == [120, 120, 120]
    # Spark scales by the sample standard deviation (scikit-learn: the population one): the
    # space differs by a constant factor, which changes none of these scale-free scores.
    for score in ("silhouette", "calinski_harabasz", "davies_bouldin", "adjusted_rand"):
        assert on_spark.metrics[score] == pytest.approx(local.metrics[score], rel=1e-6), score
    [(engine, version, master, init, max_iter, method)] = query(
        grouped_db,
        "SELECT engine, engine_version, engine_master, kmeans_init, max_iter, "
        "engine_silhouette_method FROM runs WHERE run_id = ?",
        [on_spark.run_id],
    )
    assert (engine, master, init, max_iter) == ("spark", "local[2]", "k-means||", 300)
    assert version == spark.version and method == "spark_squared_euclidean"
    assert query(grouped_db, "SELECT engine FROM runs WHERE run_id = ?", [local.run_id]) == [
        ("local",)
    ]


def test_spark_and_local_runs_of_the_shipped_data(spark, full_db, tmp_path, record_property):
    db = tmp_path / "full.duckdb"
    db.write_bytes(full_db.read_bytes())
    local = spotclust.cluster(4, db, n_init=1, seed=0)
    on_spark = spotclust.cluster(4, db, engine=ENGINE, n_init=1, seed=0)
    rand = _agreement(db, local.run_id, on_spark.run_id)
    record_property("adjusted_rand_spark_vs_local_shipped", rand)
    print(f"adjusted Rand, Spark run against local run, shipped data (k=4): {rand:.4f}")
    assert on_spark.rows_used == local.rows_used == 88_732
    assert rand > 0.8  # k-means on real data: two initialisations may settle apart
    assert on_spark.metrics["silhouette_method"] == "exact"  # up to 250,000 rows, as local


@pytest.mark.parametrize("engine", ["local", "spark"])
def test_every_table_of_a_run_passes_the_checks_and_reads_as_any_run(
    engine, spark, grouped_db, tmp_path, query
):
    chosen = ENGINE if engine == "spark" else "local"
    result = spotclust.cluster(3, grouped_db, engine=chosen, n_init=1)
    report = spotclust.check(grouped_db)
    assert not report.problems, report.problems
    assert {f.status for f in report.findings} == {"ok"}
    run = result.run_id
    assert query(grouped_db, "SELECT engine, rows_used FROM runs") == [(engine, 360)]
    counts = {
        table: query(grouped_db, f"SELECT count(*) FROM {table} WHERE run_id = ?", [run])[0][0]
        for table in ("assignments", "centroids", "run_features", "pca_components",
                      "cluster_profiles", "cluster_labels", "silhouette_values")
    }  # fmt: skip
    features = len(result.features)
    assert counts == {
        "assignments": 360,
        "centroids": 3 * (2 * features + 2),  # original and scaled per feature; pc1, pc2
        "run_features": features,
        "pca_components": 2 * features,
        "cluster_profiles": 3 * len(spotclust.AUDIO_FEATURES),
        "cluster_labels": 3,
        "silhouette_values": 360,
    }
    # The stored model is the fitted one: each track placed by it lands in its own cluster,
    # at the distance the run recorded.
    tracks = query(
        grouped_db,
        "SELECT track_id, cluster, distance FROM assignments WHERE run_id = ? "
        "ORDER BY row_number LIMIT 40",
        [run],
    )
    _, placed = spotclust.place(track_ids=[t for t, _, _ in tracks], run_id=run, db=grouped_db)
    assert [p.cluster for p in placed] == [c for _, c, _ in tracks]
    assert [min(p.distances) for p in placed] == pytest.approx([d for *_, d in tracks], abs=1e-9)
    _, explained = spotclust.explain(run, db=grouped_db)
    assert len(explained) == 3
    out, rows = spotclust.export(run, out=tmp_path / "run.parquet", db=grouped_db)
    assert rows == 360 and out.exists()
    assert spotclust.compare(run, run, grouped_db).adjusted_rand == 1.0


def test_a_spark_sweep_weighs_the_same_evidence(spark, grouped_db, query):
    swept = spotclust.sweep("1..4", grouped_db, engine=ENGINE, stability_pairs=2, n_init=1)
    assert swept.suggested_k == 3
    rows = query(
        grouped_db,
        "SELECT k, engine, inertia, silhouette, stability_mean, calinski_harabasz FROM sweeps "
        "ORDER BY k",
    )
    assert [(k, engine) for k, engine, *_ in rows] == [(k, "spark") for k in (1, 2, 3, 4)]
    inertias = [inertia for _, _, inertia, *_ in rows]
    assert inertias == sorted(inertias, reverse=True)
    assert rows[0][3:] == (None, None, None)  # k = 1: no silhouette, stability or separation
    assert rows[2][3] > 0.9 and rows[2][4] == pytest.approx(1.0)


# ----------------------------------------------------------- scores from per-cluster sums


def _sums(points: np.ndarray, labels: np.ndarray, genres: np.ndarray, k: int):
    """What Spark's one pass sums, computed here from the rows; centres: the member means."""
    means = np.array([points[labels == c].mean(axis=0) for c in range(k)])
    distance = np.linalg.norm(points - means[labels], axis=1)
    contingency = np.zeros((genres.max() + 1, k), dtype=np.int64)
    np.add.at(contingency, (genres[genres >= 0], labels[genres >= 0]), 1)
    return scores.ClusterSums(
        counts=np.bincount(labels, minlength=k),
        space_sums=np.array([points[labels == c].sum(axis=0) for c in range(k)]),
        space_squares=np.bincount(labels, weights=(points**2).sum(axis=1), minlength=k),
        distance_sums=np.bincount(labels, weights=distance, minlength=k),
        distance_squares=np.bincount(labels, weights=distance**2, minlength=k),
        contingency=contingency,
    )


def test_scores_from_sums_are_scikit_learns():
    rng = np.random.default_rng(7)
    points = rng.normal(size=(3000, 3)) + np.repeat(rng.normal(0, 4, size=(5, 3)), 600, axis=0)
    labels = np.repeat(np.arange(5), 600)
    rng.shuffle(labels[:900])  # some mixing, so the scores are not trivial
    genres = rng.integers(-1, 12, size=3000)  # -1: no genre
    sums = _sums(points, labels, genres, 5)
    separation = scores.separation(sums)
    assert separation["calinski_harabasz"] == pytest.approx(
        skm.calinski_harabasz_score(points, labels), rel=1e-9
    )
    assert separation["davies_bouldin"] == pytest.approx(
        skm.davies_bouldin_score(points, labels), rel=1e-9
    )
    expected = metrics.genre_agreement(genres.astype(np.int16), labels)
    assert scores.genre_agreement(sums.contingency) == pytest.approx(expected, rel=1e-12)
    total = points.sum(axis=0)
    assert scores.total_inertia(3000, total, float((points**2).sum())) == pytest.approx(
        float(((points - points.mean(axis=0)) ** 2).sum()), rel=1e-9
    )


# ----------------------------------------------------------------------- one clear line


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--engine", "spark", "--spark-conf", "spark.driver.memory"], ["KEY=VALUE"]),
        (["--engine", "spark", "--algorithm", "minibatch"], ["minibatch", "--engine local"]),
        (["--engine", "spark", "--spark-master", "mesos://x:5050"], ["spark://HOST:7077"]),
        (["--spark-master", "local[2]"], ["--spark-master", "--engine spark"]),
    ],
    ids=["conf", "minibatch", "master", "local"],
)
def test_bad_spark_options_are_one_line_and_change_nothing(
    args, needles, spark, grouped_db, run_cli, assert_one_line_error, snapshot
):
    before = snapshot(grouped_db)
    assert_one_line_error(run_cli("cluster", "--db", grouped_db, "--no-charts", *args), *needles)
    assert snapshot(grouped_db) == before


def test_without_pyspark_the_line_says_what_to_install(grouped_db, monkeypatch, snapshot):
    before = snapshot(grouped_db)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # how Python marks a module absent
    with pytest.raises(spotclust.SpotclustError, match=r"pip install 'spotclust\[spark\]'"):
        spotclust.cluster(3, grouped_db, engine=ENGINE)
    assert snapshot(grouped_db) == before
