"""Every SQL model declares its materialisation and grain in its header; both hold on the
shipped data (and a run of it), and the warehouse builds each model as declared. What a run
stores once to be read many times (cluster_genres), and the queries that read a run without
the joins they used to make, give what those joins gave."""

from __future__ import annotations

import shutil

import duckdb
import pytest

import spotclust
from spotclust.warehouse import quote_identifier, read_sql
from spotclust.warehouse.sql_files import MODEL_FOLDERS, models, parse_model

MODELS = models()


@pytest.fixture(scope="module")
def shipped_run(full_db, tmp_path_factory):
    """The shipped dataset with two clustering runs, so that the results models have rows:
    run 1 of one row per track, run 2 of every genre listing (a track in several rows)."""
    db = tmp_path_factory.mktemp("grain") / "w.duckdb"
    shutil.copyfile(full_db, db)
    spotclust.cluster(k=4, db=db, n_init=1, silhouette_sample=1000)
    spotclust.cluster(k=3, db=db, n_init=1, silhouette_sample=1000, row_rule="listings")
    return db


def _rows(db, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def test_every_model_folder_holds_models_in_the_declared_order():
    assert {m.folder for m in MODELS} == set(MODEL_FOLDERS)
    names = [m.name for m in MODELS]
    assert len(names) == len(set(names)) >= 12
    # Staging first, then cleaning, features, results: each reads only earlier models.
    assert [m.folder for m in MODELS] == sorted((m.folder for m in MODELS), key=MODEL_FOLDERS.index)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_the_declared_grain_holds_on_the_shipped_data(shipped_run, model):
    columns = ", ".join(quote_identifier(c) for c in model.unique)
    nulls = " OR ".join(f"{quote_identifier(c)} IS NULL" for c in model.unique)
    con = duckdb.connect(str(shipped_run), read_only=True)
    try:
        [(rows, distinct, incomplete)] = con.execute(
            f"SELECT count(*), count(DISTINCT ({columns})), count(*) FILTER (WHERE {nulls}) "
            f"FROM {quote_identifier(model.name)}"
        ).fetchall()
        [(kind,)] = con.execute(
            "SELECT 'table' FROM duckdb_tables() WHERE table_name = $n "
            "UNION ALL SELECT 'view' FROM duckdb_views() WHERE view_name = $n",
            {"n": model.name},
        ).fetchall()
    finally:
        con.close()
    assert rows > 0, f"{model.name} is empty on the shipped data: its grain is untested"
    assert distinct == rows, f"{model.name}: {rows - distinct} rows repeat ({columns})"
    assert incomplete == 0, f"{model.name}: a key column ({columns}) is NULL"
    assert kind == model.materialized


def test_a_model_without_its_header_settings_is_refused():
    body = "SELECT 1 AS a\n"
    with pytest.raises(ValueError, match="materialized"):
        parse_model("results", "200_x.sql", "-- x: a thing\n-- unique: a\n" + body)
    with pytest.raises(ValueError, match="unique"):
        parse_model("results", "200_x.sql", "-- x: a thing\n-- materialized: view\n" + body)
    model = parse_model(
        "results", "200_x.sql", "-- x: a thing\n-- materialized: table\n-- unique: a, b\n" + body
    )
    assert (model.name, model.unique, model.description) == ("x", ("a", "b"), "a thing")
    assert model.create_statement() == "CREATE OR REPLACE TABLE x AS\n" + body


# ======================================================= stored once, and joins left out

# What genre_breakdown counted on every read before version 8: each run's assignments joined
# with track_genres, a track once per cluster it is in.
COUNTED_WHEN_READ = """
SELECT c.run_id, c.cluster, g.genre, count(*) AS tracks
FROM (SELECT DISTINCT run_id, track_id, cluster FROM assignments) AS c
JOIN track_genres AS g USING (track_id)
GROUP BY ALL
ORDER BY ALL
"""


def test_a_runs_genres_are_counted_once_when_it_is_written(shipped_run):
    """cluster_genres, written with the run, holds the counts genre_breakdown made from the
    run's assignments on every read: for a run of tracks and for one of listings."""
    stored = _rows(shipped_run, "SELECT run_id, cluster, genre, tracks FROM cluster_genres "
                   "ORDER BY ALL")  # fmt: skip
    assert {row[0] for row in stored} == {1, 2}
    assert stored == _rows(shipped_run, COUNTED_WHEN_READ)
    # and genre_breakdown's shares and ranks are of those counts
    [(wrong,)] = _rows(
        shipped_run,
        "SELECT count(*) FROM genre_breakdown AS b JOIN cluster_genres AS c "
        "USING (run_id, cluster, genre) WHERE b.tracks <> c.tracks",
    )
    assert wrong == 0
    assert len(_rows(shipped_run, "SELECT * FROM genre_breakdown")) == len(stored)


# The tracks nearest each centroid as explain ranked them before: every row of the run
# joined with its track, then numbered.
RANKED_AFTER_JOINING = """
SELECT cluster, track_id, artists, track_name, genre, distance FROM (
    SELECT a.cluster, a.track_id, t.artists, t.track_name, t.genre, a.distance,
           row_number() OVER (PARTITION BY a.cluster ORDER BY a.distance, a.row_number) AS rank
    FROM assignments a JOIN tracks t USING (track_id)
    WHERE a.run_id = $run_id
) WHERE rank <= $top ORDER BY cluster, rank
"""


@pytest.mark.parametrize("run_id", [1, 2])
def test_explain_reads_the_sizes_and_nearest_tracks_without_the_joins(shipped_run, run_id):
    """explain's sizes are cluster_summary's (without reading its genres), and its nearest
    tracks those of a ranking of every row (only the nearest are joined with their tracks)."""
    summary = _rows(shipped_run, read_sql("queries/explain_summary.sql"), {"run_id": run_id})
    assert summary == _rows(
        shipped_run,
        "SELECT cluster, coalesce(label, ''), size, share FROM cluster_summary "
        "WHERE run_id = $run_id ORDER BY cluster",
        {"run_id": run_id},
    )
    for top in (1, 3, 50):
        params = {"run_id": run_id, "top": top}
        nearest = _rows(shipped_run, read_sql("queries/explain_representative.sql"), params)
        assert nearest == _rows(shipped_run, RANKED_AFTER_JOINING, params)
    _, explained = spotclust.explain(run_id, top=0, db=shipped_run)
    assert all(not e.representative and not e.effects for e in explained)


# The nominal features' counts as the chart read them before: by track_id, from tracks.
NOMINAL_BY_TRACK = """
SELECT a.cluster, t."key", t."mode", t.time_signature, count(*) AS tracks
FROM assignments AS a JOIN tracks AS t USING (track_id)
WHERE a.run_id = $run_id
GROUP BY ALL
"""


@pytest.mark.parametrize("run_id", [1, 2])
def test_the_nominal_features_chart_reads_each_row_by_its_number(shipped_run, run_id):
    """The chart reads each row's key, mode and time signature by its row number (no join on
    the track_id text): the values tracks holds for its track, in every listing too."""
    sql = read_sql("charts/nominal_features.sql")
    before = sql.replace(sql[sql.index("WITH combinations AS (") : sql.index("\nlong AS")],
                         f"WITH combinations AS ({NOMINAL_BY_TRACK}),")  # fmt: skip
    assert before != sql
    params = {"run_id": run_id}
    assert _rows(shipped_run, sql, params) == _rows(shipped_run, before, params)
