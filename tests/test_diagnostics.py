"""The missing diagnostics (issue 15, item 6): per-track silhouettes stored per run and drawn
as sorted bands, the raw features of each cluster as boxes, and the inter-cluster distance
map (classical MDS of the centres)."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
from sklearn.metrics import silhouette_samples as sk_samples
from support.cli import run_cli_ok
from support.processes import run_process

from spotclust.model import metrics
from spotclust.model import silhouette as sil
from spotclust.model.mds import classical_mds, kept_share, pairwise_distances

PAGES = ("silhouette", "feature_boxes", "distances")


@pytest.fixture
def db(tmp_path, clustered_template) -> Path:
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, copy)
    return copy


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


# ------------------------------------------------------------------ per-track silhouettes


def test_the_stored_values_are_the_runs_exact_silhouette_and_sklearns(db):
    [(run_id, method, score, rows_used, pcs)] = _rows(
        db, "SELECT run_id, silhouette_method, silhouette, rows_used, pca_components FROM runs"
    )
    assert method == "exact" and pcs == 2  # the model space is (pc1, pc2) of assignments
    stored = _rows(
        db,
        f"""SELECT v.silhouette, a.cluster, a.pc1, a.pc2
        FROM silhouette_values AS v JOIN assignments AS a USING (run_id, row_number)
        WHERE run_id = {run_id} ORDER BY row_number""",
    )
    assert len(stored) == rows_used
    values = np.array([r[0] for r in stored])
    labels = np.array([r[1] for r in stored])
    X = np.array([(r[2], r[3]) for r in stored])
    assert abs(values.mean() - score) <= 1e-9
    np.testing.assert_allclose(values, sk_samples(X, labels), rtol=0, atol=1e-9)


def test_the_mean_path_and_the_per_point_path_agree():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(c, 0.6, (120, 3)) for c in (0.0, 3.0, 6.0)])
    labels = np.repeat([0, 1, 2], 120)
    exact = metrics.silhouette(X, labels)
    assert exact.rows is None and exact.values.shape == (360,)
    assert exact.value == sil.silhouette_score(X, labels) == float(np.mean(exact.values))
    np.testing.assert_allclose(exact.values, sk_samples(X, labels), rtol=0, atol=1e-9)
    # sampled: the values of the rows drawn, their mean the estimate sampled_silhouette gives
    sampled = metrics.silhouette(X, labels, sample_size=50, seed=7)
    assert sampled.method == "sampled" and sampled.rows.shape == sampled.values.shape == (50,)
    assert len(set(sampled.rows.tolist())) == 50
    np.testing.assert_allclose(
        sampled.values, sk_samples(X, labels)[sampled.rows], rtol=0, atol=1e-9
    )
    estimate = sil.sampled_silhouette(X, labels, sample_size=50, seed=7)
    assert (sampled.value, sampled.ci_low, sampled.ci_high) == tuple(estimate)
    assert sampled.value == pytest.approx(float(np.mean(sampled.values)), abs=1e-15)


def test_a_sampled_run_stores_its_sample(db, run_cli):
    run_cli_ok("cluster", "--k", "3", "--n-init", "1", "--silhouette-sample", "20",
               "--no-charts", "--quiet", "--db", db)  # fmt: skip
    [(run_id, method, size, score)] = _rows(
        db,
        "SELECT run_id, silhouette_method, silhouette_sample_size, silhouette FROM runs "
        "ORDER BY run_id DESC LIMIT 1",
    )
    assert method == "sampled" and size == 20
    [(count, mean, distinct)] = _rows(
        db,
        f"SELECT count(*), avg(silhouette), count(DISTINCT row_number) FROM silhouette_values "
        f"WHERE run_id = {run_id}",
    )
    assert count == distinct == 20
    assert mean == pytest.approx(score, abs=1e-12)


def test_runs_delete_removes_the_silhouette_values(db):
    run_cli_ok("cluster", "--k", "2", "--n-init", "1", "--no-charts", "--quiet", "--db", db)
    by_run = dict(_rows(db, "SELECT run_id, count(*) FROM silhouette_values GROUP BY run_id"))
    assert set(by_run) == {1, 2} and by_run[1] == by_run[2] > 0
    run_cli_ok("runs", "delete", "1", "--db", db)
    assert _rows(db, "SELECT DISTINCT run_id FROM silhouette_values") == [(2,)]


# ---------------------------------------------------------------------------------- pages


def _spec(page: Path) -> dict:
    match = re.search(r"const spec = (\{.*?\});\nconst options", page.read_text(), re.S)
    assert match, page
    return json.loads(match.group(1))


def _datasets(spec: dict) -> list[dict]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_charts_writes_the_three_pages_with_every_cluster(db, tmp_path):
    out = tmp_path / "pages"
    result = run_process(["charts", "--db", db, "--out", out], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    [(k,)] = _rows(db, "SELECT k FROM runs")
    index = (out / "index.html").read_text()
    for name in PAGES:
        assert f"{name}.html" in index, name
        rows = _datasets(_spec(out / f"{name}.html"))
        numbers = {r["number"] for r in rows if "number" in r}  # cluster numbers drawn
        if name == "silhouette":  # the bands carry labels; the stacks' names carry numbers
            clusters = {r["cluster"] for r in rows if "y0" in r}
            assert len(clusters) == k, clusters
        assert numbers == set(range(k)), (name, numbers)


def test_the_silhouette_bands_stay_few_and_stack_in_order(db):
    from spotclust.charts import data

    with duckdb.connect(str(db), read_only=True) as con:
        bands = data.silhouette_data(con, 1, bins=4, gap=0.0)
        everything = data.silhouette_data(con, 1, bins=1000, gap=0.0)
    assert bands.group_by("cluster").len()["len"].max() <= 4
    assert bands["tracks"].sum() == everything["tracks"].sum() == everything.height  # 1 a bar
    assert bands["y0"].min() == 0 and bands["y1"].max() == bands["tracks"].sum()
    for _, group in everything.group_by("cluster"):  # sorted from highest to lowest
        s = group.sort("y0")["silhouette"].to_numpy()
        assert (np.diff(s) <= 0).all()


# ------------------------------------------------------------------------------------ MDS


def test_mds_recovers_a_square():
    square = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]])
    distances = pairwise_distances(square)
    coords = classical_mds(distances)
    np.testing.assert_allclose(pairwise_distances(coords), distances, atol=1e-12)
    assert kept_share(distances, coords) == pytest.approx(1.0)


def test_mds_of_points_in_more_dimensions_keeps_the_largest_spread():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(6, 5)) * np.array([5.0, 3.0, 0.1, 0.1, 0.1])
    distances = pairwise_distances(points)
    coords = classical_mds(distances)
    assert coords.shape == (6, 2)
    assert 0.99 < kept_share(distances, coords) <= 1.0
    for i, j in itertools.combinations(range(6), 2):  # planar distances never exceed the true
        assert np.linalg.norm(coords[i] - coords[j]) <= distances[i, j] + 1e-9
    assert classical_mds(pairwise_distances(points[:1])).shape == (1, 2)
