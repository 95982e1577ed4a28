"""The synthetic data generator: deterministic, the real schema, ingestible, clusterable, and
shaped like the real genres."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

import spotclust
from spotclust.errors import ConfigError
from spotclust.files.ingest import COLUMN_TYPES, shipped_dataset
from spotclust.files.synth import output_format, synthesize

ROWS = 5_000


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("synth")


@pytest.fixture(scope="module")
def synth_csv(synth_dir) -> Path:
    return synthesize(ROWS, synth_dir / "a.csv", seed=1)


@pytest.fixture(scope="module")
def synth_db(synth_dir, synth_csv) -> Path:
    db = synth_dir / "w.duckdb"
    spotclust.ingest(synth_csv, db)
    return db


def _rows(sql: str, params=None) -> list[tuple]:
    con = duckdb.connect()
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_same_seed_same_bytes_other_seed_differs(synth_dir, synth_csv):
    again = synthesize(ROWS, synth_dir / "b.csv", seed=1)
    other = synthesize(ROWS, synth_dir / "c.csv", seed=2)
    assert again.read_bytes() == synth_csv.read_bytes()
    assert other.read_bytes() != synth_csv.read_bytes()


@pytest.mark.parametrize("name", ["d.csv.gz", "d.parquet"])
def test_compressed_and_parquet_are_deterministic(synth_dir, name):
    first = synthesize(300, synth_dir / name, seed=3).read_bytes()
    assert synthesize(300, synth_dir / name, seed=3).read_bytes() == first


def test_csv_has_the_real_header_and_exact_row_count(synth_csv):
    real_header = _rows(
        "SELECT * FROM read_csv($p, header = false, all_varchar = true) LIMIT 1",
        {"p": str(shipped_dataset())},
    )[0]
    with synth_csv.open() as f:
        assert f.readline().rstrip("\n").split(",") == ["", *COLUMN_TYPES]
    assert [c or "" for c in real_header] == ["", *COLUMN_TYPES]
    count, ids, bad_ids, index_ok = _rows(
        """SELECT count(*), count(DISTINCT track_id),
                  count(*) FILTER (WHERE NOT regexp_full_match(track_id, '[0-9A-Za-z]{22}')),
                  min(column00) = 0 AND max(column00) = count(*) - 1
                      AND count(DISTINCT column00) = count(*)
           FROM read_csv($p, header = true)""",
        {"p": str(synth_csv)},
    )[0]
    assert count == ROWS
    assert bad_ids == 0
    assert index_ok
    # Multi-genre tracks repeat a track_id, at about the real rate (21% of rows).
    assert 0.70 * ROWS < ids < 0.90 * ROWS


def test_parquet_holds_the_same_rows_as_csv(synth_dir, synth_csv):
    parquet = synthesize(ROWS, synth_dir / "a.parquet", seed=1)
    columns = ", ".join(f'"{c}"' for c in COLUMN_TYPES)
    difference = _rows(
        f"""SELECT count(*) FROM (
                SELECT {columns} FROM read_csv($c, header = true, types = $t)
                EXCEPT ALL
                SELECT {columns} FROM read_parquet($p))""",
        {"c": str(synth_csv), "p": str(parquet), "t": COLUMN_TYPES},
    )[0][0]
    assert difference == 0
    names = [r[0] for r in _rows("DESCRIBE SELECT * FROM read_parquet($p)", {"p": str(parquet)})]
    assert names == list(COLUMN_TYPES)


def test_ingests_with_work_for_the_cleaning(synth_db, query):
    report = {r[1]: r[4] for r in query(synth_db, "SELECT * FROM cleaning_report")}
    assert report["impossible values"] > 0  # tempo 0, time_signature 0 and 1
    assert report["one row per track"] > 0.1 * ROWS  # multi-genre tracks
    sql = "SELECT count(DISTINCT genre), max(genre_count) FROM tracks"
    genres, listed = query(synth_db, sql)[0]
    assert genres == 114
    assert listed >= 2
    values = query(
        synth_db,
        """SELECT min(danceability), max(energy), max(acousticness), min(tempo),
                  min(duration_ms), min(popularity), max(popularity)
           FROM valid_rows""",
    )[0]
    low_dance, high_energy, high_acoustic, low_tempo, low_duration, low_pop, high_pop = values
    assert low_dance >= 0 and high_energy <= 1 and high_acoustic <= 1
    assert low_tempo > 0 and low_duration > 0
    assert 0 <= low_pop <= high_pop <= 100


def test_clusters(synth_db, query):
    result = spotclust.cluster(k=4, db=synth_db, n_init=2)
    clean = query(synth_db, "SELECT count(*) FROM tracks")[0][0]
    assert sum(result.sizes) == result.rows_used == clean
    assert len(result.sizes) == 4
    assert 0 < result.metrics["silhouette"] < 1


def test_genres_look_like_the_real_ones(synth_db, full_db, query):
    def means(db):
        rows = query(
            db,
            "SELECT genre, avg(acousticness), avg(energy), avg(danceability), avg(speechiness) "
            "FROM valid_rows GROUP BY genre",
        )
        return {r[0]: r[1:] for r in rows}

    synthetic, real = means(synth_db), means(full_db)
    assert synthetic["classical"][0] > 0.75  # acoustic
    assert synthetic["death-metal"][1] > 0.8  # loud and fast
    assert synthetic["comedy"][3] > 0.5  # spoken
    for genre in ("classical", "death-metal", "sleep", "hip-hop", "comedy"):
        for s, r in zip(synthetic[genre], real[genre], strict=True):
            assert abs(s - r) < 0.12, (genre, synthetic[genre], real[genre])
    # Across all 114 genres, the synthetic genre means follow the real ones.
    for j in range(4):
        pairs = [(synthetic[g][j], real[g][j]) for g in real]
        r = _rows(
            "SELECT corr(a, b) FROM (SELECT unnest($x) AS a, unnest($y) AS b)",
            {"x": [p[0] for p in pairs], "y": [p[1] for p in pairs]},
        )[0][0]
        assert r > 0.9


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ConfigError, match=re.escape(".csv, .csv.gz or .parquet")):
        synthesize(10, tmp_path / "x.json")
    with pytest.raises(ConfigError, match="positive"):
        synthesize(0, tmp_path / "x.csv")
    with pytest.raises(ConfigError, match="directory"):
        synthesize(10, tmp_path / "missing" / "x.csv")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_output_format_follows_the_name():
    assert output_format("a.CSV") == "csv"
    assert output_format("a.csv.gz") == "csv.gz"
    assert output_format("a.parquet") == "parquet"
