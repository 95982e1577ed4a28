"""`spotclust ingest` end to end: real files in, real DuckDB warehouses out, no mocks."""

from __future__ import annotations

import copy
import hashlib
import math
import random
from pathlib import Path

import duckdb
import numpy as np
import pytest
from support.cli import assert_succeeded
from support.processes import run_process

from spotclust import __version__
from spotclust.files.ingest import COLUMN_TYPES, shipped_dataset

COLUMNS = list(COLUMN_TYPES)
HEADER = ["", *COLUMNS]
DEFAULT_FEATURES = [
    "popularity",
    "explicit",
    "danceability",
    "energy",
    "key",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "tempo",
    "time_signature",
]
OTHER_FEATURES = ["loudness", "valence", "duration_ms"]
RAW_COLUMNS = ", ".join(f'"{c}"' for c in COLUMNS)


def col(name: str) -> int:
    """Position of a column in a fixture row (which starts with the index)."""
    return HEADER.index(name)


def typed(column: str, text: str):
    """The value a field of the file should become in raw_tracks."""
    if text == "":
        return None
    kind = COLUMN_TYPES[column]
    if kind in ("INTEGER", "BIGINT"):
        return int(text)
    if kind == "DOUBLE":
        return float(text)
    if kind == "BOOLEAN":
        return {"True": True, "False": False}[text]
    return text


def raw_rows(query, db: Path) -> list[tuple]:
    """(row_number, track_id, ..., track_genre) for every raw_tracks row, in file order."""
    return query(db, f"SELECT row_number, {RAW_COLUMNS} FROM raw_tracks ORDER BY row_number")


def report(query, db: Path) -> list[tuple]:
    return query(
        db,
        "SELECT step, name, rows_in, rows_out, rows_removed, reason "
        "FROM cleaning_report ORDER BY step",
    )


def ingest_ok(run_cli, path: Path, db: Path):
    return assert_succeeded(run_cli("ingest", path, "--db", db))


# =================================================================== the full shipped dataset


def test_full_raw_tracks_has_every_row_genre_and_track(full_db, query):
    [(rows, genres, tracks, first, last, contiguous)] = query(
        full_db,
        """
        SELECT count(*), count(DISTINCT track_genre), count(DISTINCT track_id),
               min(row_number), max(row_number), bool_and(source_index = row_number - 1)
        FROM raw_tracks
        """,
    )
    assert (rows, genres, tracks) == (114_000, 114, 89_741)
    assert (first, last, contiguous) == (1, 114_000, True)
    per_genre = query(full_db, "SELECT DISTINCT count(*) FROM raw_tracks GROUP BY track_genre")
    assert per_genre == [(1000,)]


def test_full_raw_tracks_first_row_is_typed_as_in_the_file(full_db, query):
    first = query(full_db, f"SELECT {RAW_COLUMNS} FROM raw_tracks WHERE row_number = 1")[0]
    assert first == (
        "5SuOikwiRyPMVoIQDJUgSV",
        "Gen Hoshino",
        "Comedy",
        "Comedy",
        73,
        230666,
        False,
        0.676,
        0.461,
        1,
        -6.746,
        0,
        0.143,
        0.0322,
        1.01e-06,
        0.358,
        0.715,
        87.917,
        4,
        "acoustic",
    )


def test_full_ingests_records_the_file_and_its_sha256(full_db, query):
    path = shipped_dataset()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    rows = query(
        full_db,
        "SELECT ingest_id, source_path, source_sha256, source_bytes, source_format, rows, "
        "finished_at >= started_at, spotclust_version FROM ingests",
    )
    assert rows == [
        (1, str(path.resolve()), digest, path.stat().st_size, "csv.gz", 114_000, True, __version__)
    ]
    assert query(full_db, "SELECT DISTINCT ingest_id FROM raw_tracks") == [(1,)]


def test_full_tracks_has_one_row_per_track(full_db, query):
    [(rows, ids, unknown)] = query(
        full_db,
        """
        SELECT count(*), count(DISTINCT track_id),
               count(*) FILTER (WHERE track_id NOT IN (SELECT track_id FROM raw_tracks))
        FROM tracks
        """,
    )
    assert rows == ids == 88_732
    assert unknown == 0
    # every clean track keeps the first valid listing of its track_id in file order
    [(not_first,)] = query(
        full_db,
        """
        SELECT count(*) FROM tracks AS t
        WHERE t.row_number <> (SELECT min(v.row_number) FROM valid_rows AS v
                               WHERE v.track_id = t.track_id)
        """,
    )
    assert not_first == 0


def test_full_track_genres_covers_every_genre(full_db, query):
    genres = {g for (g,) in query(full_db, "SELECT DISTINCT genre FROM track_genres")}
    raw = {g for (g,) in query(full_db, "SELECT DISTINCT track_genre FROM raw_tracks")}
    assert len(genres) == 114
    assert genres == raw
    [(pairs, distinct_pairs, tracks)] = query(
        full_db,
        "SELECT count(*), count(DISTINCT (track_id, genre)), count(DISTINCT track_id) "
        "FROM track_genres",
    )
    assert pairs == distinct_pairs
    assert tracks == query(full_db, "SELECT count(*) FROM tracks")[0][0]
    # genre_count in tracks agrees with track_genres
    [(mismatched,)] = query(
        full_db,
        """
        SELECT count(*) FROM tracks AS t
        JOIN (SELECT track_id, count(*) AS n FROM track_genres GROUP BY track_id) AS g
          USING (track_id)
        WHERE t.genre_count <> g.n
        """,
    )
    assert mismatched == 0


def test_full_cleaning_report_steps_chain(full_db, query):
    steps = report(query, full_db)
    assert [s[:2] for s in steps] == [
        (1, "load"),
        (2, "missing values"),
        (3, "impossible values"),
        (4, "duplicate rows"),
        (5, "one row per track"),
    ]
    assert steps[0][2] == steps[0][3] == 114_000
    for (_, _, rows_in, rows_out, removed, reason), after in zip(
        steps, [*steps[1:], None], strict=True
    ):
        assert removed == rows_in - rows_out >= 0
        assert reason
        if after is not None:
            assert rows_out == after[2], "rows_out of a step must be rows_in of the next"
    # the file's documented quirks (data/SOURCE.md): one row with empty fields, 157 tempo 0
    assert steps[1][2:4] == (114_000, 113_999)
    assert "tempo <= 0: 157" in steps[2][5]
    assert "time_signature outside 3..7" in steps[2][5]
    assert [s[3] for s in steps] == [114_000, 113_999, 112_863, 112_419, 88_732]
    assert steps[-1][3] == query(full_db, "SELECT count(*) FROM tracks")[0][0]


def test_full_feature_selection_default_is_the_12_original_features(full_db, query):
    rows = query(full_db, "SELECT feature, in_default, reason FROM feature_selection")
    assert [f for f, d, _ in rows if d] == DEFAULT_FEATURES
    assert sorted(f for f, d, _ in rows if not d) == sorted(OTHER_FEATURES)
    assert all(reason for _, _, reason in rows)
    loudness = next(reason for f, _, reason in rows if f == "loudness")
    assert "energy" in loudness


def test_full_feature_correlations(full_db, query):
    rows = query(full_db, "SELECT feature_a, feature_b, r FROM feature_correlations")
    assert len(rows) == 15 * 15
    features = {a for a, _, _ in rows}
    assert features == set(DEFAULT_FEATURES + OTHER_FEATURES)
    r = {(a, b): value for a, b, value in rows}
    assert len(r) == 225
    for f in features:
        assert r[f, f] == pytest.approx(1.0)
    for (a, b), value in r.items():
        assert -1.0 - 1e-9 <= value <= 1.0 + 1e-9
        assert value == pytest.approx(r[b, a], abs=1e-12)
    assert 0.7 < r["loudness", "energy"] < 0.8
    assert r["energy", "acousticness"] < -0.7
    # the same as numpy's Pearson r over the clean tracks, for every pair
    con = duckdb.connect(str(full_db), read_only=True)
    try:
        order = sorted(features)
        columns = ", ".join(f'CAST("{f}" AS DOUBLE)' for f in order)
        matrix = con.execute(f"SELECT {columns} FROM tracks").fetchnumpy()
    finally:
        con.close()
    expected = np.corrcoef(np.column_stack(list(matrix.values())), rowvar=False)
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            assert r[a, b] == pytest.approx(expected[i, j], abs=1e-9), (a, b)


def test_a_constant_feature_has_no_correlation(tmp_path, small, make_csv, run_cli, query):
    """NULL, not NaN: NaN would sort above every r and win "most correlated with"."""
    rows = copy.deepcopy(small.rows)
    for row in rows:
        row[small.header.index("mode")] = "1"
    db = tmp_path / "w.duckdb"
    run = run_cli("ingest", make_csv(tmp_path / "constant.csv", small.header, rows), "--db", db)
    assert run.exit_code == 0, run.output
    r = dict(query(db, "SELECT feature_a || '~' || feature_b, r FROM feature_correlations"))
    assert len(r) == 225
    features = {k.split("~")[0] for k in r}
    nulls = {k for k, v in r.items() if v is None}
    assert nulls == {f"{a}~{b}" for a in features for b in features if "mode" in (a, b)}
    assert not any(isinstance(v, float) and math.isnan(v) for v in r.values())
    selection = dict(query(db, "SELECT feature, most_correlated_with FROM feature_selection"))
    assert selection["mode"] is None
    assert "mode" not in selection.values() and None not in (
        v for f, v in selection.items() if f != "mode"
    )


# =========================================================================== the small fixture


def test_small_cleaning_counts_are_exact(small_db, small, query):
    steps = report(query, small_db)
    assert [s[:4] for s in steps] == small.expected_report
    assert [s[4] for s in steps] == [0, 1, 2, 1, 1]
    assert steps[2][5].endswith("tempo <= 0: 1; time_signature outside 3..7: 1")


def test_small_raw_tracks_holds_the_file_values_typed(small_db, small, query):
    rows = query(
        small_db, f"SELECT row_number, source_index, {RAW_COLUMNS} FROM raw_tracks ORDER BY 1"
    )
    expected = [
        (i + 1, i, *(typed(c, v) for c, v in zip(COLUMNS, r[1:], strict=True)))
        for i, r in enumerate(small.rows)
    ]
    assert rows == expected
    assert rows[small.empty_artists][3] is None


def test_small_rows_set_aside_for_the_right_reason(small_db, small, query):
    checks = dict(
        (n - 1, (missing, problems, copy))
        for n, missing, problems, copy in query(
            small_db, "SELECT row_number, has_missing, problems, is_duplicate FROM row_checks"
        )
    )
    assert checks[small.empty_artists][0] is True
    assert checks[small.zero_tempo] == (False, ["tempo <= 0"], False)
    assert checks[small.zero_time_signature] == (False, ["time_signature outside 3..7"], False)
    assert checks[small.duplicate] == (False, [], True)
    assert checks[small.duplicate_of] == (False, [], False)
    set_aside = {
        p for p, (missing, problems, copy) in checks.items() if missing or problems or copy
    }
    assert set_aside == {
        small.empty_artists,
        small.zero_tempo,
        small.zero_time_signature,
        small.duplicate,
    }
    valid = {n - 1 for (n,) in query(small_db, "SELECT row_number FROM valid_rows")}
    assert valid == set(range(60)) - set_aside


def test_small_tracks_keep_the_first_listing_in_file_order(small_db, small, query):
    track_id = small.value(small.repeat_first, "track_id")
    assert small.value(small.repeat_second, "track_id") == track_id
    rows = query(
        small_db,
        "SELECT row_number, genre, popularity, genre_count FROM tracks WHERE track_id = ?",
        [track_id],
    )
    # the first listing (techno) wins, though acoustic sorts first and is more popular
    assert rows == [
        (small.repeat_first + 1, "techno", int(small.value(small.repeat_first, "popularity")), 2)
    ]
    dup_id = small.value(small.duplicate, "track_id")
    assert query(small_db, "SELECT row_number FROM tracks WHERE track_id = ?", [dup_id]) == [
        (small.duplicate_of + 1,)
    ]
    [(count, ids)] = query(small_db, "SELECT count(*), count(DISTINCT track_id) FROM tracks")
    assert count == ids == 55


def test_small_track_genres_lists_both_genres_of_a_repeated_track(small_db, small, query):
    track_id = small.value(small.repeat_first, "track_id")
    genres = query(
        small_db, "SELECT genre FROM track_genres WHERE track_id = ? ORDER BY genre", [track_id]
    )
    assert genres == [("acoustic",), ("techno",)]
    assert query(small_db, "SELECT count(*) FROM track_genres")[0][0] == 56


def test_ingest_prints_a_summary(tmp_path, small_csv, run_cli):
    run = ingest_ok(run_cli, small_csv, tmp_path / "w.duckdb")
    assert "60" in run.stdout and "55" in run.stdout
    assert "cleaning_report" in run.stdout
    assert run.stderr == ""


# ======================================================================= choosing the warehouse


def test_db_option_chooses_the_warehouse_file(tmp_path, small_csv, run_cli, query, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "deep" / "er" / "mine.duckdb"
    ingest_ok(run_cli, small_csv, db)
    assert db.is_file()
    assert not (tmp_path / "warehouse").exists()
    assert query(db, "SELECT count(*) FROM raw_tracks") == [(60,)]


def test_env_var_chooses_the_warehouse_file(tmp_path, small_csv, run_cli, query, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "from_env.duckdb"
    run = run_cli("ingest", small_csv, env={"SPOTCLUST_DB": str(db)})
    assert run.exit_code == 0, run.output
    assert db.is_file()
    assert not (tmp_path / "warehouse").exists()
    assert query(db, "SELECT count(*) FROM raw_tracks") == [(60,)]
    run = run_cli(
        "sql", "SELECT count(*) AS n FROM tracks", "--format", "csv", env={"SPOTCLUST_DB": str(db)}
    )
    assert run.stdout.split() == ["n", "55"]


def test_db_option_wins_over_env_var(tmp_path, small_csv, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from_env, from_option = tmp_path / "env.duckdb", tmp_path / "option.duckdb"
    run = run_cli("ingest", small_csv, "--db", from_option, env={"SPOTCLUST_DB": str(from_env)})
    assert run.exit_code == 0, run.output
    assert from_option.is_file()
    assert not from_env.exists()


def test_default_warehouse_is_under_the_cwd_in_process(tmp_path, small_csv, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = run_cli("ingest", "small.csv")
    assert run.exit_code == 0, run.output
    assert (tmp_path / "warehouse" / "spotclust.duckdb").is_file()


def test_default_warehouse_is_under_the_cwd_subprocess(tmp_path, small_csv, query):
    run = run_process(["ingest", "small.csv"], cwd=tmp_path)
    assert run.exit_code == 0, run.output
    db = tmp_path / "warehouse" / "spotclust.duckdb"
    assert db.is_file()
    assert query(db, "SELECT rows, source_path FROM ingests") == [(60, str(small_csv.resolve()))]
    run = run_process(
        ["sql", "SELECT count(*) AS n FROM raw_tracks", "--format", "csv"], cwd=tmp_path
    )
    assert run.exit_code == 0, run.output
    assert run.stdout.split() == ["n", "60"]


# ======================================================================== other shapes of input


def test_reingesting_the_same_file_changes_nothing_other_data_replaces_it(
    tmp_path, small, small_db, small_csv, make_csv, run_cli, query, snapshot
):
    [first] = query(small_db, "SELECT ingest_id, source_path, source_sha256, rows FROM ingests")
    assert first[0] == 1 and first[3] == 60
    assert first[2] == hashlib.sha256(Path(first[1]).read_bytes()).hexdigest()
    # the same file, and the same content under another name: nothing is written at all
    before, content = snapshot(small_db), small_db.read_bytes()
    for same in (Path(first[1]), small_csv):
        run = ingest_ok(run_cli, same, small_db)
        assert run.stdout.strip() == (
            f"already ingested: {same} has the same content as ingest 1; nothing changed"
        )
        assert snapshot(small_db) == before
        assert small_db.read_bytes() == content
    # the same file read another way (its genre from another column) is an ingest
    assert_succeeded(run_cli("ingest", small_csv, "--label-column", "album_name", "--db", small_db))
    assert query(small_db, "SELECT max(ingest_id), count(*) FROM ingests") == [(2, 2)]
    ingest_ok(run_cli, small_csv, small_db)  # and back: not the latest ingest's reading
    assert query(small_db, "SELECT max(ingest_id), count(*) FROM ingests") == [(3, 3)]
    first = (3, str(small_csv.resolve()), first[2], 60)
    # other data replaces the rows and adds an ingests row
    second = make_csv(tmp_path / "second.csv", small.header, small.rows[:20])
    ingest_ok(run_cli, second, small_db)
    assert query(small_db, "SELECT count(*), min(ingest_id), max(ingest_id) FROM raw_tracks") == [
        (20, 4, 4)
    ]
    assert query(
        small_db,
        "SELECT ingest_id, source_path, source_sha256, rows FROM ingests "
        "WHERE ingest_id >= 3 ORDER BY 1",
    ) == [
        first,
        (4, str(second.resolve()), hashlib.sha256(second.read_bytes()).hexdigest(), 20),
    ]
    assert raw_rows(query, small_db) == [
        (i + 1, *(typed(c, v) for c, v in zip(COLUMNS, r[1:], strict=True)))
        for i, r in enumerate(small.rows[:20])
    ]
    steps = report(query, small_db)
    assert steps[0][2:4] == (20, 20)
    # rows 0-19 hold the empty artists (2), the zero tempo (12) and the repeated track (4)
    assert steps[-1][3] == 18


def _parquet(tmp_path: Path, csv_path: Path, *, text: bool) -> Path:
    """The CSV rewritten as Parquet by DuckDB: typed columns, or every column as text."""
    out = tmp_path / ("text.parquet" if text else "typed.parquet")
    options = "all_varchar = true" if text else "types = $types"
    params = {"p": str(csv_path)} if text else {"p": str(csv_path), "types": COLUMN_TYPES}
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE source AS FROM read_csv($p, header = true, {options})", params)
        con.execute(f"COPY source TO '{out}' (FORMAT parquet)")
    finally:
        con.close()
    return out


def _gz(tmp_path, small, make_csv):
    return make_csv(tmp_path / "same.csv.gz", small.header, small.rows, gz=True), "csv.gz", True


def _gz_named_csv(tmp_path, small, make_csv):
    path = make_csv(tmp_path / "gzip_inside.csv", small.header, small.rows, gz=True)
    return path, "csv.gz", True


def _plain_named_gz(tmp_path, small, make_csv):
    path = make_csv(tmp_path / "plain_inside.csv.gz", small.header, small.rows)
    return path, "csv", True


def _parquet_typed(tmp_path, small, make_csv):
    return _parquet(tmp_path, tmp_path / "small.csv", text=False), "parquet", True


def _parquet_text(tmp_path, small, make_csv):
    return _parquet(tmp_path, tmp_path / "small.csv", text=True), "parquet", True


def _no_index(tmp_path, small, make_csv):
    header, rows = small.without_index()
    return make_csv(tmp_path / "no_index.csv", header, rows), "csv", False


def _reordered(tmp_path, small, make_csv):
    order = [0, *reversed(range(1, len(HEADER)))]  # index first, named columns reversed
    header = [small.header[i] for i in order]
    rows = [[r[i] for i in order] for r in small.rows]
    return make_csv(tmp_path / "reordered.csv", header, rows), "csv", True


def _shuffled_no_index(tmp_path, small, make_csv):
    order = list(range(1, len(HEADER)))
    random.Random(3).shuffle(order)
    header = [small.header[i] for i in order]
    rows = [[r[i] for i in order] for r in small.rows]
    return make_csv(tmp_path / "shuffled.csv", header, rows), "csv", False


SAME_DATA = {
    "csv.gz": _gz,
    "gzip named .csv": _gz_named_csv,
    "plain csv named .gz": _plain_named_gz,
    "parquet typed": _parquet_typed,
    "parquet all text": _parquet_text,
    "no index column": _no_index,
    "reordered columns": _reordered,
    "shuffled columns, no index": _shuffled_no_index,
}


@pytest.mark.parametrize("build", SAME_DATA.values(), ids=SAME_DATA.keys())
def test_other_shapes_of_the_same_data_load_the_same(
    build, tmp_path, small, small_db, small_csv, make_csv, run_cli, query
):
    expected_rows = raw_rows(query, small_db)
    expected_report = report(query, small_db)
    # the baseline itself is the fixture file, value for value
    assert expected_rows == [
        (i + 1, *(typed(c, v) for c, v in zip(COLUMNS, r[1:], strict=True)))
        for i, r in enumerate(small.rows)
    ]
    path, fmt, has_index = build(tmp_path, small, make_csv)
    db = tmp_path / "other.duckdb"
    ingest_ok(run_cli, path, db)
    assert raw_rows(query, db) == expected_rows
    assert report(query, db) == expected_report
    assert query(db, "SELECT source_format, rows FROM ingests") == [(fmt, 60)]
    indexes = [i for (i,) in query(db, "SELECT source_index FROM raw_tracks ORDER BY row_number")]
    assert indexes == (list(range(60)) if has_index else [None] * 60)


# ================================================================================= bad input


def _rows(small):
    return copy.deepcopy(small.rows)


def _missing_file(tmp, small, make_csv):
    return tmp / "nowhere.csv", ["no such file"]


def _directory(tmp, small, make_csv):
    (tmp / "a_folder").mkdir()
    return tmp / "a_folder", ["directory"]


def _empty_file(tmp, small, make_csv):
    (tmp / "empty.csv").write_bytes(b"")
    return tmp / "empty.csv", ["empty"]


def _header_only(tmp, small, make_csv):
    return make_csv(tmp / "header_only.csv", small.header, []), ["no data rows"]


def _missing_column(tmp, small, make_csv):
    keep = [i for i, c in enumerate(small.header) if c != "energy"]
    header = [small.header[i] for i in keep]
    rows = [[r[i] for i in keep] for r in small.rows]
    return make_csv(tmp / "no_energy.csv", header, rows), ["missing column", "energy"]


def _extra_column(tmp, small, make_csv):
    header = [*small.header, "bonus"]
    rows = [[*r, "1"] for r in small.rows]
    return make_csv(tmp / "extra.csv", header, rows), ["unexpected column", "bonus"]


def _renamed_column(tmp, small, make_csv):
    header = ["pop" if c == "popularity" else c for c in small.header]
    return make_csv(tmp / "renamed.csv", header, small.rows), [
        "missing column(s) popularity",
        "pop",
    ]


def _text_in_number(tmp, small, make_csv):
    rows = _rows(small)
    rows[30][col("popularity")] = "abc"
    return make_csv(tmp / "text.csv", small.header, rows), ["popularity", "line 32", "'abc'"]


def _explicit_maybe(tmp, small, make_csv):
    rows = _rows(small)
    rows[7][col("explicit")] = "maybe"
    return make_csv(tmp / "maybe.csv", small.header, rows), ["explicit", "line 9", "'maybe'"]


def _truncated_gzip(tmp, small, make_csv):
    whole = make_csv(tmp / "whole.csv.gz", small.header, small.rows, gz=True).read_bytes()
    (tmp / "cut.csv.gz").write_bytes(whole[: len(whole) // 2])
    return tmp / "cut.csv.gz", ["gzip"]


def _corrupt_gzip(tmp, small, make_csv):
    data = bytearray(make_csv(tmp / "ok.csv.gz", small.header, small.rows, gz=True).read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 200):
        data[i] ^= 0x5A
    (tmp / "corrupt.csv.gz").write_bytes(bytes(data))
    return tmp / "corrupt.csv.gz", ["corrupt gzip"]


def _parquet_other_columns(tmp, small, make_csv):
    path = tmp / "other.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1 AS a, 'x' AS b) TO '{path}' (FORMAT parquet)")
    con.close()
    return path, ["track_id"]


def _parquet_text_in_number(tmp, small, make_csv):
    src = make_csv(tmp / "for_parquet.csv", small.header, small.rows)
    path = tmp / "bad_value.parquet"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * REPLACE (CASE WHEN column00 = '30' THEN 'abc' ELSE popularity END
                                   AS popularity)
                  FROM read_csv('{src}', header = true, all_varchar = true))
            TO '{path}' (FORMAT parquet)"""
    )
    con.close()
    return path, ["popularity", "row 31", "'abc'"]


def _not_really_parquet(tmp, small, make_csv):
    (tmp / "fake.parquet").write_bytes(b"this is not a parquet file\n")
    return tmp / "fake.parquet", ["parquet"]


def _truncated_parquet(tmp, small, make_csv):
    src = make_csv(tmp / "for_parquet.csv", small.header, small.rows)
    whole = tmp / "whole.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (FROM read_csv('{src}')) TO '{whole}' (FORMAT parquet)")
    con.close()
    data = whole.read_bytes()
    (tmp / "cut.parquet").write_bytes(data[: len(data) // 2])
    return tmp / "cut.parquet", ["parquet"]


def _not_utf8(tmp, small, make_csv):
    rows = _rows(small)
    rows[40][col("album_name")] = "@@MARK@@"
    text = make_csv(tmp / "utf8.csv", small.header, rows).read_bytes()
    (tmp / "latin1.csv").write_bytes(text.replace(b"@@MARK@@", b"Caf\xe9 \xff"))
    return tmp / "latin1.csv", ["UTF-8", "line 42"]


def _png(tmp, small, make_csv):
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(1).randbytes(2000)
    (tmp / "cover.png").write_bytes(data)
    return tmp / "cover.png", ["not a CSV"]


def _random_bytes(tmp, small, make_csv):
    (tmp / "noise.csv").write_bytes(random.Random(2).randbytes(4096))
    return tmp / "noise.csv", ["not a CSV"]


def _too_many_fields(tmp, small, make_csv):
    rows = _rows(small)
    rows[20].append("surplus")
    return make_csv(tmp / "too_many.csv", small.header, rows), ["line 22", "22 fields"]


def _too_few_fields(tmp, small, make_csv):
    rows = _rows(small)
    rows[50].pop()
    return make_csv(tmp / "too_few.csv", small.header, rows), ["line 52", "20 fields"]


def _too_many_fields_late(tmp, small, make_csv):
    # beyond DuckDB's 20,480-row sniffing sample, the reader itself finds the bad line
    rows = [[str(i), *small.rows[i % 60][1:]] for i in range(25_000)]
    rows[24_000].append("surplus")
    return make_csv(tmp / "late.csv", small.header, rows), ["line 24002", "22 fields"]


BAD_INPUTS = {
    "missing file": _missing_file,
    "directory": _directory,
    "empty file": _empty_file,
    "header only": _header_only,
    "text in numeric column": _text_in_number,
    "explicit = maybe": _explicit_maybe,
    "truncated gzip": _truncated_gzip,
    "corrupt gzip": _corrupt_gzip,
    "parquet with other columns": _parquet_other_columns,
    "parquet with text in a numeric column": _parquet_text_in_number,
    "not really parquet": _not_really_parquet,
    "truncated parquet": _truncated_parquet,
    "non-UTF-8 bytes": _not_utf8,
    "PNG file": _png,
    "random bytes": _random_bytes,
    "row with too many fields": _too_many_fields,
    "row with too few fields": _too_few_fields,
    "too many fields past the sniff sample": _too_many_fields_late,
}


# Files of other shapes are read (their columns matched by name), so a column missing,
# renamed or extra is not an error: a missing column is absent (it leaves the features),
# any other column is kept in raw_tracks.extra, unused, and the output names both.
OTHER_COLUMNS = {  # (file, what ingest says, the feature left out, the columns kept unused)
    "missing column": (
        _missing_column, "Not in this file (left out of the features): energy", "energy", []
    ),
    "renamed column": (
        _renamed_column, "Kept in raw_tracks.extra but not used: pop", "popularity", ["pop"],
    ),
    "extra column": (
        _extra_column, "Kept in raw_tracks.extra but not used: bonus", None, ["bonus"]
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", OTHER_COLUMNS.values(), ids=OTHER_COLUMNS.keys())
def test_a_missing_renamed_or_extra_column_loads_and_is_named(
    case, tmp_path, small, small_db, make_csv, run_cli, query
):
    build, said, absent, kept = case
    path, _ = build(tmp_path, small, make_csv)
    run = run_cli("ingest", path, "--db", small_db)
    assert run.exit_code == 0, run.output
    assert said in run.stdout
    available = dict(query(small_db, "SELECT feature, available FROM feature_candidates"))
    assert [f for f, ok in available.items() if not ok] == ([absent] if absent else [])
    [(shape, ignored)] = query(
        small_db, "SELECT shape, ignored_columns FROM ingests ORDER BY ingest_id DESC LIMIT 1"
    )
    assert (shape, ignored) == ("spotify_tracks", kept)
    for column in kept:  # kept as the file's text, row by row
        values = query(small_db, "SELECT DISTINCT extra[$c] FROM raw_tracks", {"c": column})
        assert values and all(v is not None for (v,) in values)


@pytest.mark.parametrize("build", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_fails_in_one_line_and_leaves_the_warehouse_unchanged(
    build, tmp_path, small, small_db, make_csv, run_cli, snapshot, assert_one_line_error
):
    before = snapshot(small_db)
    assert len(before["raw_tracks"]) == 60 and len(before["ingests"]) == 1
    path, needles = build(tmp_path, small, make_csv)
    run = run_cli("ingest", path, "--db", small_db)
    assert_one_line_error(run, path.name, *needles)
    assert snapshot(small_db) == before


def test_bad_input_as_a_subprocess(
    tmp_path, small, small_db, make_csv, snapshot, assert_one_line_error
):
    before = snapshot(small_db)
    path, needles = _text_in_number(tmp_path, small, make_csv)
    run = run_process(["ingest", path.name, "--db", small_db], cwd=tmp_path)
    line = assert_one_line_error(run, path.name, *needles)
    assert line.startswith("Error: ")
    assert run.exit_code == 1
    assert snapshot(small_db) == before


@pytest.mark.parametrize("build", [_text_in_number, _header_only], ids=["text", "header only"])
def test_failed_first_ingest_leaves_no_warehouse(
    build, tmp_path, small, make_csv, run_cli, assert_one_line_error
):
    path, _ = build(tmp_path, small, make_csv)
    db = tmp_path / "fresh.duckdb"
    assert_one_line_error(run_cli("ingest", path, "--db", db), path.name)
    assert not db.exists()
    assert not (tmp_path / "fresh.duckdb.wal").exists()
    run = run_cli("sql", "SELECT count(*) FROM raw_tracks", "--db", db)
    assert_one_line_error(run, "spotclust ingest")


# ==================================================== bad but typed values: set aside, not fatal


TYPED_BUT_IMPOSSIBLE = [
    ("tempo", "-5.0", "tempo <= 0"),
    ("danceability", "3.5", "0..1 feature outside 0..1"),
    ("energy", "nan", "NaN or infinite number"),
    ("loudness", "inf", "NaN or infinite number"),
    ("tempo", "-inf", "NaN or infinite number"),
    ("popularity", "101", "popularity outside 0..100"),
    ("key", "12", "key outside -1..11"),
    ("mode", "2", "mode not 0/1"),
    ("duration_ms", "0", "duration_ms <= 0"),
    ("time_signature", "9", "time_signature outside 3..7"),
]


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    TYPED_BUT_IMPOSSIBLE,
    ids=[f"{c}={v}" for c, v, _ in TYPED_BUT_IMPOSSIBLE],
)
def test_impossible_values_are_set_aside_not_fatal(
    column, value, rule, tmp_path, small, make_csv, run_cli, query
):
    position = 45
    rows = _rows(small)
    rows[position][col(column)] = value
    path = make_csv(tmp_path / "impossible.csv", small.header, rows)
    db = tmp_path / "w.duckdb"
    ingest_ok(run_cli, path, db)
    [(loaded,)] = query(
        db, f'SELECT "{column}" FROM raw_tracks WHERE row_number = ?', [position + 1]
    )
    expected = typed(column, value)
    assert loaded == expected or (math.isnan(expected) and math.isnan(loaded))
    steps = report(query, db)
    assert steps[2][2:4] == (59, 56)  # the fixture's two, plus this one
    planted = {"tempo <= 0": 1, "time_signature outside 3..7": 1}  # by the fixture itself
    assert f"{rule}: {planted.get(rule, 0) + 1}" in steps[2][5]
    [(problems,)] = query(
        db, "SELECT problems FROM row_checks WHERE row_number = ?", [position + 1]
    )
    assert rule in problems
    assert query(db, "SELECT count(*) FROM valid_rows WHERE row_number = ?", [position + 1]) == [
        (0,)
    ]


def test_empty_track_id_in_a_csv_is_a_missing_value(tmp_path, small, make_csv, run_cli, query):
    rows = _rows(small)
    rows[45][col("track_id")] = ""
    path = make_csv(tmp_path / "no_id.csv", small.header, rows)
    db = tmp_path / "w.duckdb"
    ingest_ok(run_cli, path, db)
    steps = report(query, db)
    assert steps[1][2:4] == (60, 58)  # an empty CSV field is NULL: set aside as missing
    assert steps[2][2:4] == (58, 56)
    assert query(db, "SELECT count(*) FROM tracks WHERE track_id IS NULL") == [(0,)]


def test_empty_track_id_in_parquet_is_an_impossible_value(
    tmp_path, small, small_csv, run_cli, query
):
    path = tmp_path / "empty_id.parquet"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * REPLACE (CASE WHEN column00 = 45 THEN '' ELSE track_id END
                                   AS track_id)
                  FROM read_csv('{small_csv}', header = true))
            TO '{path}' (FORMAT parquet)"""
    )
    con.close()
    db = tmp_path / "w.duckdb"
    ingest_ok(run_cli, path, db)
    steps = report(query, db)
    assert steps[2][2:4] == (59, 56)
    assert "empty track_id: 1" in steps[2][5]
    assert query(db, "SELECT count(*) FROM tracks WHERE track_id = ''") == [(0,)]
